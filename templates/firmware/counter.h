/* The board's cycle counter: DWT CYCCNT (Cortex-M3 and up), mcycle (RISC-V), SysTick, or an nRF TIMER at the core
   clock. COUNTER_REAL is 0 where the board has none. */
#ifndef OMPQC_COUNTER_H
#define OMPQC_COUNTER_H

#include <stdint.h>

void counter_init(void);
uint32_t counter_read(void);

#endif
