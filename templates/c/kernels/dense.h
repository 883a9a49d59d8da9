/* The dense kernels of the portable and DSP variants, name_wB for each width B of OMPQC_DENSE_WIDTHS: up to four
   outputs per pass over the input (OMPQC_DENSE_ROWS(bits), 4 unless the variant says). The including variant file
   defines dense_input(p, in, scratch, start, bits) (the input less its zero point as int16, in the order its dot
   products read it, and the value their sums start from), dot1x4_w8, _w4 and _w2 (OMPQC_PER_WIDTH: the sums of the
   input times the pass's weight rows, given four) and dense_out(x, m0, shift, zp, lo, hi, full) (an output from its
   sum; `full`: the clamp is the whole int8 range). The sums
   are those of the reference interpreter, (input - zero point) x weight plus the bias, whose bound the quantizer
   proves. */
#ifndef OMPQC_DENSE_H
#define OMPQC_DENSE_H

#include "ompqc.h"

#ifndef OMPQC_DENSE_ROWS
#define OMPQC_DENSE_ROWS(bits) 4
#endif

#ifndef OMPQC_DENSE_WIDTHS
#define OMPQC_DENSE_WIDTHS OMPQC_ALL_WIDTHS
#endif

OMPQC_INLINE void dense_with(const OMPQC_NS(dense_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch, int full,
                             int bits) {
    /* Locals: the output stores may alias the parameter block. */
    const int32_t n = p->n_out, rb = p->row_bytes, zp = p->out_zp, lo = p->act_min, hi = p->act_max;
    const uint8_t *weights = p->weights;
    const int32_t *bias = p->bias, *mult = p->mult;
    const int8_t *shift = p->shift;
    const int32_t rows = OMPQC_DENSE_ROWS(bits);
    int32_t start, o, i;
    const int16_t *x = dense_input(p, in, scratch, &start, bits);
    for (o = 0; o < n; o += rows) {
        /* Past the last output, the last row again (its sums unused). */
        const int32_t m = n - o < rows ? n - o : rows;
        const uint8_t *r0 = weights + o * rb, *r1 = r0 + (m > 1 ? rb : 0), *r2 = r1 + (m > 2 ? rb : 0);
        const uint8_t *r3 = r2 + (m > 3 ? rb : 0);
        int32_t acc[4];
        OMPQC_AT_WIDTH(dot1x4, bits)(x, r0, r1, r2, r3, (uint32_t)p->k, start, acc);
        if (m == rows) {
            /* Unrolled: the outputs' constants stay in registers. */
#pragma GCC unroll 4
            for (i = 0; i < rows; i++) {
                out[o + i] = dense_out(acc[i] + bias[o + i], mult[o + i], shift[o + i], zp, lo, hi, full);
            }
        } else {
            for (i = 0; i < m; i++) {
                out[o + i] = dense_out(acc[i] + bias[o + i], mult[o + i], shift[o + i], zp, lo, hi, full);
            }
        }
    }
}

/* With OMPQC_FULL_CLAMP_COPIES (an ISA whose clamp to the whole int8 range is one instruction), one copy of the loop
   per clamp. */
OMPQC_INLINE void dense(const OMPQC_NS(dense_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch, int bits) {
#ifdef OMPQC_FULL_CLAMP_COPIES
    if (p->act_min == -128 && p->act_max == 127) {
        dense_with(p, in, out, scratch, 1, bits);
        return;
    }
#endif
    dense_with(p, in, out, scratch, 0, bits);
}

#define OMPQC_DENSE_AT(bits) \
    void OMPQC_NS(dense_w##bits)(const OMPQC_NS(dense_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch) { \
        dense(p, in, out, scratch, bits); \
    }
OMPQC_DENSE_WIDTHS(OMPQC_DENSE_AT)

#endif
