/* The column gather of the one-group convolution kernels. The including file defines copy_bytes(dst, src, n) and
   fill_bytes(dst, v, n), its variant's byte copy and fill. */
#ifndef OMPQC_COLUMNS_H
#define OMPQC_COLUMNS_H

#include "ompqc.h"

/* The window of output pixel `px` as a column: k_h * k_w * in_c inputs in the weights' order ([ky][kx][ci]), taps in
   the padding holding the input zero point (the one-group kernels' biases have the zero-point term folded in). */
OMPQC_NO_LIBCALL static void columns(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, int8_t *col) {
    const int32_t iy0 = px / p->out_w * p->stride_h - p->pad_t, ix0 = px % p->out_w * p->stride_w - p->pad_l;
    const int32_t c = p->in_c, run = p->k_w * c;
    int32_t ky, kx;
    if (p->dil_w == 1 && iy0 >= 0 && ix0 >= 0 && iy0 + (p->k_h - 1) * p->dil_h < p->in_h && ix0 + p->k_w <= p->in_w) {
        /* The window inside the input (most pixels): one copy a row, no per-row bounds. */
        const int8_t *src = in + (iy0 * p->in_w + ix0) * c;
        const int32_t rows = p->dil_h * p->in_w * c;
        for (ky = 0; ky < p->k_h; ky++, col += run, src += rows) {
            copy_bytes(col, src, run);
        }
        return;
    }
    for (ky = 0; ky < p->k_h; ky++, col += run) {
        const int32_t iy = iy0 + ky * p->dil_h;
        if (iy < 0 || iy >= p->in_h) {
            fill_bytes(col, p->in_zp, run);
        } else if (p->dil_w == 1) {
            /* One copy of the taps inside the input, the padding either side filled. */
            const int32_t lo = ix0 >= 0 ? 0 : -ix0 < p->k_w ? -ix0 : p->k_w;
            const int32_t end = p->in_w - ix0 < p->k_w ? p->in_w - ix0 : p->k_w, hi = end > lo ? end : lo;
            if (lo > 0) {
                fill_bytes(col, p->in_zp, lo * c);
            }
            if (hi > lo) {
                copy_bytes(col + lo * c, in + (iy * p->in_w + ix0 + lo) * c, (hi - lo) * c);
            }
            if (hi < p->k_w) {
                fill_bytes(col + hi * c, p->in_zp, (p->k_w - hi) * c);
            }
        } else {
            for (kx = 0; kx < p->k_w; kx++) {
                const int32_t ix = ix0 + kx * p->dil_w;
                if (ix < 0 || ix >= p->in_w) {
                    fill_bytes(col + kx * c, p->in_zp, c);
                } else {
                    copy_bytes(col + kx * c, in + (iy * p->in_w + ix) * c, c);
                }
            }
        }
    }
}

/* The int8 column of output pixel `px` at `col`, or with `in_place` the input pixel itself (1x1, stride 1, no
   padding): the columns of the variants whose dot products read int8. */
static inline const int8_t *int8_column(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, uint8_t *col,
                                        int in_place) {
    if (in_place) {
        return in + px * p->in_c;
    }
    columns(p, in, px, (int8_t *)col);
    return (const int8_t *)col;
}

#endif
