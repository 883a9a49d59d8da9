/* Elementwise adds, portable C (the reference among the C kernels). */
#include "ompqc.h"

/* The add of n elements of inputs with the output's shape (out may be a or b). */
OMPQC_HOT static void add_run(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out, int32_t n) {
    /* Locals: the output stores may alias the parameter block. */
    const int32_t a_zp = p->a_zp, b_zp = p->b_zp, out_zp = p->out_zp, left = p->left_shift;
    const int32_t a_mult = p->a_mult, a_shift = p->a_shift, b_mult = p->b_mult, b_shift = p->b_shift;
    const int32_t out_mult = p->out_mult, out_shift = p->out_shift, lo = p->act_min, hi = p->act_max;
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t xa = requantize(((int32_t)a[i] - a_zp) * (1 << left), a_mult, a_shift);
        const int32_t xb = requantize(((int32_t)b[i] - b_zp) * (1 << left), b_mult, b_shift);
        out[i] = clamp(out_zp + requantize(xa + xb, out_mult, out_shift), lo, hi);
    }
}

#include "add.h"
