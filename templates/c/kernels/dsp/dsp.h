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

#endif
