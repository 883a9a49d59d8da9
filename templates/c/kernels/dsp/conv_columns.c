/* One-group convolutions on the Arm DSP extension: columns widened to int16 so that two inputs are one SMLAD
   operand, each 32-bit word of a weight row (32 / bits weights) sign-extended in two SXTB16s per field. */
#include "../ompqc.h"
#include "dsp.h"

typedef int16_t col_t;

#include "widen.h"
#include "../bytes.h"
#include "../columns.h"
#include "../scalar_dot.h"


/* The column of output pixel `px` for the dot products at `col` (8 * ceil(k / 4) bytes of scratch): gathered into
   its upper half, or with `in_place` the input pixel itself (1x1, stride 1, no padding), then widened into col. */
OMPQC_INLINE const col_t *column_at(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, uint8_t *col,
                                    int in_place, int bits) {
    const int32_t k = p->k_h * p->k_w * p->in_c, half = ((k + 3) & ~3);
    const int8_t *src = in + px * p->in_c;
    if (!in_place) {
        columns(p, in, px, (int8_t *)col + half);
        src = (const int8_t *)col + half;
    }
    OMPQC_AT_WIDTH(widen, bits)(src, (int16_t *)col, (uint32_t)k);
    return (const int16_t *)col;
}
OMPQC_PER_WIDTH_RETURNING(, const col_t *, column,
                          (const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, uint8_t *col, int in_place),
                          (p, in, px, col, in_place))

OMPQC_INLINE const col_t *column(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, uint8_t *col, int in_place,
                                 int bits) {
    return OMPQC_AT_WIDTH(column, bits)(p, in, px, col, in_place);
}

/* Sums of two columns (xa, xb) times two weight rows (r1, r2) over k inputs: acc = {xa.r1, xa.r2, xb.r1, xb.r2}.
   Each whole word of a row multiplies the int16 lanes widen_at() put in the column's matching group; below 8 bits,
   each field is moved to the top of its byte first, which scales the products by 2^(8 - bits). */
OMPQC_INLINE void dot2x2_at(const col_t *xa, const col_t *xb, const uint8_t *r1, const uint8_t *r2, uint32_t k,
                            int32_t *acc, int bits) {
    const uint32_t group = 32u / (uint32_t)bits, per = 8u / (uint32_t)bits, scale_log = 8u - (uint32_t)bits;
    int32_t a11 = 0, a12 = 0, a21 = 0, a22 = 0;
    uint32_t n, f;
    for (n = k / group; n > 0; n--, r1 += 4, r2 += 4, xa += group, xb += group) {
        const uint32_t w1 = load32(r1), w2 = load32(r2);
#pragma GCC unroll 4
        for (f = 0; f < per; f++) {
            int32_t u1, v1, u2, v2, x;
            halves(w1, bits, f, &u1, &v1);
            halves(w2, bits, f, &u2, &v2);
            x = (int32_t)load32(xa + 4 * f);
            a11 = __smlad(x, u1, a11);
            a12 = __smlad(x, u2, a12);
            x = (int32_t)load32(xa + 4 * f + 2);
            a11 = __smlad(x, v1, a11);
            a12 = __smlad(x, v2, a12);
            x = (int32_t)load32(xb + 4 * f);
            a21 = __smlad(x, u1, a21);
            a22 = __smlad(x, u2, a22);
            x = (int32_t)load32(xb + 4 * f + 2);
            a21 = __smlad(x, v1, a21);
            a22 = __smlad(x, v2, a22);
        }
    }
    /* The scaled sums divide exactly. */
    a11 >>= scale_log;
    a12 >>= scale_log;
    a21 >>= scale_log;
    a22 >>= scale_log;
    dot2x2_end(xa, xb, r1, r2, k % group, a11, a12, a21, a22, acc, bits);
}
OMPQC_PER_WIDTH(OMPQC_HOT, dot2x2,
                (const col_t *xa, const col_t *xb, const uint8_t *r1, const uint8_t *r2, uint32_t k, int32_t *acc),
                (xa, xb, r1, r2, k, acc))

#include "../conv_pair.h"
#include "../conv_columns.h"
