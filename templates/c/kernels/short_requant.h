/* The short requantization (docs/SEMANTICS.md), for the layers whose parameter block sets short_requant: the sums
   are small enough that the doubled sum 2x (times 2^left where a channel shifts left: short_requant 2), and the high
   multiply plus the zero point and rounding half shifted up, stay inside int32. zp + requantize(x, m0, shift) is then
   one high multiply that also adds the half, the sign's correction and the zero point, and one arithmetic shift. */
#ifndef OMPQC_SHORT_REQUANT_H
#define OMPQC_SHORT_REQUANT_H

#include "ompqc.h"

#ifndef OMPQC_HIGH_MUL_ACC
/* acc + round(t * m / 2^32), rounding half up: one SMLAL where the ISA has it (the half starts the low word). An ISA
   header with a better instruction defines its own, and OMPQC_HIGH_MUL_ACC. */
#ifdef __riscv
/* Without a 64-bit accumulate the half's carry out of the low word is that word's top bit. */
static inline int32_t high_mul_acc(int32_t t, int32_t m, int32_t acc) {
    const int64_t product = (int64_t)t * m;
    return (int32_t)(product >> 32) + acc + (int32_t)((uint32_t)product >> 31);
}
#else
static inline int32_t high_mul_acc(int32_t t, int32_t m, int32_t acc) {
    return (int32_t)(((int64_t)t * m + (int64_t)(((uint64_t)(uint32_t)acc << 32) | 0x80000000u)) >> 32);
}
#endif
#endif

/* A channel's constants: its m0, its right shift, the zero point and the rounding half shifted up by it
   (zp * 2^right + 2^(right - 1), each term inside int32 when the layer sets short_requant), -1 when it shifts right
   (the sign's correction), else 0, and its left shift (short_doubled). */
typedef struct {
    int32_t m0, right, half, fix, left;
} short_t;

/* The constants of a channel that shifts right only (shift <= 0: the layers of short_requant 1). */
static inline short_t short_of(int32_t m0, int32_t shift, int32_t zp) {
    short_t q;
    q.m0 = m0;
    q.left = 0;
    q.right = -shift;
    q.half = (int32_t)((uint32_t)zp << q.right) + (int32_t)((1u << q.right) >> 1);
    q.fix = shift >> 31;
    return q;
}

/* The constants of a channel of any shift (the layers of short_requant 2). */
static inline short_t short_of_any(int32_t m0, int32_t shift, int32_t zp) {
    short_t q = short_of(m0, shift < 0 ? shift : 0, zp);
    q.left = shift > 0 ? shift : 0;
    return q;
}

/* Whether a multiplier of this shift may requantize products of two int8 differences in the short form, whatever
   the zero point: |x| <= 255 * 255, so 2x and |x| + 2 + 128 * 2^23 + 2^22 stay inside int32 for shifts in [-23, 0]. */
static inline int short_for_products(int32_t shift) {
    return shift <= 0 && shift >= -23;
}

/* The doubled sum requantize_short takes, 2x times 2^left (inside int32 when the layer sets short_requant). */
static inline int32_t short_doubled(int32_t x, short_t q) {
    return (int32_t)((uint32_t)x << (1 + q.left));
}

/* zp + requantize(x, m0, shift), from x2 = 2x (times 2^left: short_doubled). */
static inline int32_t requantize_short(int32_t x2, short_t q) {
    return high_mul_acc(x2, q.m0, q.half + (q.fix & (x2 >> 31))) >> q.right;
}

/* requantize_short where the caller knows whether the channel shifts (`shifts`: q.fix is -1): the sign's correction
   is then one addition of x2's sign, or none (a loop per case saves two instructions an output). */
static inline int32_t requantize_short_known(int32_t x2, short_t q, int shifts) {
    return high_mul_acc(x2, q.m0, shifts ? q.half + (x2 >> 31) : q.half) >> q.right;
}

#endif
