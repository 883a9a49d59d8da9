/* The console UART (one driver per UART family, uart_*.c), polled: no interrupts. */
#ifndef OMPQC_UART_H
#define OMPQC_UART_H

#include <stdint.h>

void uart_init(void);
void uart_write(uint8_t byte);
/* The next received byte, or -1 when none is waiting. */
int uart_read(void);
/* Blocks until a byte arrives. */
uint8_t uart_get(void);
void uart_print(const char *text);
void uart_print_u32(uint32_t value);

#endif
