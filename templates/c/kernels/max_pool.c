/* Max pooling (padding is not read). */
#include "ompqc.h"

void OMPQC_NS(max_pool)(const OMPQC_NS(pool_t) *p, const int8_t *in, int8_t *out) {
    int32_t oy, ox, ch, ky, kx;
    for (oy = 0; oy < p->out_h; oy++) {
        for (ox = 0; ox < p->out_w; ox++) {
            for (ch = 0; ch < p->c; ch++) {
                int32_t best = -128;
                for (ky = 0; ky < p->k_h; ky++) {
                    const int32_t iy = oy * p->stride_h + ky * p->dil_h - p->pad_t;
                    if (iy < 0 || iy >= p->in_h) {
                        continue;
                    }
                    for (kx = 0; kx < p->k_w; kx++) {
                        const int32_t ix = ox * p->stride_w + kx * p->dil_w - p->pad_l;
                        if (ix >= 0 && ix < p->in_w && in[(iy * p->in_w + ix) * p->c + ch] > best) {
                            best = in[(iy * p->in_w + ix) * p->c + ch];
                        }
                    }
                }
                out[(oy * p->out_w + ox) * p->c + ch] = (int8_t)best;
            }
        }
    }
}
