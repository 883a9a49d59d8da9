/* Elementwise multiplication on the Arm DSP extension: the short requantization where the multiplier allows it (one
   loop per clamp), else the general one straight-line (dsp.h). */
#include "../binary.h"
#include "../ompqc.h"
#include "dsp.h"

/* The products of n elements read in order (out may be a or b): `short_form` the short requantization (2: with a
   right shift, so the sign's correction is a constant), `full` the clamp to the whole int8 range (constants in the
   copies below). */
OMPQC_INLINE void mul_with(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out, int32_t n,
                           int short_form, int full) {
    const int32_t a_zp = p->a_zp, b_zp = p->b_zp, zp = p->out_zp, lo = p->act_min, hi = p->act_max;
    int32_t i;
    if (short_form) {
        short_t q = short_of(p->out_mult, p->out_shift, zp);
        if (short_form == 2) {
            q.fix = -1;
        }
        for (i = 0; i < n; i++) {
            const int32_t x2 = ((int32_t)a[i] - a_zp) * (((int32_t)b[i] - b_zp) * 2);
            out[i] = clamp_dsp(requantize_short(x2, q), lo, hi, full);
        }
    } else {
        const requant_t q = requant_of(p->out_mult, p->out_shift);
        for (i = 0; i < n; i++) {
            out[i] = clamp_dsp(zp + requantize_dsp(((int32_t)a[i] - a_zp) * ((int32_t)b[i] - b_zp), q), lo, hi, full);
        }
    }
}

OMPQC_HOT static void mul_run(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out, int32_t n) {
    const int full = p->act_min == -128 && p->act_max == 127;
    if (!short_for_products(p->out_shift)) {
        mul_with(p, a, b, out, n, 0, 0);
    } else if (p->out_shift == 0) {
        mul_with(p, a, b, out, n, 1, 0);
    } else if (full) {
        mul_with(p, a, b, out, n, 2, 1);
    } else {
        mul_with(p, a, b, out, n, 2, 0);
    }
}

#include "../mul.h"
