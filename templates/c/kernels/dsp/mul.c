/* Elementwise multiplication on the Arm DSP extension: the requantization straight-line (dsp.h), one loop per
   clamp. */
#include "../binary.h"
#include "../ompqc.h"
#include "dsp.h"

/* The products of n elements read in order (out may be a or b). */
OMPQC_HOT static void mul_run(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out, int32_t n) {
    const int32_t a_zp = p->a_zp, b_zp = p->b_zp, zp = p->out_zp, lo = p->act_min, hi = p->act_max;
    const requant_t q = requant_of(p->out_mult, p->out_shift);
    int32_t i;
    if (lo == -128 && hi == 127) {
        for (i = 0; i < n; i++) {
            out[i] = clamp_dsp(zp + requantize_dsp(((int32_t)a[i] - a_zp) * ((int32_t)b[i] - b_zp), q), lo, hi, 1);
        }
    } else {
        for (i = 0; i < n; i++) {
            out[i] = clamp_dsp(zp + requantize_dsp(((int32_t)a[i] - a_zp) * ((int32_t)b[i] - b_zp), q), lo, hi, 0);
        }
    }
}

#include "../mul.h"
