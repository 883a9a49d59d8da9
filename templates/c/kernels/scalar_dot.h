/* The end of the portable variant's scalar dot products (dot2x2_at). The including file defines the column element
   col_t. */
#ifndef OMPQC_SCALAR_DOT_H
#define OMPQC_SCALAR_DOT_H

#include "ompqc.h"

/* acc = the sums {xa.r1, xa.r2, xb.r1, xb.r2} given so far (a11 .. a22) plus those of the `rest` inputs after the
   last whole weight word, each weight read on its own. */
OMPQC_INLINE void dot2x2_end(const col_t *xa, const col_t *xb, const uint8_t *r1, const uint8_t *r2, uint32_t rest,
                             int32_t a11, int32_t a12, int32_t a21, int32_t a22, int32_t *acc, int bits) {
    uint32_t t;
    for (t = 0; t < rest; t++) {
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

#endif
