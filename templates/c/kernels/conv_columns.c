/* One-group convolutions, portable C (the reference among the C kernels): columns of int8, each dot product four
   weights of a row at a time. */
#include "ompqc.h"

typedef int8_t col_t;

#include "bytes.h"
#include "columns.h"
#include "scalar_dot.h"

/* The column of output pixel `px`: int8, as gathered. */
OMPQC_INLINE const col_t *column(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, uint8_t *col, int in_place,
                                 int bits) {
    (void)bits;
    return int8_column(p, in, px, col, in_place);
}

/* Sums of two columns (xa, xb) times two weight rows (r1, r2) over k inputs: acc = {xa.r1, xa.r2, xb.r1, xb.r2}.
   Rows are packed as docs/SEMANTICS.md says: each byte of a 32-bit word holds field f of weights f, 8 / bits + f,
   ..., so word n's byte i field f weighs input 32 / bits * n + i * 8 / bits + f. */
OMPQC_INLINE void dot2x2_at(const col_t *xa, const col_t *xb, const uint8_t *r1, const uint8_t *r2, uint32_t k,
                            int32_t *acc, int bits) {
    const uint32_t group = 32u / (uint32_t)bits, per = 8u / (uint32_t)bits;
    int32_t a11 = 0, a12 = 0, a21 = 0, a22 = 0;
    uint32_t n, f, i;
    /* Two words a pass: the four pointers' increments are a fifth of a word's instructions. */
#pragma GCC unroll 2
    for (n = k / group; n > 0; n--, r1 += 4, r2 += 4, xa += group, xb += group) {
        /* Below 8 bits, cores that load unaligned words in one instruction take each row's word at once and
           extract its fields from it; the others a byte at a time. Each byte's fields in turn. */
        uint32_t w1 = 0, w2 = 0;
        if (bits < 8 && OMPQC_WORD_FIELDS) {
            memcpy(&w1, r1, 4);
            memcpy(&w2, r2, 4);
        }
#pragma GCC unroll 4
        for (i = 0; i < 4; i++) {
#pragma GCC unroll 4
            for (f = 0; f < per; f++) {
                const int32_t u = field_of(r1, w1, i, f, bits), v = field_of(r2, w2, i, f, bits);
                const int32_t s = xa[i * per + f], q = xb[i * per + f];
                a11 += s * u;
                a12 += s * v;
                a21 += q * u;
                a22 += q * v;
            }
        }
    }
    dot2x2_end(xa, xb, r1, r2, k % group, a11, a12, a21, a22, acc, bits);
}
OMPQC_PER_WIDTH(OMPQC_HOT, dot2x2,
                (const col_t *xa, const col_t *xb, const uint8_t *r1, const uint8_t *r2, uint32_t k, int32_t *acc),
                (xa, xb, r1, r2, k, acc))

#define OMPQC_COLUMN_PAIR
#include "conv_pair.h"
#include "conv_columns.h"
