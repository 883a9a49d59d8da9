/* The elementwise add (`add`, with broadcasting) and the add a convolution computes in bands (`conv_add`), each
   exported when OMPQC_ADD_KERNELS names it. The including variant file defines add_run(p, a, b, out, n), the add of
   n elements of inputs with the output's shape (out may be a or b); or, with OMPQC_SCALAR_ADD, the scalar add_run
   below, which takes short_requant.h's requantize_short (its high_mul_acc the ISA header's where it has one) and the
   variant's clamp_full(v) (v clamped to the int8 range; with OMPQC_FULL_CLAMP_COPIES the usual loop gets a copy for
   it). */
#ifndef OMPQC_ADD_H
#define OMPQC_ADD_H

#include "binary.h"
#include "ompqc.h"

#ifndef OMPQC_ADD_KERNELS
#define OMPQC_ADD_KERNELS(X) X(add) X(conv_add)
#endif

#ifdef OMPQC_SCALAR_ADD
/* The short form's loop: each requantization is short_requant.h's requantize_short of t = 2x (|x| < 2^29, so the
   bounds hold), without a zero point. `usual` (a constant): input a's shift is 0 (TFLite gives the input of the
   larger scale the multiplier 1/2) and input b's and the output's are not, so a's term is one high multiply and the
   others' sign corrections one addition each. `full`: the clamp is the whole int8 range. */
OMPQC_INLINE void add_short(const int8_t *a, const int8_t *b, int8_t *out, int32_t n, int32_t scale, int32_t a_off,
                            int32_t b_off, int32_t a_mult, int32_t b_mult, int32_t out_mult, int32_t ar, int32_t br,
                            int32_t outr, int32_t out_zp, int32_t lo, int32_t hi, int usual, int full) {
    const short_t qa = short_of(a_mult, -ar, 0);
    short_t qb = short_of(b_mult, -br, 0), qo = short_of(out_mult, -outr, 0);
    int32_t i;
    if (usual) {
        qb.fix = -1;
        qo.fix = -1;
    }
    for (i = 0; i < n; i++) {
        const int32_t xa = usual ? high_mul_acc(a[i] * scale + a_off, a_mult, 0)
                                 : requantize_short(a[i] * scale + a_off, qa);
        const int32_t xb = requantize_short(b[i] * scale + b_off, qb);
        const int32_t y = out_zp + requantize_short((xa + xb) * 2, qo);
        out[i] = full ? clamp_full(y) : clamp(y, lo, hi);
    }
}

/* The add of n elements of inputs with the output's shape (out may be a or b). */
OMPQC_HOT static void add_run(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out, int32_t n) {
    OMPQC_ADD_CONSTANTS(p);
    int32_t i;
    /* The usual case (multipliers below one, inputs shifted left by at most 20): every value stays below 2^29. */
    if (left <= 20 && a_shift <= 0 && b_shift <= 0 && out_shift <= 0) {
        const int32_t scale = 1 << (left + 1), a_off = -a_zp * scale, b_off = -b_zp * scale;
        const int full = lo == -128 && hi == 127;
        if (a_shift == 0 && b_shift < 0 && out_shift < 0) {
#ifdef OMPQC_FULL_CLAMP_COPIES
            /* A copy for the clamp that is one instruction. */
            if (full) {
                add_short(a, b, out, n, scale, a_off, b_off, a_mult, b_mult, out_mult, 0, -b_shift, -out_shift,
                          out_zp, lo, hi, 1, 1);
                return;
            }
#endif
            add_short(a, b, out, n, scale, a_off, b_off, a_mult, b_mult, out_mult, 0, -b_shift, -out_shift, out_zp,
                      lo, hi, 1, 0);
        } else if (b_shift == 0 && a_shift < 0 && out_shift < 0) {
            /* The same with the inputs' roles swapped (the sum commutes). */
            add_short(b, a, out, n, scale, b_off, a_off, b_mult, a_mult, out_mult, 0, -a_shift, -out_shift, out_zp,
                      lo, hi, 1, full);
        } else {
            add_short(a, b, out, n, scale, a_off, b_off, a_mult, b_mult, out_mult, -a_shift, -b_shift, -out_shift,
                      out_zp, lo, hi, 0, 0);
        }
        return;
    }
    for (i = 0; i < n; i++) {
        const int32_t xa = requantize(((int32_t)a[i] - a_zp) * (1 << left), a_mult, a_shift);
        const int32_t xb = requantize(((int32_t)b[i] - b_zp) * (1 << left), b_mult, b_shift);
        out[i] = clamp(out_zp + requantize(xa + xb, out_mult, out_shift), lo, hi);
    }
}
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
