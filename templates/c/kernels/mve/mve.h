/* Helpers of the Arm Helium (M-profile vector extension) variants. */
#ifndef OMPQC_MVE_H
#define OMPQC_MVE_H

#include <arm_mve.h>

#include "../ompqc.h"

/* requantize() on four lanes whose shifts sh are all <= 0: VQRDMULH is the saturating rounding doubling high
   multiply; before VRSHL's rounding right shift, a negative value is taken one lower so that halves round away
   from zero as RoundingDivideByPOT does (saturating: the lowest value rounds the same either way), in the lanes that
   shift right only. */
static inline int32x4_t requantize_down_v(int32x4_t x, int32x4_t m0, int32x4_t sh) {
    x = vqrdmulhq_s32(x, m0);
    x = vqaddq_s32(x, vandq_s32(vshrq_n_s32(x, 31), vshrq_n_s32(sh, 31)));
    return vrshlq_s32(x, sh);
}

/* requantize() on four lanes of any shifts sh: the lanes that shift left do so before the multiply, then the rest
   as requantize_down_v with the right shifts alone. */
static inline int32x4_t requantize_v(int32x4_t x, int32x4_t m0, int32x4_t sh) {
    const int32x4_t zero = vdupq_n_s32(0);
    return requantize_down_v(vshlq_s32(x, vmaxq_s32(sh, zero)), m0, vminq_s32(sh, zero));
}

/* The same with one multiplier and shift for every lane (scalar operands: no vector registers for them): a shift
   right (shift < 0) or left (shift >= 0), and either. */
static inline int32x4_t requantize_right_n(int32x4_t x, int32_t m0, int32_t shift) {
    x = vqrdmulhq_n_s32(x, m0);
    return vrshlq_n_s32(vqaddq_s32(x, vshrq_n_s32(x, 31)), shift);
}

static inline int32x4_t requantize_left_n(int32x4_t x, int32_t m0, int32_t shift) {
    return vqrdmulhq_n_s32(vshlq_r_s32(x, shift), m0);
}

static inline int32x4_t requantize_n(int32x4_t x, int32_t m0, int32_t shift) {
    return shift < 0 ? requantize_right_n(x, m0, shift) : requantize_left_n(x, m0, shift);
}

/* A layer's requantization constants, read before any output is stored (the outputs may alias the parameter
   block). */
typedef struct {
    const int8_t *shift;
    const int32_t *mult, *bias;
    int32_t zp, lo, hi;
} requant_consts_t;

/* The outputs of sums s + bias b, requantized (`down`: no channel's shift is positive), offset and clamped, at
   out[c .. c + 3] (`whole`: all four lanes stored without a predicate; else the lanes of q). */
OMPQC_INLINE void requantize_store(const requant_consts_t *k, int32x4_t s, int32x4_t b, int32x4_t m0, int32x4_t sh,
                                   int8_t *out, int32_t c, mve_pred16_t q, int whole, int down) {
    const int32x4_t y = down ? requantize_down_v(vaddq_s32(s, b), m0, sh) : requantize_v(vaddq_s32(s, b), m0, sh);
    int32x4_t x = vaddq_n_s32(y, k->zp);
    x = vminq_s32(vmaxq_s32(x, vdupq_n_s32(k->lo)), vdupq_n_s32(k->hi));
    if (whole) {
        vstrbq_s32(out + c, x);
    } else {
        vstrbq_p_s32(out + c, x, q);
    }
}

#endif
