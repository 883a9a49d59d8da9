/* The outputs of two pixels of a one-group convolution from the portable variant's scalar dot products: the
   including file defines dot2x2_w8, _w4 and _w2 (OMPQC_PER_WIDTH). */
#ifndef OMPQC_CONV_PAIR_H
#define OMPQC_CONV_PAIR_H

#include "ompqc.h"
#include "short_requant.h"

/* Output pixels ya and yb (columns xa and xb) of a one-group convolution. */
OMPQC_INLINE void conv_pair(const OMPQC_NS(conv_t) *p, const col_t *xa, const col_t *xb, int8_t *ya, int8_t *yb,
                            int32_t *sums, int bits) {
    /* Locals: the output stores may alias the parameter block. */
    const int32_t k = p->k_h * p->k_w * p->in_c, n = p->out_c, rb = p->row_bytes, zp = p->out_zp;
    const int32_t a_lo = p->act_min, a_hi = p->act_max, short_form = p->short_requant;
    const uint8_t *weights = p->weights;
    const int32_t *bias = p->bias, *mult = p->mult;
    const int8_t *shift = p->shift;
    int32_t oc;
    for (oc = 0; oc < n; oc += 2) {
        /* An odd last channel is computed twice. */
        const int32_t od = oc + 1 < n ? oc + 1 : oc;
        int32_t acc[4];
        OMPQC_AT_WIDTH(dot2x2, bits)(xa, xb, weights + oc * rb, weights + od * rb, (uint32_t)k, acc);
        if (short_form) {
            const short_t qc = short_of(mult[oc], shift[oc], zp), qd = short_of(mult[od], shift[od], zp);
            ya[oc] = clamp(requantize_short(2 * (acc[0] + bias[oc]), qc), a_lo, a_hi);
            ya[od] = clamp(requantize_short(2 * (acc[1] + bias[od]), qd), a_lo, a_hi);
            yb[oc] = clamp(requantize_short(2 * (acc[2] + bias[oc]), qc), a_lo, a_hi);
            yb[od] = clamp(requantize_short(2 * (acc[3] + bias[od]), qd), a_lo, a_hi);
        } else {
            ya[oc] = clamp(zp + requantize(acc[0] + bias[oc], mult[oc], shift[oc]), a_lo, a_hi);
            ya[od] = clamp(zp + requantize(acc[1] + bias[od], mult[od], shift[od]), a_lo, a_hi);
            yb[oc] = clamp(zp + requantize(acc[2] + bias[oc], mult[oc], shift[oc]), a_lo, a_hi);
            yb[od] = clamp(zp + requantize(acc[3] + bias[od], mult[od], shift[od]), a_lo, a_hi);
        }
    }
    (void)sums;
}

#endif
