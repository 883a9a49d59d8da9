/* STM32F7/L4/G4 USART (CR1, BRR, ISR, RDR, TDR): polled, 8N1; an overrun is cleared so reception goes on. */
#include "board.h"
#include "uart.h"

#define USART(offset) (*(volatile uint32_t *)(BOARD_UART_BASE + (offset)))
#define CR1 0x00u
#define BRR 0x0Cu
#define ISR 0x1Cu
#define ICR 0x20u
#define RDR 0x24u
#define TDR 0x28u
#define ISR_ORE (1u << 3)
#define ISR_RXNE (1u << 5)
#define ISR_TXE (1u << 7)
#define CR1_UE (1u << 0)
#define CR1_RE (1u << 2)
#define CR1_TE (1u << 3)

void uart_init(void) {
    USART(BRR) = BOARD_UART_DIVISOR;
    USART(CR1) = CR1_UE | CR1_TE | CR1_RE;
}

void uart_write(uint8_t byte) {
    while (!(USART(ISR) & ISR_TXE)) {
    }
    USART(TDR) = byte;
}

int uart_read(void) {
    uint32_t status = USART(ISR);
    if (status & ISR_ORE) {
        USART(ICR) = ISR_ORE;
    }
    if (!(status & ISR_RXNE)) {
        return -1;
    }
    return (int)(USART(RDR) & 0xFFu);
}
