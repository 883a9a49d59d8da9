/* Helpers of the Arm DSP extension (ARMv7E-M and later) variants. */
#ifndef OMPQC_DSP_H
#define OMPQC_DSP_H

#include <arm_acle.h>

#include "../ompqc.h"

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

/* The two sides of a requantization shift (requantize()) and the remainder mask of its right side. */
typedef struct {
    int32_t left, right, mask;
} shifts_t;

static inline shifts_t shifts_of(int32_t shift) {
    shifts_t s;
    s.left = shift > 0 ? shift : 0;
    s.right = shift > 0 ? 0 : -shift;
    s.mask = (int32_t)((1u << s.right) - 1u);
    return s;
}

/* clamp(zp + requantize(x, m0, shift), lo, hi) in straight-line code (GCC branches around the shift's and the
   clamp's rarer sides), with s = shifts_of(shift): the high multiply as SMULL and three word operations, then the
   rounding by the remainder. */
static inline int32_t requantize_clamped(int32_t x, int32_t m0, shifts_t s, int32_t zp, int32_t lo, int32_t hi) {
    int32_t l, h, t;
    __asm__("lsl %[x], %[x], %[left]\n\t"
            "smull %[l], %[h], %[x], %[m]\n\t"
            "adds %[l], %[l], #0x40000000\n\t"
            "adc %[h], %[h], #0\n\t"
            "lsl %[h], %[h], #1\n\t"
            "orr %[h], %[h], %[l], lsr #31\n\t"
            "lsr %[t], %[mask], #1\n\t"
            "add %[t], %[t], %[h], lsr #31\n\t"
            "and %[l], %[h], %[mask]\n\t"
            "asr %[h], %[h], %[right]\n\t"
            "cmp %[l], %[t]\n\t"
            "it gt\n\t"
            "addgt %[h], %[h], #1\n\t"
            "add %[h], %[h], %[zp]\n\t"
            "cmp %[h], %[lo]\n\t"
            "it lt\n\t"
            "movlt %[h], %[lo]\n\t"
            "cmp %[h], %[hi]\n\t"
            "it gt\n\t"
            "movgt %[h], %[hi]\n\t"
            : [x] "+&r"(x), [l] "=&r"(l), [h] "=&r"(h), [t] "=&r"(t)
            : [m] "r"(m0), [left] "r"(s.left), [right] "r"(s.right), [mask] "r"(s.mask), [zp] "r"(zp), [lo] "r"(lo),
              [hi] "r"(hi)
            : "cc");
    return h;
}

#endif
