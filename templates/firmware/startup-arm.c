/* Start-up code for Arm M-profile cores: the vector table (placed first in flash by link.ld), and the reset handler
   that copies initialised data from flash, clears the zero-initialised data, turns on the FPU where the code uses it
   and calls main. Every exception but SysTick stops in a loop a debugger can see. */
#include <stdint.h>

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[], __stack_top[];
int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

void Default_Handler(void) {
    for (;;) {
    }
}

void Reset_Handler(void) {
    uint32_t *from = __data_load, *to = __data_start;
    while (to < __data_end) {
        *to++ = *from++;
    }
    for (to = __bss_start; to < __bss_end;) {
        *to++ = 0u;
    }
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: full access to CP10 and CP11 */
    __asm__ volatile("dsb\n\tisb");
#endif
    main();
    Default_Handler();
}

typedef void (*Handler)(void);

/* The stack's top, then the reset, NMI, HardFault, MemManage, BusFault, UsageFault, SecureFault, three reserved
   entries, SVCall, DebugMonitor, a reserved entry, PendSV and SysTick. */
__attribute__((section(".vectors"), used)) const Handler ompqc_vectors[16] = {
    (Handler)(uintptr_t)__stack_top, Reset_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, Default_Handler,
    0, 0, 0, Default_Handler,
    Default_Handler, 0, Default_Handler, SysTick_Handler,
};
