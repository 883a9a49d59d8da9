/* The end of the dense dot products (dot1x4_at) of the variants, on their int16 input, and the portable output. */
#ifndef OMPQC_DENSE_DOT_H
#define OMPQC_DENSE_DOT_H

#include "ompqc.h"

/* acc[i] = the sum a_i given so far of row i plus those of the `rest` inputs after the last whole weight word. */
OMPQC_INLINE void dot1x4_end(const int16_t *x, const uint8_t *r0, const uint8_t *r1, const uint8_t *r2,
                             const uint8_t *r3, uint32_t rest, int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                             int32_t *acc, int bits) {
    uint32_t t;
    for (t = 0; t < rest; t++) {
        const int32_t s = x[t];
        a0 += s * weight(r0, (int32_t)t, bits);
        a1 += s * weight(r1, (int32_t)t, bits);
        a2 += s * weight(r2, (int32_t)t, bits);
        a3 += s * weight(r3, (int32_t)t, bits);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* clamp(zp + requantize(x, m0, shift), lo, hi), the portable way (`full` changes nothing here): the dense_out of the
   variants without a faster requantization. */
static inline int8_t dense_out_portable(int32_t x, int32_t m0, int32_t shift, int32_t zp, int32_t lo, int32_t hi,
                                        int full) {
    (void)full;
    return clamp(zp + requantize(x, m0, shift), lo, hi);
}

#endif
