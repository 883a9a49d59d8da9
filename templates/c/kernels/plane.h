/* The int16 plane of the depthwise kernels (depthwise3x3.h, depthwise.h): one channel's input copied into a plane
   padded to exactly its windows, the input zero point in the padding (the biases have the zero-point term folded
   in), then the sums of a band of output rows from it, then their outputs. */
#ifndef OMPQC_PLANE_H
#define OMPQC_PLANE_H

#include "ompqc.h"
#include "short_requant.h"

/* Whether the depthwise 3x3 driver walks layer p along its columns: rows shorter than 8 outputs under longer
   columns (depthwise3x3.h; plan::kernels sizes the sums by the same rule). */
static inline int plane_walks_columns(const OMPQC_NS(conv_t) *p) {
    return p->out_w < 8 && p->out_h > p->out_w;
}

/* A layer's plane: pw x ph cells, the input inside columns [lo, hi) and rows [y_lo, y_hi). */
typedef struct {
    int32_t pw, ph, lo, hi, y_lo, y_hi;
} plane_t;

static inline plane_t plane_of(const OMPQC_NS(conv_t) *p) {
    plane_t g;
    g.pw = (p->out_w - 1) * p->stride_w + (p->k_w - 1) * p->dil_w + 1;
    g.ph = (p->out_h - 1) * p->stride_h + (p->k_h - 1) * p->dil_h + 1;
    g.lo = p->pad_l < g.pw ? p->pad_l : g.pw;
    g.hi = p->in_w + p->pad_l < g.pw ? p->in_w + p->pad_l : g.pw;
    g.y_lo = p->pad_t < g.ph ? p->pad_t : g.ph;
    g.y_hi = p->in_h + p->pad_t < g.ph ? p->in_h + p->pad_t : g.ph;
    return g;
}

/* Every cell the zero point, once per call: each channel then overwrites only the inside. `slack` cells more past
   the end (reads that a zero tap weighs). */
static inline void plane_pad(int16_t *plane, const plane_t *g, int32_t zp, int32_t slack) {
    int32_t x;
    for (x = 0; x < g->pw * g->ph + slack; x++) {
        plane[x] = (int16_t)zp;
    }
}

/* Channel c of the input into the inside of the plane: the input pixel of plane cell (y, x) is
   (y - pad_t) * step_y + (x - pad_l) * step_x bytes from channel c's first (in_c and in_w * in_c, or swapped for a
   layer walked along its columns). */
static inline void plane_channel(const OMPQC_NS(conv_t) *p, const plane_t *g, const int8_t *in, int32_t c,
                                 int32_t step_y, int32_t step_x, int16_t *plane) {
    int32_t y;
    for (y = g->y_lo; y < g->y_hi; y++) {
        const int8_t *src = in + (y - p->pad_t) * step_y + (g->lo - p->pad_l) * step_x + c;
        int16_t *d = plane + y * g->pw + g->lo, *end = plane + y * g->pw + g->hi;
        /* Unrolled: the loop's test and the plane's increment are a third of a cell's instructions. */
#pragma GCC unroll 4
        for (; d < end; d++, src += step_x) {
            *d = *src;
        }
    }
}

/* Output rows of a depthwise channel one tap at a time: sums[y * n + x] = bias + the window at column x * stride_w
   of plane rows y * stride_h + ky * dil_h (each pw long) from r, with taps t (rows of kwe, at least k_w). */
OMPQC_INLINE void plane_rows_by_tap(const int16_t *r, int32_t pw, const int16_t *t, int32_t kwe,
                                    const OMPQC_NS(conv_t) *p, int32_t rows, int32_t bias, int32_t *sums) {
    const int32_t n = p->out_w, kh = p->k_h, kw = p->k_w, dh = p->dil_h * pw, dw = p->dil_w;
    const int32_t sx = p->stride_w, sy = p->stride_h * pw;
    int32_t y, x, ky, kx;
    for (y = 0; y < rows; y++, r += sy) {
        for (x = 0; x < n; x++) {
            const int16_t *q = r + x * sx;
            int32_t acc = bias;
            for (ky = 0; ky < kh; ky++, q += dh) {
                for (kx = 0; kx < kw; kx++) {
                    acc += q[kx * dw] * t[ky * kwe + kx];
                }
            }
            *sums++ = acc;
        }
    }
}

/* out[i * stride] = the requantized, offset and clamped sums[i] of layer p's channel c (portable C). */
__attribute__((unused)) OMPQC_HOT static void requantize_row(const OMPQC_NS(conv_t) *p, int32_t c,
                                                             const int32_t *sums, int32_t n, int8_t *out,
                                                             int32_t stride) {
    const int32_t *end = sums + n;
    const int32_t m0 = p->mult[c], shift = p->shift[c], zp = p->out_zp, lo = p->act_min, hi = p->act_max;
    if (p->short_requant == 2) {
        const short_t q = short_of_any(m0, shift, zp);
        for (; sums < end; sums++, out += stride) {
            *out = clamp(requantize_short(short_doubled(*sums, q), q), lo, hi);
        }
        return;
    }
    if (p->short_requant) {
        const short_t q = short_of(m0, shift, zp);
        for (; sums < end; sums++, out += stride) {
            *out = clamp(requantize_short(*sums * 2, q), lo, hi);
        }
        return;
    }
    for (; sums < end; sums++, out += stride) {
        *out = clamp(zp + requantize(*sums, m0, shift), lo, hi);
    }
}

#endif
