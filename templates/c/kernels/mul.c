/* Elementwise multiplication, portable C (the reference among the C kernels). */
#include "binary.h"
#include "ompqc.h"
#include "short_requant.h"

/* The products of n elements read in order (out may be a or b). */
OMPQC_HOT static void mul_run(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out, int32_t n) {
    const int32_t a_zp = p->a_zp, b_zp = p->b_zp, zp = p->out_zp, m0 = p->out_mult, shift = p->out_shift;
    const int32_t lo = p->act_min, hi = p->act_max;
    int32_t i;
    if (short_for_products(shift)) {
        const short_t q = short_of(m0, shift, zp);
        for (i = 0; i < n; i++) {
            out[i] = clamp(requantize_short(((int32_t)a[i] - a_zp) * (((int32_t)b[i] - b_zp) * 2), q), lo, hi);
        }
        return;
    }
    for (i = 0; i < n; i++) {
        out[i] = clamp(zp + requantize(((int32_t)a[i] - a_zp) * ((int32_t)b[i] - b_zp), m0, shift), lo, hi);
    }
}

#include "mul.h"
