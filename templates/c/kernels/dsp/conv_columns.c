/* One-group convolutions on the Arm DSP extension: columns widened to int16 so that two inputs are one SMLAD
   operand, each 32-bit word of a weight row (32 / bits weights) sign-extended in two SXTB16s per field. */
#include "../ompqc.h"
#include "dsp.h"

typedef int16_t col_t;

#include "../bytes.h"
#include "../columns.h"
#include "../scalar_dot.h"

/* k int8 inputs as int16 in the lanes the dot product pairs with its weights: in each group of g = 32 / bits, field
   f of the weight word's bytes 0, 2 (SXTB16) then 1, 3 (SXTB16 ROR 8) multiplies inputs f, g / 2 + f then
   g / 4 + f, 3g / 4 + f; the inputs after the last whole group stay in order. In place is safe when src sits in the
   upper half of dst's 2k bytes: each group is read before it is written, below the next one. */
OMPQC_INLINE void widen_at(const int8_t *src, int16_t *dst, uint32_t k, int bits) {
    const uint32_t group = 32u / (uint32_t)bits, per = 8u / (uint32_t)bits;
    uint32_t n, f;
    for (n = k / group; n > 0; n--, src += group, dst += group) {
        if (bits == 8) {
            const uint32_t x = load32(src), e = (uint32_t)__sxtb16(x), o = (uint32_t)sxtb16_ror8(x);
            memcpy(dst, &e, 4);
            memcpy(dst + 2, &o, 4);
        } else {
            /* Every input of the group read before any is written (element by element into a local array
               the compiler keeps in registers; zeroed for the analyzer, which cannot see that only the first
               32 / bits elements are read). */
            int8_t x[16] = {0};
#pragma GCC unroll 16
            for (f = 0; f < group; f++) {
                x[f] = src[f];
            }
#pragma GCC unroll 4
            for (f = 0; f < per; f++) {
                dst[4 * f] = x[f];
                dst[4 * f + 1] = x[2 * per + f];
                dst[4 * f + 2] = x[per + f];
                dst[4 * f + 3] = x[3 * per + f];
            }
        }
    }
    for (n = 0; n < k % group; n++) {
        dst[n] = src[n];
    }
}
OMPQC_PER_WIDTH(, widen, (const int8_t *src, int16_t *dst, uint32_t k), (src, dst, k))

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

/* Field f of the four bytes of weight word w as int16 lanes: bytes 0 and 2 in *u, 1 and 3 in *v. Below 8 bits the
   field is moved to the top of its byte first (scaling it by 2^(8 - bits)) and sign-extended from there. */
OMPQC_INLINE void halves(uint32_t w, int bits, uint32_t f, int32_t *u, int32_t *v) {
    const uint32_t scale_log = 8u - (uint32_t)bits, top = 0x01010101u * ((0xFFu << scale_log) & 0xFFu);
    if (bits == 8) {
        *u = __sxtb16(w);
        *v = sxtb16_ror8(w);
    } else {
        const uint32_t field = (w << (scale_log - f * (uint32_t)bits)) & top;
        *v = sxtb16_ror8(field);
        *u = __sxtb16(field);
    }
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
