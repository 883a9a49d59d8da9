/* Depthwise 3x3 convolutions, portable C (the reference among the C kernels). */
#include "ompqc.h"
#include "plane.h"

/* Output rows of a depthwise 3x3 channel: sums[y * n + x] = bias + the window at column x * sx of plane rows
   y * sy + (0, 1, 2) (each pw long) from r, taps t[0..8]. */
OMPQC_HOT static void dw3x3_rows(const int16_t *r, int32_t pw, int32_t sx, int32_t sy, int32_t rows, int32_t n,
                                 const int32_t *t, int32_t bias, int32_t *sums) {
    int32_t y;
    for (y = 0; y < rows; y++, r += sy * pw) {
        const int16_t *r0 = r, *r1 = r + pw, *r2 = r1 + pw;
        int32_t *end = sums + n;
        for (; sums < end; sums++, r0 += sx, r1 += sx, r2 += sx) {
            *sums = bias + r0[0] * t[0] + r0[1] * t[1] + r0[2] * t[2] + r1[0] * t[3] + r1[1] * t[4] + r1[2] * t[5] +
                    r2[0] * t[6] + r2[1] * t[7] + r2[2] * t[8];
        }
    }
}

#define plane_requantize requantize_row
#include "depthwise3x3.h"
