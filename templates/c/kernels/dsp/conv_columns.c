/* One-group convolutions on the Arm DSP extension: columns widened to int16 so that two inputs are one SMLAD
   operand, each 32-bit word of a weight row (32 / bits weights) sign-extended in two SXTB16s per field. */
#include "../ompqc.h"
#include "dsp.h"

typedef int16_t col_t;

static void copy_bytes(int8_t *dst, const int8_t *src, int32_t n) {
    memcpy(dst, src, (size_t)n);
}

static void fill_bytes(int8_t *dst, int32_t v, int32_t n) {
    memset(dst, v, (size_t)n);
}

#include "../columns.h"

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
            int8_t x[16];
            memcpy(x, src, group);
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

/* Sums of two columns (xa, xb) times two weight rows (r1, r2) over k inputs: acc = {xa.r1, xa.r2, xb.r1, xb.r2}.
   Each whole word of a row multiplies the int16 lanes widen_at() put in the column's matching group; below 8 bits,
   each field is moved to the top of its byte first, which scales the products by 2^(8 - bits). */
OMPQC_INLINE void dot2x2_at(const col_t *xa, const col_t *xb, const uint8_t *r1, const uint8_t *r2, uint32_t k,
                            int32_t *acc, int bits) {
    const uint32_t group = 32u / (uint32_t)bits, per = 8u / (uint32_t)bits, scale_log = 8u - (uint32_t)bits;
    const uint32_t top = 0x01010101u * ((0xFFu << scale_log) & 0xFFu);
    int32_t a11 = 0, a12 = 0, a21 = 0, a22 = 0;
    uint32_t n, t, f;
    for (n = k / group; n > 0; n--, r1 += 4, r2 += 4, xa += group, xb += group) {
        const uint32_t w1 = load32(r1), w2 = load32(r2);
#pragma GCC unroll 4
        for (f = 0; f < per; f++) {
            int32_t u1, v1, u2, v2, x;
            if (bits == 8) {
                u1 = __sxtb16(w1);
                v1 = sxtb16_ror8(w1);
                u2 = __sxtb16(w2);
                v2 = sxtb16_ror8(w2);
            } else {
                /* Field f of each byte moved to the top of its byte. */
                u1 = (int32_t)((w1 << (scale_log - f * bits)) & top);
                v1 = sxtb16_ror8((uint32_t)u1);
                u1 = __sxtb16((uint32_t)u1);
                u2 = (int32_t)((w2 << (scale_log - f * bits)) & top);
                v2 = sxtb16_ror8((uint32_t)u2);
                u2 = __sxtb16((uint32_t)u2);
            }
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
    for (t = 0; t < k % group; t++) {
        const int32_t u = weight(r1, (int32_t)t, bits), v = weight(r2, (int32_t)t, bits), s = xa[t], q = xb[t];
        a11 += s * u;
        a12 += s * v;
        a21 += q * u;
        a22 += q * v;
    }
    acc[0] = a11;
    acc[1] = a12;
    acc[2] = a21;
    acc[3] = a22;
}
OMPQC_PER_WIDTH(OMPQC_HOT, dot2x2,
                (const col_t *xa, const col_t *xb, const uint8_t *r1, const uint8_t *r2, uint32_t k, int32_t *acc),
                (xa, xb, r1, r2, k, acc))

#include "../conv_pair.h"
#include "../conv_columns.h"
