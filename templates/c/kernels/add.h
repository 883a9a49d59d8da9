/* The elementwise add (`add`, with broadcasting) and the add a convolution computes in bands (`conv_add`), each
   exported when OMPQC_ADD_KERNELS names it. The including variant file defines add_run(p, a, b, out, n), the add of
   n elements of inputs with the output's shape (out may be a or b). */
#ifndef OMPQC_ADD_H
#define OMPQC_ADD_H

#include "binary.h"
#include "ompqc.h"

#ifndef OMPQC_ADD_KERNELS
#define OMPQC_ADD_KERNELS(X) X(add) X(conv_add)
#endif

OMPQC_INLINE void add(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out) {
    if (same_shape(p)) {
        add_run(p, a, b, out, p->dims[0] * p->dims[1] * p->dims[2] * p->dims[3]);
        return;
    }
    OMPQC_BROADCAST(p, {
        const int32_t xa = requantize(((int32_t)a[ia] - p->a_zp) * (1 << p->left_shift), p->a_mult, p->a_shift);
        const int32_t xb = requantize(((int32_t)b[ib] - p->b_zp) * (1 << p->left_shift), p->b_mult, p->b_shift);
        out[n] = clamp(p->out_zp + requantize(xa + xb, p->out_mult, p->out_shift), p->act_min, p->act_max);
    });
}

/* A convolution whose output only feeds an equal-shape add: `band` output rows at a time into the front of `scratch`
   by the convolution kernel `conv`, each band added to the residual at once, so the convolution's output never
   exists whole and the add may write over the residual. The rest of `scratch` is the convolution's own, for one
   band. */
OMPQC_INLINE void conv_add(const OMPQC_NS(conv_t) *p, const OMPQC_NS(binary_t) *add, int32_t band,
                          OMPQC_NS(conv_fn) conv, const int8_t *in, const int8_t *residual, int8_t *out,
                          uint8_t *scratch) {
    const int32_t row = p->out_w * p->out_c;
    int8_t *y = (int8_t *)scratch;
    uint8_t *rest = scratch + ((band * row + 3) & ~3);
    OMPQC_NS(conv_t) q = *p;
    int32_t oy;
    for (oy = 0; oy < p->out_h; oy += band) {
        /* The band's first input row (the planner keeps it above the input's end). */
        const int32_t top = oy * p->stride_h - p->pad_t, skip = top < 0 ? 0 : top;
        q.out_h = p->out_h - oy < band ? p->out_h - oy : band;
        q.pad_t = skip - top;
        q.in_h = p->in_h - skip;
        conv(&q, in + skip * p->in_w * p->in_c, y, rest);
        add_run(add, y, residual + oy * row, out + oy * row, q.out_h * row);
    }
}

#define OMPQC_EXPORT_add \
    void OMPQC_NS(add)(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out) { \
        add(p, a, b, out); \
    }
#define OMPQC_EXPORT_conv_add \
    void OMPQC_NS(conv_add)(const OMPQC_NS(conv_t) *p, const OMPQC_NS(binary_t) *a, int32_t band, \
                            OMPQC_NS(conv_fn) conv, const int8_t *in, const int8_t *residual, int8_t *out, \
                            uint8_t *scratch) { \
        conv_add(p, a, band, conv, in, residual, out, scratch); \
    }
OMPQC_ADD_KERNELS(OMPQC_EXPORT)

#endif
