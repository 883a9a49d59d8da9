/* Dense (fully connected) layers, name_wB for each width B of OMPQC_DENSE_WIDTHS. */
#include "ompqc.h"

#ifndef OMPQC_DENSE_WIDTHS
#define OMPQC_DENSE_WIDTHS OMPQC_ALL_WIDTHS
#endif

OMPQC_INLINE void dense(const OMPQC_NS(dense_t) *p, const int8_t *in, int8_t *out, int bits) {
    int32_t o, j;
    for (o = 0; o < p->n_out; o++) {
        const uint8_t *row = p->weights + o * p->row_bytes;
        int32_t acc = p->bias[o];
        for (j = 0; j < p->k; j++) {
            acc += ((int32_t)in[j] - p->in_zp) * weight(row, j, bits);
        }
        out[o] = clamp(p->out_zp + requantize(acc, p->mult[o], p->shift[o]), p->act_min, p->act_max);
    }
}

#define OMPQC_DENSE_AT(bits) \
    void OMPQC_NS(dense_w##bits)(const OMPQC_NS(dense_t) *p, const int8_t *in, int8_t *out) { \
        dense(p, in, out, bits); \
    }
OMPQC_DENSE_WIDTHS(OMPQC_DENSE_AT)
