/* SiFive UART (FE310): polled, 8N1; the TX and RX FIFOs' full and empty flags are bit 31 of their data words. */
#include "board.h"
#include "uart.h"

#define UART(offset) (*(volatile uint32_t *)(BOARD_UART_BASE + (offset)))
#define TXDATA 0x00u
#define RXDATA 0x04u
#define TXCTRL 0x08u
#define RXCTRL 0x0Cu
#define DIV 0x18u
#define FIFO_FLAG (1u << 31)

void uart_init(void) {
    UART(DIV) = BOARD_UART_DIVISOR;
    UART(TXCTRL) = 1u;
    UART(RXCTRL) = 1u;
}

void uart_write(uint8_t byte) {
    while (UART(TXDATA) & FIFO_FLAG) {
    }
    UART(TXDATA) = byte;
}

int uart_read(void) {
    uint32_t word = UART(RXDATA);
    return (word & FIFO_FLAG) ? -1 : (int)(word & 0xFFu);
}
