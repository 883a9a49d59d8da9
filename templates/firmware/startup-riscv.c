/* Start-up code for RV32 cores: _start (placed first in flash by link.ld) sets the global and stack pointers and a
   trap vector that stops in a loop, then the C part copies initialised data from flash, clears the zero-initialised
   data and calls main. */
#include <stdint.h>

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
int main(void);
void ompqc_reset(void);

__asm__(".section .text.start, \"ax\"\n"
        ".global _start\n"
        "_start:\n"
        ".option push\n"
        ".option norelax\n"
        "    la gp, __global_pointer$\n"
        ".option pop\n"
        "    la sp, __stack_top\n"
        "    la t0, ompqc_trap\n"
        "    csrw mtvec, t0\n"
        "    j ompqc_reset\n"
        ".align 2\n"
        "ompqc_trap:\n"
        "    j ompqc_trap\n");

void ompqc_reset(void) {
    uint32_t *from = __data_load, *to = __data_start;
    while (to < __data_end) {
        *to++ = *from++;
    }
    for (to = __bss_start; to < __bss_end;) {
        *to++ = 0u;
    }
    main();
    for (;;) {
    }
}
