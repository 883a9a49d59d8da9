/* The elementwise multiply (with broadcasting) of the portable and DSP variants. The including variant file defines
   mul_run(p, a, b, out, n), the products of n elements of a and b read in order (out may be a or b). Equal shapes
   run in one pass and a per-channel scale (squeeze-and-excitation) one pass per pixel; other broadcasts go element
   by element. */
#ifndef OMPQC_MUL_H
#define OMPQC_MUL_H

#include "binary.h"
#include "ompqc.h"

void OMPQC_NS(mul)(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out) {
    int32_t i;
    if (same_shape(p)) {
        mul_run(p, a, b, out, p->dims[0] * p->dims[1] * p->dims[2] * p->dims[3]);
        return;
    }
    if (last_axis_broadcast(p)) {
        const int32_t c = p->dims[3], pixels = p->dims[0] * p->dims[1] * p->dims[2];
        for (i = 0; i < pixels; i++) {
            mul_run(p, a + i * c, b, out + i * c, c);
        }
        return;
    }
    OMPQC_BROADCAST(p, {
        const int32_t prod = ((int32_t)a[ia] - p->a_zp) * ((int32_t)b[ib] - p->b_zp);
        out[n] = clamp(p->out_zp + requantize(prod, p->out_mult, p->out_shift), p->act_min, p->act_max);
    });
}

#endif
