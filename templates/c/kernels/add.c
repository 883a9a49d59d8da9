/* Elementwise adds, portable C (the reference among the C kernels). */
#include "binary.h"
#include "ompqc.h"

/* The add of n elements of inputs with the output's shape (out may be a or b). */
OMPQC_HOT static void add_run(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out, int32_t n) {
    OMPQC_ADD_CONSTANTS(p);
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t xa = requantize(((int32_t)a[i] - a_zp) * (1 << left), a_mult, a_shift);
        const int32_t xb = requantize(((int32_t)b[i] - b_zp) * (1 << left), b_mult, b_shift);
        out[i] = clamp(out_zp + requantize(xa + xb, out_mult, out_shift), lo, hi);
    }
}

#include "add.h"
