/* Depthwise convolutions other than 3x3 without dilation, portable C (the reference among the C kernels). */
#include "ompqc.h"
#include "plane.h"

/* Output rows of a depthwise channel: sums[y * n + x] = bias + the window at column x * stride_w of plane rows
   y * stride_h + ky * dil_h (each pw long) from r, with taps t (rows of an even count, the padding tap zero). */
OMPQC_HOT static void dw_rows(const int16_t *r, int32_t pw, const int16_t *t, const OMPQC_NS(conv_t) *p,
                              int32_t rows, int32_t bias, int32_t *sums) {
    const int32_t n = p->out_w, kh = p->k_h, kw = p->k_w, kwe = (kw + 1) & ~1, dh = p->dil_h * pw, dw = p->dil_w;
    const int32_t sx = p->stride_w, sy = p->stride_h * pw;
    int32_t y, x, ky, kx;
    for (y = 0; y < rows; y++, r += sy) {
        for (x = 0; x < n; x++) {
            const int16_t *q = r + x * sx;
            int32_t acc = bias;
            for (ky = 0; ky < kh; ky++, q += dh) {
                for (kx = 0; kx < kw; kx++) {
                    acc += q[kx * dw] * t[ky * kwe + kx];
                }
            }
            *sums++ = acc;
        }
    }
}

#define plane_requantize requantize_row
#include "depthwise.h"
