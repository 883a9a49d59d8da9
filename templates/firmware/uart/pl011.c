/* Arm PrimeCell UART (PL011; the RP2040's UART0/1): polled, 8N1, FIFOs on. The divisor packs the integer part of
   the baud divisor above its 6-bit fraction. */
#include "board.h"
#include "uart.h"

#define UART(offset) (*(volatile uint32_t *)(BOARD_UART_BASE + (offset)))
#define DR 0x00u
#define FR 0x18u
#define IBRD 0x24u
#define FBRD 0x28u
#define LCR_H 0x2Cu
#define CR 0x30u
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)

void uart_init(void) {
    UART(CR) = 0u;
    UART(IBRD) = BOARD_UART_DIVISOR >> 6;
    UART(FBRD) = BOARD_UART_DIVISOR & 0x3Fu;
    UART(LCR_H) = (3u << 5) | (1u << 4); /* 8 bits, FIFOs enabled; the write latches the divisors */
    UART(CR) = (1u << 0) | (1u << 8) | (1u << 9); /* UARTEN, TXE, RXE */
}

void uart_write(uint8_t byte) {
    while (UART(FR) & FR_TXFF) {
    }
    UART(DR) = byte;
}

int uart_read(void) {
    if (UART(FR) & FR_RXFE) {
        return -1;
    }
    return (int)(UART(DR) & 0xFFu);
}
