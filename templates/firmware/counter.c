/* Cycle counters, one per kind the board file names (BOARD_COUNTER_*). Each counts up; differences of two reads
   are cycles modulo 2^32 (SysTick: modulo 2^24, extended by counting its wraps). */
#include "board.h"
#include "counter.h"

#define REG(address) (*(volatile uint32_t *)(address))

#if defined(BOARD_COUNTER_DWT)
#define DEMCR 0xE000EDFCu
#define DWT_CTRL 0xE0001000u
#define DWT_CYCCNT 0xE0001004u
#define DWT_LAR 0xE0001FB0u

void counter_init(void) {
    REG(DEMCR) |= 1u << 24; /* TRCENA: the DWT's clock */
    REG(DWT_LAR) = 0xC5ACCE55u; /* unlocks the DWT on cores that lock it (Cortex-M7); ignored elsewhere */
    REG(DWT_CYCCNT) = 0u;
    REG(DWT_CTRL) |= 1u;
}

uint32_t counter_read(void) {
    return REG(DWT_CYCCNT);
}
#elif defined(BOARD_COUNTER_MCYCLE)
void counter_init(void) {
}

uint32_t counter_read(void) {
    uint32_t cycles;
    __asm__ volatile("csrr %0, mcycle" : "=r"(cycles));
    return cycles;
}
#elif defined(BOARD_COUNTER_SYSTICK)
#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u

static volatile uint32_t wraps;

void SysTick_Handler(void);
void SysTick_Handler(void) {
    wraps++;
}

void counter_init(void) {
    REG(SYST_RVR) = 0x00FFFFFFu;
    REG(SYST_CVR) = 0u;
    REG(SYST_CSR) = 7u; /* the core clock, the wrap interrupt, enabled */
}

uint32_t counter_read(void) {
    uint32_t before, now;
    do {
        before = wraps;
        now = 0x00FFFFFFu - REG(SYST_CVR);
    } while (before != wraps);
    return (before << 24) + now;
}
#elif defined(BOARD_COUNTER_NRF_TIMER)
#define TIMER(offset) REG(BOARD_COUNTER_BASE + (offset))

void counter_init(void) {
    TIMER(0x504u) = 0u; /* MODE: timer */
    TIMER(0x508u) = 3u; /* BITMODE: 32 bits */
    TIMER(0x510u) = 0u; /* PRESCALER: the 16 MHz clock */
    TIMER(0x00Cu) = 1u; /* TASKS_CLEAR */
    TIMER(0x000u) = 1u; /* TASKS_START */
}

uint32_t counter_read(void) {
    TIMER(0x040u) = 1u; /* TASKS_CAPTURE[0] */
    return TIMER(0x540u); /* CC[0] */
}
#else
#error "board.h names no cycle counter"
#endif
