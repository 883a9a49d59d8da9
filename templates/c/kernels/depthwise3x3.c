/* Depthwise 3x3 convolutions, portable C (the reference among the C kernels). */
#include "ompqc.h"
#include "plane.h"

/* Output rows of a depthwise 3x3 channel: sums[y * n + x] = bias + the window at column x * sx of plane rows
   y * sy + (0, 1, 2) (each pw long) from r, taps t[0..8]. The taps are held in locals: the stores to sums could
   alias t, and would reload them. */
OMPQC_HOT static void dw3x3_rows(const int16_t *r, int32_t pw, int32_t sx, int32_t sy, int32_t rows, int32_t n,
                                 const int32_t *t, int32_t bias, int32_t *sums) {
    const int32_t t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7], t8 = t[8];
    int32_t y;
    for (y = 0; y < rows; y++, r += sy * pw) {
        const int16_t *r0 = r, *r1 = r + pw, *r2 = r1 + pw;
        int32_t *end = sums + n;
        if (sx == 1) {
            /* Each plane column loaded once, its products added to the three windows that hold it: `due` is the
               next output's sum (two columns in), `half` the one after it (one column in). On RISC-V two outputs
               a pass share the pointers' increments (Arm's 13 registers spill them). */
            int32_t due = bias + r0[0] * t0 + r1[0] * t3 + r2[0] * t6 + r0[1] * t1 + r1[1] * t4 + r2[1] * t7;
            int32_t half = bias + r0[1] * t0 + r1[1] * t3 + r2[1] * t6;
#ifdef __riscv
#pragma GCC unroll 2
#endif
            for (r0 += 2, r1 += 2, r2 += 2; sums < end; sums++, r0++, r1++, r2++) {
                const int32_t a = *r0, b = *r1, c = *r2;
                *sums = due + a * t2 + b * t5 + c * t8;
                due = half + a * t1 + b * t4 + c * t7;
                half = bias + a * t0 + b * t3 + c * t6;
            }
            continue;
        }
        for (; sums < end; sums++, r0 += sx, r1 += sx, r2 += sx) {
            *sums = bias + r0[0] * t0 + r0[1] * t1 + r0[2] * t2 + r1[0] * t3 + r1[1] * t4 + r1[2] * t5 + r2[0] * t6 +
                    r2[1] * t7 + r2[2] * t8;
        }
    }
}

#define plane_requantize requantize_row
#include "depthwise3x3.h"
