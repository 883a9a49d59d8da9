/* Depthwise convolutions other than 3x3 without dilation on the Arm DSP extension: without dilation along the rows,
   each pair of a kernel row's taps one SMLAD (its inputs one word of the plane). */
#include "../ompqc.h"
#include "dsp.h"
#include "../plane.h"

/* acc plus the window at q: kh kernel rows dh apart, each kwe taps (even) as pairs. */
OMPQC_INLINE int32_t window_pairs(const int16_t *q, const int16_t *t, int32_t kh, int32_t dh, int32_t kwe,
                                  int32_t acc) {
    int32_t ky, kx;
#pragma GCC unroll 8
    for (ky = 0; ky < kh; ky++, q += dh, t += kwe) {
#pragma GCC unroll 4
        for (kx = 0; kx < kwe; kx += 2) {
            acc = __smlad((int32_t)load32(q + kx), (int32_t)load32(t + kx), acc);
        }
    }
    return acc;
}

/* dw_rows without dilation along the rows, for kh kernel rows of kwe taps (constants in the copies below). */
OMPQC_INLINE void rows_pairs(const int16_t *r, int32_t pw, const int16_t *t, const OMPQC_NS(conv_t) *p, int32_t rows,
                             int32_t bias, int32_t *sums, int32_t kh, int32_t kwe) {
    const int32_t n = p->out_w, dh = p->dil_h * pw, sx = p->stride_w, sy = p->stride_h * pw;
    int32_t y;
    for (y = 0; y < rows; y++, r += sy) {
        const int16_t *q = r;
        int32_t *end = sums + n;
        for (; sums < end; sums++, q += sx) {
            *sums = window_pairs(q, t, kh, dh, kwe, bias);
        }
    }
}

/* Output rows of a depthwise channel: sums[y * n + x] = bias + the window at column x * stride_w of plane rows
   y * stride_h + ky * dil_h (each pw long) from r, with taps t (rows of an even count, the padding tap zero). The
   usual windows get copies with their loops unrolled. */
OMPQC_HOT static void dw_rows(const int16_t *r, int32_t pw, const int16_t *t, const OMPQC_NS(conv_t) *p,
                              int32_t rows, int32_t bias, int32_t *sums) {
    const int32_t kw = p->k_w, kwe = (kw + 1) & ~1, dw = p->dil_w;
    if (dw == 1) {
        /* Square 5x5 and 7x7 windows, unrolled whole; other windows by their row length. */
        if (p->k_h == 5 && kw == 5) {
            rows_pairs(r, pw, t, p, rows, bias, sums, 5, 6);
        } else if (p->k_h == 7 && kw == 7) {
            rows_pairs(r, pw, t, p, rows, bias, sums, 7, 8);
        } else if (kwe == 2) {
            rows_pairs(r, pw, t, p, rows, bias, sums, p->k_h, 2);
        } else if (kwe == 4) {
            rows_pairs(r, pw, t, p, rows, bias, sums, p->k_h, 4);
        } else {
            rows_pairs(r, pw, t, p, rows, bias, sums, p->k_h, kwe);
        }
        return;
    }
    plane_rows_by_tap(r, pw, t, kwe, p, rows, bias, sums);
}

#define plane_requantize requantize_row_dsp
#include "../depthwise.h"
