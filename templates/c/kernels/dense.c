/* Dense (fully connected) layers, portable C (the reference among the C kernels): the input less its zero point
   widened to int16 once, four weight rows per pass, four weights of a row at a time. */
#include "ompqc.h"

#include "dense_dot.h"

/* The input less its zero point, into the scratch (2 * k bytes); the sums start from 0. */
OMPQC_INLINE const int16_t *dense_input(const OMPQC_NS(dense_t) *p, const int8_t *in, uint8_t *scratch, int32_t *start,
                                        int bits) {
    int16_t *x = (int16_t *)scratch;
    int32_t j;
    (void)bits;
    *start = 0;
    for (j = 0; j < p->k; j++) {
        x[j] = (int16_t)(in[j] - p->in_zp);
    }
    return x;
}

/* acc[i] = start + x . row i over k inputs. Rows are packed as docs/SEMANTICS.md says: each byte of a 32-bit word holds field
   f of weights f, 8 / bits + f, ..., so word n's byte i field f weighs input 32 / bits * n + i * 8 / bits + f. */
OMPQC_INLINE void dot1x4_at(const int16_t *x, const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3,
                            uint32_t k, int32_t start, int32_t *acc, int bits) {
    const uint32_t group = 32u / (uint32_t)bits, per = 8u / (uint32_t)bits;
    int32_t a0 = start, a1 = start, a2 = start, a3 = start;
    uint32_t n, f, i;
    for (n = k / group; n > 0; n--, r0 += 4, r1 += 4, r2 += 4, r3 += 4, x += group) {
        /* Each byte's fields in turn (conv_columns.c: from the row's word where the core loads it at once). */
        uint32_t w[4] = {0, 0, 0, 0};
        if (bits < 8 && OMPQC_WORD_FIELDS) {
            memcpy(&w[0], r0, 4);
            memcpy(&w[1], r1, 4);
            memcpy(&w[2], r2, 4);
            memcpy(&w[3], r3, 4);
        }
#pragma GCC unroll 4
        for (i = 0; i < 4; i++) {
#pragma GCC unroll 4
            for (f = 0; f < per; f++) {
                const int32_t s = x[i * per + f];
                a0 += s * field_of(r0, w[0], i, f, bits);
                a1 += s * field_of(r1, w[1], i, f, bits);
                a2 += s * field_of(r2, w[2], i, f, bits);
                a3 += s * field_of(r3, w[3], i, f, bits);
            }
        }
    }
    dot1x4_end(x, r0, r1, r2, r3, k % group, a0, a1, a2, a3, acc, bits);
}
OMPQC_PER_WIDTH(OMPQC_HOT, dot1x4,
                (const int16_t *x, const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3,
                 uint32_t k, int32_t start, int32_t *acc),
                (x, r0, r1, r2, r3, k, start, acc))

#define dense_out dense_out_portable

#include "dense.h"
