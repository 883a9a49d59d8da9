/* The DSP variants' int16 operands: inputs widened in the order the weight words' SXTB16 lanes pair with them (the
   column convolutions and the dense layers). */
#ifndef OMPQC_DSP_WIDEN_H
#define OMPQC_DSP_WIDEN_H

#include "../ompqc.h"
#include "dsp.h"

/* The low halves of a and b as the lanes of one word (PKHBT: GCC builds it from two instructions). */
static inline uint32_t low_halves(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* The high halves of a and b as the lanes of one word (PKHTB). */
static inline uint32_t high_halves(uint32_t a, uint32_t b) {
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(b), "r"(a));
    return r;
}

/* Each int16 lane of x times 2^s (s < 16; the lanes' products fit int16): one shift of the word, then the low
   lane's sign bits that crossed into the high lane cleared. */
static inline uint32_t lanes_shifted(uint32_t x, uint32_t s) {
    return (x << s) & ~(((1u << s) - 1u) << 16);
}

/* Words a, b stored at dst and dst + 4 bytes (word-aligned) in one STRD: GCC stores two STRs where memcpy cannot
   promise the alignment. */
typedef struct {
    uint32_t w[2];
} word_pair_t;
static inline void store_pair(int16_t *dst, uint32_t a, uint32_t b) {
    __asm__("strd %1, %2, %0" : "=m"(*(word_pair_t *)dst) : "r"(a), "r"(b));
}

/* The weight fields' inputs of one group of g = 32 / bits inputs (`less`: less the zero point, zz its two lanes):
   q_even[t] holds as int16 lanes the inputs that field t of the weight word's bytes 0 and 2 weighs, q_odd[t] those
   of bytes 1 and 3. Byte j holds the weights of inputs j f .. j f + f - 1 (f = 8 / bits fields, lowest first):
   pairs of words 2f bytes apart give, by PKHBT and PKHTB, the bytes that SXTB16 then widens. Every word of the
   group is read before the caller writes any. */
OMPQC_INLINE void field_inputs(const int8_t *g, uint32_t zz, int less, uint32_t *q_even, uint32_t *q_odd, int bits) {
    const uint32_t f = 8u / (uint32_t)bits, at = bits == 4 ? 0 : 2;
    uint32_t j, i;
    for (j = 0; j < f / 2; j++) {
        const uint32_t a = load32(g + 4 * j), c = load32(g + 4 * j + 2 * f);
        const uint32_t low = low_halves(a, c), high = high_halves(a, c);
        /* At 4 bits bytes 0, 1 of a and c are bytes 0, 2 of the weight word and 2, 3 its bytes 1, 3; at 2 bits word
           0 pairs with word 2 for bytes 0, 2 and word 1 with word 3 for bytes 1, 3, the low two bytes holding fields
           0 and 1, the high two fields 2 and 3. */
        uint32_t *lo = bits == 4 || j == 0 ? q_even : q_odd, *hi = bits == 4 ? q_odd : lo;
        lo[0] = (uint32_t)__sxtb16(low);
        lo[1] = (uint32_t)sxtb16_ror8(low);
        hi[at] = (uint32_t)__sxtb16(high);
        hi[at + 1] = (uint32_t)sxtb16_ror8(high);
    }
    if (less) {
#pragma GCC unroll 4
        for (i = 0; i < f; i++) {
            q_even[i] = (uint32_t)__ssub16((int32_t)q_even[i], (int32_t)zz);
            q_odd[i] = (uint32_t)__ssub16((int32_t)q_odd[i], (int32_t)zz);
        }
    }
}

/* A group of g = 32 / bits inputs (bits < 8) as f = 8 / bits int16 chunks of four lanes at dst, dst + step, ...,
   returning offset_sum plus its offset inputs. The dot products flip the sign bit of every weight field but the top
   one (offset binary: u = w + 2^(bits - 1)) and read each weight byte's int16 lanes f times: the whole byte (SXTB16),
   then the byte with its top field cleared, down to the lowest field alone (one AND a lane word). Chunk i meets the
   lanes that keep fields 0 .. f - 1 - i, so with S_i = 2^(bits i) times the inputs of field f - 1 - i, chunk i holds
   S_i - S_(i-1): every field's input then counts 2^(8 - bits) times (the DSP scale), plus 2^(bits - 1) 2^(8 - bits) =
   128 times the offset inputs, which the sums take away by starting from -128 times their sum. */
OMPQC_INLINE int32_t offset_chunks(const int8_t *g, int16_t *dst, uint32_t step, uint32_t zz, int less,
                                   int32_t offset_sum, int bits) {
    const uint32_t f = 8u / (uint32_t)bits, ones = 0x00010001u;
    uint32_t q_even[4], q_odd[4], prev_even = 0, prev_odd = 0, i;
    field_inputs(g, zz, less, q_even, q_odd, bits);
#pragma GCC unroll 4
    for (i = 0; i < f; i++) {
        const uint32_t t = f - 1 - i;
        const uint32_t s_even = lanes_shifted(q_even[t], (uint32_t)bits * i);
        const uint32_t s_odd = lanes_shifted(q_odd[t], (uint32_t)bits * i);
        const uint32_t even = i == 0 ? s_even : (uint32_t)__ssub16((int32_t)s_even, (int32_t)prev_even);
        const uint32_t odd = i == 0 ? s_odd : (uint32_t)__ssub16((int32_t)s_odd, (int32_t)prev_odd);
        store_pair(dst + step * i, even, odd);
        prev_even = s_even;
        prev_odd = s_odd;
        if (i > 0) {
            offset_sum = __smlad((int32_t)q_even[t], (int32_t)ones, offset_sum);
            offset_sum = __smlad((int32_t)q_odd[t], (int32_t)ones, offset_sum);
        }
    }
    return offset_sum;
}

/* The dense layers' input: k int8 inputs less `zp` as int16, each whole group of g = 32 / bits inputs in the lanes
   its weight word meets (at 8 bits inputs 0, 2 then 1, 3; below, offset_chunks' chunks, one after the other), the
   inputs after the last whole group in order. Returns the sums' start: -128 times the offset inputs. In place is
   safe when src sits in the upper half of dst's 2k bytes: each group is read before it is written, below the next
   one. */
OMPQC_INLINE int32_t widen_less_at(const int8_t *src, int16_t *dst, uint32_t k, int32_t zp, int bits) {
    const uint32_t zz = ((uint32_t)zp & 0xFFFFu) * 0x10001u;
    const uint32_t group = 32u / (uint32_t)bits;
    int32_t offset_sum = 0;
    uint32_t n;
    for (n = k / group; n > 0; n--, src += group, dst += group) {
        if (bits == 8) {
            const uint32_t x = load32(src);
            const uint32_t e = (uint32_t)__ssub16(__sxtb16(x), (int32_t)zz), o = (uint32_t)__ssub16(sxtb16_ror8(x), (int32_t)zz);
            memcpy(dst, &e, 4);
            memcpy(dst + 2, &o, 4);
        } else {
            offset_sum = offset_chunks(src, dst, 4, zz, 1, offset_sum, bits);
        }
    }
    for (n = 0; n < k % group; n++) {
        dst[n] = (int16_t)(src[n] - zp);
    }
    return -128 * offset_sum;
}
OMPQC_PER_WIDTH_RETURNING(, int32_t, widen_less, (const int8_t *src, int16_t *dst, uint32_t k, int32_t zp),
                          (src, dst, k, zp))

#endif
