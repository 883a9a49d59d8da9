/* Average pooling (`avg_pool`) and global average pooling (`global_avg_pool`), each exported when
   OMPQC_POOL_KERNELS names it. The including variant file defines POOL_LANES and window_sums(x0, rows, cols, row,
   step, left, s): s[i] = the sum of channel i of a window (rows x cols taps from x0, row and step bytes apart), for
   the POOL_LANES channels from x0 (at most `left`). */
#ifndef OMPQC_POOL_H
#define OMPQC_POOL_H

#include "ompqc.h"

#ifndef OMPQC_POOL_KERNELS
#define OMPQC_POOL_KERNELS(X) X(avg_pool) X(global_avg_pool)
#endif

/* Division rounded half away from zero. */
static int32_t rounded_div(int32_t sum, int32_t count) {
    return sum >= 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

static int32_t span(int32_t o, int32_t stride, int32_t k, int32_t len) {
    const int32_t start = o * stride, end = start + k < len ? start + k : len;
    return end > start ? end - start : 0;
}

OMPQC_INLINE void avg_pool(const OMPQC_NS(pool_t) *p, const int8_t *in, int8_t *out) {
    const int32_t c = p->c, row = p->dil_h * p->in_w * c, step = p->dil_w * c;
    int32_t oy, ox, ch, n, extra, ry[2], rx[2];
    for (oy = 0; oy < p->out_h; oy++) {
        taps(oy, p->stride_h, p->dil_h, p->pad_t, p->k_h, p->in_h, ry);
        for (ox = 0; ox < p->out_w; ox++) {
            const int32_t iy = oy * p->stride_h + ry[0] * p->dil_h - p->pad_t;
            int32_t count;
            taps(ox, p->stride_w, p->dil_w, p->pad_l, p->k_w, p->in_w, rx);
            count = (ry[1] - ry[0]) * (rx[1] - rx[0]);
            n = count;
            extra = 0;
            if (p->count_include_pad) {
                /* Padding holds the real value 0: the zero point. */
                n = span(oy, p->stride_h, p->k_h, p->in_h + p->pad_t + p->pad_b) *
                    span(ox, p->stride_w, p->k_w, p->in_w + p->pad_l + p->pad_r);
                extra = (n - count) * p->in_zp;
            }
            for (ch = 0; ch < c; ch += POOL_LANES) {
                int32_t s[POOL_LANES] = {0}, i;
                if (count > 0) {
                    const int8_t *x0 = in + (iy * p->in_w + ox * p->stride_w + rx[0] * p->dil_w - p->pad_l) * c + ch;
                    window_sums(x0, ry[1] - ry[0], rx[1] - rx[0], row, step, c - ch, s);
                }
                for (i = 0; i < POOL_LANES && ch + i < c; i++) {
                    out[(oy * p->out_w + ox) * c + ch + i] = clamp(rounded_div(s[i] + extra, n > 0 ? n : 1), -128, 127);
                }
            }
        }
    }
}

OMPQC_INLINE void global_avg_pool(const OMPQC_NS(global_pool_t) *p, const int8_t *in, int8_t *out) {
    const int32_t pixels = p->pixels, c = p->c;
    int32_t ch, i;
    for (ch = 0; ch < c; ch += POOL_LANES) {
        int32_t s[POOL_LANES] = {0}; /* Helium stores it through an intrinsic GCC's analyzer cannot see. */
        window_sums(in + ch, 1, pixels, 0, c, c - ch, s);
        for (i = 0; i < POOL_LANES && ch + i < c; i++) {
            out[ch + i] = clamp(rounded_div(s[i], pixels), -128, 127);
        }
    }
}

#define OMPQC_EXPORT_avg_pool \
    void OMPQC_NS(avg_pool)(const OMPQC_NS(pool_t) *p, const int8_t *in, int8_t *out) { \
        avg_pool(p, in, out); \
    }
#define OMPQC_EXPORT_global_avg_pool \
    void OMPQC_NS(global_avg_pool)(const OMPQC_NS(global_pool_t) *p, const int8_t *in, int8_t *out) { \
        global_avg_pool(p, in, out); \
    }
OMPQC_POOL_KERNELS(OMPQC_EXPORT)

#endif
