/* Helpers of the Arm DSP extension (ARMv7E-M and later) variants. */
#ifndef OMPQC_DSP_H
#define OMPQC_DSP_H

#include <arm_acle.h>

#include "../ompqc.h"

/* acc + round(t * m / 2^32), rounding half up: one SMMLAR (short_requant.h's portable form takes an SMLAL and a
   move). */
#define OMPQC_HIGH_MUL_ACC
static inline int32_t high_mul_acc(int32_t t, int32_t m, int32_t acc) {
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(t), "r"(m), "r"(acc));
    return r;
}

#include "../short_requant.h"

/* A clamp to the whole int8 range is one SSAT here: loops whose clamp may be that take a copy for it (dense.h,
   add.h). */
#define OMPQC_FULL_CLAMP_COPIES

/* Four bytes from any address (one LDR: ARMv7E-M and later load unaligned words). */
static inline uint32_t load32(const void *a) {
    uint32_t v;
    memcpy(&v, a, 4);
    return v;
}

/* SXTB16 of x rotated right by 8 (bytes 1 and 3 as two int16 lanes): ACLE has no intrinsic for the rotated form. */
static inline int32_t sxtb16_ror8(uint32_t x) {
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* A channel's requantization (requantize()) as the DSP kernels run it: the multiplier doubled for SMMLAR, the
   shift's two sides (a zero multiplier shifts x out: register shifts by 32 give 0), the right side's remainder mask
   and half of it. */
typedef struct {
    int32_t m2, left, right, mask, half;
} requant_t;

/* Straight-line (GCC branches on the C's conditions): the shift lies in [-31, 31], so USAT to 5 bits gives each
   side; the mask is ~(~0 << right). */
static inline requant_t requant_of(int32_t m0, int32_t shift) {
    requant_t q;
    __asm__("lsl %[m2], %[m0], #1\n\t"
            "usat %[left], #5, %[shift]\n\t"
            "cmp %[m0], #0\n\t"
            "it eq\n\t"
            "moveq %[left], #32\n\t"
            "rsb %[right], %[shift], #0\n\t"
            "usat %[right], #5, %[right]\n\t"
            "mvn %[mask], #0\n\t"
            "lsl %[mask], %[mask], %[right]\n\t"
            "mvn %[mask], %[mask]\n\t"
            "lsr %[half], %[mask], #1\n\t"
            : [m2] "=&r"(q.m2), [left] "=&r"(q.left), [right] "=&r"(q.right), [mask] "=&r"(q.mask), [half] "=r"(q.half)
            : [m0] "r"(m0), [shift] "r"(shift)
            : "cc");
    return q;
}

/* requantize(x, m0, shift), exactly: for m0 in [2^30, 2^31), x * 2 m0 = x * 2^32 + x * (2 m0 - 2^32), so SMMLAR's
   rounded high half of x * m2 plus x is round(x * m0 / 2^31) as requantize() rounds it, for every x; then the right
   shift rounded by its remainder. Straight-line: GCC branches around the rarer sides of the C. */
static inline int32_t requantize_dsp(int32_t x, requant_t q) {
    int32_t h, r, t;
    __asm__("lsl %[x], %[x], %[left]\n\t"
            "smmlar %[h], %[x], %[m2], %[x]\n\t"
            "and %[r], %[h], %[mask]\n\t"
            "add %[t], %[half], %[h], lsr #31\n\t"
            "asr %[h], %[h], %[right]\n\t"
            "cmp %[r], %[t]\n\t"
            "it gt\n\t"
            "addgt %[h], %[h], #1\n\t"
            : [x] "+&r"(x), [h] "=&r"(h), [r] "=&r"(r), [t] "=&r"(t)
            : [m2] "r"(q.m2), [left] "r"(q.left), [right] "r"(q.right), [mask] "r"(q.mask), [half] "r"(q.half)
            : "cc");
    return h;
}

/* v clamped to [lo, hi]: with the whole int8 range one SSAT, else two conditional moves. */
static inline int8_t clamp_dsp(int32_t v, int32_t lo, int32_t hi, int full) {
    if (full) {
        return (int8_t)__ssat(v, 8);
    }
    __asm__("cmp %[v], %[lo]\n\t"
            "it lt\n\t"
            "movlt %[v], %[lo]\n\t"
            "cmp %[v], %[hi]\n\t"
            "it gt\n\t"
            "movgt %[v], %[hi]\n\t"
            : [v] "+r"(v)
            : [lo] "r"(lo), [hi] "r"(hi)
            : "cc");
    return (int8_t)v;
}

/* out[i * stride] = the requantized, offset and clamped sums[i] of layer p's channel c (the depthwise planes' rows;
   one loop per form and clamp). */
OMPQC_INLINE void requantize_row_with(const OMPQC_NS(conv_t) *p, int32_t c, const int32_t *sums, int32_t n,
                                      int8_t *out, int32_t stride, int short_form, int full) {
    const int32_t *end = sums + n;
    const int32_t m0 = p->mult[c], shift = p->shift[c], zp = p->out_zp, lo = p->act_min, hi = p->act_max;
    if (short_form) {
        const short_t q = short_of_any(m0, shift, zp);
        if (q.fix) {
            /* A right shift: no left one. */
            for (; sums < end; sums++, out += stride) {
                *out = clamp_dsp(requantize_short_known(*sums * 2, q, 1), lo, hi, full);
            }
        } else {
            for (; sums < end; sums++, out += stride) {
                *out = clamp_dsp(requantize_short_known(short_doubled(*sums, q), q, 0), lo, hi, full);
            }
        }
    } else {
        const requant_t q = requant_of(m0, shift);
        for (; sums < end; sums++, out += stride) {
            *out = clamp_dsp(zp + requantize_dsp(*sums, q), lo, hi, full);
        }
    }
}
__attribute__((unused)) OMPQC_HOT static void requantize_row_dsp(const OMPQC_NS(conv_t) *p, int32_t c,
                                                                 const int32_t *sums, int32_t n, int8_t *out,
                                                                 int32_t stride) {
    const int full = p->act_min == -128 && p->act_max == 127;
    if (!p->short_requant) {
        requantize_row_with(p, c, sums, n, out, stride, 0, 0);
    } else if (full) {
        requantize_row_with(p, c, sums, n, out, stride, 1, 1);
    } else {
        requantize_row_with(p, c, sums, n, out, stride, 1, 0);
    }
}

#endif
