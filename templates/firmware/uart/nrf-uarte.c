/* nRF53/nRF52 UARTE (EasyDMA): 8N1. Each byte is one DMA transfer: a one-byte receive buffer restarted after
   every byte (bytes arriving in between wait in the UARTE's receive FIFO), and a one-byte transmit buffer. */
#include "board.h"
#include "uart.h"

#define UARTE(offset) (*(volatile uint32_t *)(BOARD_UART_BASE + (offset)))
#define TASKS_STARTRX 0x000u
#define TASKS_STARTTX 0x008u
#define EVENTS_ENDRX 0x110u
#define EVENTS_ENDTX 0x120u
#define ENABLE 0x500u
#define PSEL_TXD 0x50Cu
#define PSEL_RXD 0x514u
#define BAUDRATE 0x524u
#define RXD_PTR 0x534u
#define RXD_MAXCNT 0x538u
#define TXD_PTR 0x544u
#define TXD_MAXCNT 0x548u

static volatile uint8_t rx_byte;
static volatile uint8_t tx_byte;

static void start_rx(void) {
    UARTE(EVENTS_ENDRX) = 0u;
    UARTE(RXD_PTR) = (uint32_t)(uintptr_t)&rx_byte;
    UARTE(RXD_MAXCNT) = 1u;
    UARTE(TASKS_STARTRX) = 1u;
}

void uart_init(void) {
    UARTE(PSEL_TXD) = BOARD_UART_TX_PIN;
    UARTE(PSEL_RXD) = BOARD_UART_RX_PIN;
    UARTE(BAUDRATE) = BOARD_UART_DIVISOR;
    UARTE(ENABLE) = 8u;
    start_rx();
}

void uart_write(uint8_t byte) {
    tx_byte = byte;
    UARTE(EVENTS_ENDTX) = 0u;
    UARTE(TXD_PTR) = (uint32_t)(uintptr_t)&tx_byte;
    UARTE(TXD_MAXCNT) = 1u;
    UARTE(TASKS_STARTTX) = 1u;
    while (!UARTE(EVENTS_ENDTX)) {
    }
}

int uart_read(void) {
    int byte;
    if (!UARTE(EVENTS_ENDRX)) {
        return -1;
    }
    byte = rx_byte;
    start_rx();
    return byte;
}
