/* Elementwise multiplication with broadcasting. */
#include "binary.h"
#include "ompqc.h"

void OMPQC_NS(mul)(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out) {
    OMPQC_BROADCAST(p, {
        const int32_t prod = ((int32_t)a[ia] - p->a_zp) * ((int32_t)b[ib] - p->b_zp);
        out[n] = clamp(p->out_zp + requantize(prod, p->out_mult, p->out_shift), p->act_min, p->act_max);
    });
}
