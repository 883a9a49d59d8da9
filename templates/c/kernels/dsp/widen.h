/* The DSP variants' int16 operands: inputs widened in the order the weight words' SXTB16 lanes pair with them
   (the dense kernels). */
#ifndef OMPQC_DSP_WIDEN_H
#define OMPQC_DSP_WIDEN_H

#include "../ompqc.h"
#include "dsp.h"

/* k int8 inputs less `zp` as int16 in the lanes the dot product pairs with its weights: in each group of
   g = 32 / bits, field f of the weight word's bytes 0, 2 (SXTB16) then 1, 3 (SXTB16 ROR 8) multiplies inputs f,
   g / 2 + f then g / 4 + f, 3g / 4 + f; the inputs after the last whole group stay in order. In place is safe when
   src sits in the upper half of dst's 2k bytes: each group is read before it is written, below the next one. */
OMPQC_INLINE void widen_less_at(const int8_t *src, int16_t *dst, uint32_t k, int32_t zp, int bits) {
    const uint32_t zz = ((uint32_t)zp & 0xFFFFu) * 0x10001u;
    const uint32_t group = 32u / (uint32_t)bits, per = 8u / (uint32_t)bits;
    uint32_t n, f;
    for (n = k / group; n > 0; n--, src += group, dst += group) {
        if (bits == 8) {
            const uint32_t x = load32(src);
            const uint32_t e = (uint32_t)__ssub16(__sxtb16(x), (int32_t)zz), o = (uint32_t)__ssub16(sxtb16_ror8(x), (int32_t)zz);
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
                dst[4 * f] = (int16_t)(x[f] - zp);
                dst[4 * f + 1] = (int16_t)(x[2 * per + f] - zp);
                dst[4 * f + 2] = (int16_t)(x[per + f] - zp);
                dst[4 * f + 3] = (int16_t)(x[3 * per + f] - zp);
            }
        }
    }
    for (n = 0; n < k % group; n++) {
        dst[n] = (int16_t)(src[n] - zp);
    }
}
OMPQC_PER_WIDTH(, widen_less, (const int8_t *src, int16_t *dst, uint32_t k, int32_t zp), (src, dst, k, zp))

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

#endif
