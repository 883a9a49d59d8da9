/* STM32F1/F2/F4 USART (SR, DR, BRR, CR1): polled, 8N1. */
#include "board.h"
#include "uart.h"

#define USART(offset) (*(volatile uint32_t *)(BOARD_UART_BASE + (offset)))
#define SR 0x00u
#define DR 0x04u
#define BRR 0x08u
#define CR1 0x0Cu
#define SR_RXNE (1u << 5)
#define SR_TXE (1u << 7)
#define CR1_UE (1u << 13)
#define CR1_TE (1u << 3)
#define CR1_RE (1u << 2)

void uart_init(void) {
    USART(BRR) = BOARD_UART_DIVISOR;
    USART(CR1) = CR1_UE | CR1_TE | CR1_RE;
}

void uart_write(uint8_t byte) {
    while (!(USART(SR) & SR_TXE)) {
    }
    USART(DR) = byte;
}

int uart_read(void) {
    if (!(USART(SR) & SR_RXNE)) {
        return -1;
    }
    return (int)(USART(DR) & 0xFFu);
}
