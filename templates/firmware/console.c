/* What every UART driver shares: blocking reads and text output without a C library's stdio. */
#include "uart.h"

uint8_t uart_get(void) {
    int byte;
    while ((byte = uart_read()) < 0) {
    }
    return (uint8_t)byte;
}

void uart_print(const char *text) {
    while (*text) {
        uart_write((uint8_t)*text++);
    }
}

void uart_print_u32(uint32_t value) {
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value);
    while (n) {
        uart_write((uint8_t)digits[--n]);
    }
}
