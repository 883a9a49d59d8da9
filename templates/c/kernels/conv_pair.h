/* The outputs of two pixels (or, where OMPQC_TRIPLES_AT, three) of a one-group convolution from the portable
   variant's scalar dot products, a block of OMPQC_DOT_ROWS channels at a time (scalar_dot.h). */
#ifndef OMPQC_CONV_PAIR_H
#define OMPQC_CONV_PAIR_H

#include "ompqc.h"
#include "short_requant.h"

/* Output pixels y[0 .. pixels) (columns x[..]) of a one-group convolution; `pixels` is a constant, 2 or 3. */
OMPQC_INLINE void conv_block(const OMPQC_NS(conv_t) *p, const col_t *const *x, int8_t *const *y, int pixels,
                             int bits) {
    /* Locals: the output stores may alias the parameter block, and the callers' arrays. */
    const int32_t k = p->k_h * p->k_w * p->in_c, n = p->out_c, rb = p->row_bytes, zp = p->out_zp;
    const int32_t a_lo = p->act_min, a_hi = p->act_max, short_form = p->short_requant;
    const uint8_t *weights = p->weights;
    const int32_t *bias = p->bias, *mult = p->mult;
    const int8_t *shift = p->shift;
    int8_t *out[3];
    int32_t oc, c, j;
#pragma GCC unroll 3
    for (j = 0; j < pixels; j++) {
        out[j] = y[j];
    }
    for (oc = 0; oc < n; oc += OMPQC_DOT_ROWS) {
        /* Channels past the last are the last again, computed twice. */
        int32_t ch[OMPQC_DOT_ROWS], acc[3 * OMPQC_DOT_ROWS];
        const uint8_t *rows[OMPQC_DOT_ROWS];
#pragma GCC unroll 4
        for (c = 0; c < OMPQC_DOT_ROWS; c++) {
            ch[c] = oc + c < n ? oc + c : n - 1;
            rows[c] = weights + ch[c] * rb;
        }
#if defined(OMPQC_TRIPLE_ASM)
        if (pixels == 3) {
            dot_triple_arm(x, rows, (uint32_t)k, acc);
        } else
#elif defined(OMPQC_TRIPLES_AT)
        if (pixels == 3) {
            OMPQC_AT_WIDTH(dot_triple, bits)(x, rows, (uint32_t)k, acc);
        } else
#endif
        {
            OMPQC_AT_WIDTH(dot_pair, bits)(x, rows, (uint32_t)k, acc);
        }
#pragma GCC unroll 4
        for (c = 0; c < OMPQC_DOT_ROWS; c++) {
            /* A channel's outputs are all computed before any is stored: a store may alias the constants. */
            const int32_t o = ch[c], b = bias[o];
            int32_t v[3];
            if (short_form == 1) {
                /* The short form with left shifts (2) runs the general one here: a third copy in the block cost its
                   8-bit layers 0.5% on RISC-V. */
                const short_t q = short_of(mult[o], shift[o], zp);
#pragma GCC unroll 3
                for (j = 0; j < pixels; j++) {
                    v[j] = clamp(requantize_short(2 * (acc[j * OMPQC_DOT_ROWS + c] + b), q), a_lo, a_hi);
                }
            } else {
                const int32_t m = mult[o], s = shift[o];
#pragma GCC unroll 3
                for (j = 0; j < pixels; j++) {
                    v[j] = clamp(zp + requantize(acc[j * OMPQC_DOT_ROWS + c] + b, m, s), a_lo, a_hi);
                }
            }
#pragma GCC unroll 3
            for (j = 0; j < pixels; j++) {
                out[j][o] = (int8_t)v[j];
            }
        }
    }
}

/* Output pixels ya and yb (columns xa and xb). */
OMPQC_INLINE void conv_pair(const OMPQC_NS(conv_t) *p, const col_t *xa, const col_t *xb, int8_t *ya, int8_t *yb,
                            int32_t *sums, int bits) {
    const col_t *x[2] = {xa, xb};
    int8_t *y[2] = {ya, yb};
    conv_block(p, x, y, 2, bits);
    (void)sums;
}

#ifdef OMPQC_TRIPLES_AT
#define OMPQC_BLOCK_PIXELS_AT(bits) (OMPQC_TRIPLES_AT(bits) ? 3 : 0)
/* Output pixels px .. px + 2 (the last one repeated past the end), their columns 4 * ceil(k / 4) bytes apart in
   `scratch`. */
OMPQC_INLINE void conv_pixel_block(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, int32_t pixels,
                                   int8_t *out, uint8_t *scratch, int in_place, int bits) {
    const int32_t k4 = (p->k_h * p->k_w * p->in_c + 3) / 4 * 4;
    const col_t *x[3];
    int8_t *y[3];
    int32_t j;
    for (j = 0; j < 3; j++) {
        const int32_t q = px + j < pixels ? px + j : pixels - 1;
        x[j] = column(p, in, q, scratch + j * k4, in_place, bits);
        y[j] = out + q * p->out_c;
    }
    conv_block(p, x, y, 3, bits);
}
#endif

#endif
