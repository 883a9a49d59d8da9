/* nRF51/nRF52 UART (legacy, without EasyDMA): polled, 8N1, events cleared before each transfer. */
#include "board.h"
#include "uart.h"

#define UART(offset) (*(volatile uint32_t *)(BOARD_UART_BASE + (offset)))
#define TASKS_STARTRX 0x000u
#define TASKS_STARTTX 0x008u
#define EVENTS_RXDRDY 0x108u
#define EVENTS_TXDRDY 0x11Cu
#define ENABLE 0x500u
#define PSELTXD 0x50Cu
#define PSELRXD 0x514u
#define RXD 0x518u
#define TXD 0x51Cu
#define BAUDRATE 0x524u

void uart_init(void) {
    UART(PSELTXD) = BOARD_UART_TX_PIN;
    UART(PSELRXD) = BOARD_UART_RX_PIN;
    UART(BAUDRATE) = BOARD_UART_DIVISOR;
    UART(ENABLE) = 4u;
    UART(EVENTS_RXDRDY) = 0u;
    UART(TASKS_STARTRX) = 1u;
    UART(TASKS_STARTTX) = 1u;
}

void uart_write(uint8_t byte) {
    UART(EVENTS_TXDRDY) = 0u;
    UART(TXD) = byte;
    while (!UART(EVENTS_TXDRDY)) {
    }
}

int uart_read(void) {
    if (!UART(EVENTS_RXDRDY)) {
        return -1;
    }
    UART(EVENTS_RXDRDY) = 0u;
    return (int)(UART(RXD) & 0xFFu);
}
