/* Max pooling (padding is not read). */
#include "ompqc.h"

void OMPQC_NS(max_pool)(const OMPQC_NS(pool_t) *p, const int8_t *in, int8_t *out) {
    const int32_t c = p->c, row = p->dil_h * p->in_w * c, step = p->dil_w * c;
    int32_t oy, ox, ch, ky, kx, ry[2], rx[2];
    for (oy = 0; oy < p->out_h; oy++) {
        taps(oy, p->stride_h, p->dil_h, p->pad_t, p->k_h, p->in_h, ry);
        for (ox = 0; ox < p->out_w; ox++) {
            /* The window's taps inside the input, found once for every channel. */
            const int32_t iy = oy * p->stride_h + ry[0] * p->dil_h - p->pad_t;
            int8_t *o = out + (oy * p->out_w + ox) * c;
            taps(ox, p->stride_w, p->dil_w, p->pad_l, p->k_w, p->in_w, rx);
            for (ch = 0; ch < c; ch++) {
                const int8_t *x0 = in + (iy * p->in_w + ox * p->stride_w + rx[0] * p->dil_w - p->pad_l) * c + ch;
                int32_t best = -128;
                for (ky = ry[0]; ky < ry[1]; ky++, x0 += row) {
                    const int8_t *x = x0;
                    for (kx = rx[0]; kx < rx[1]; kx++, x += step) {
                        best = *x > best ? *x : best;
                    }
                }
                o[ch] = (int8_t)best;
            }
        }
    }
}
