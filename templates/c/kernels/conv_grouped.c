/* Convolutions of any other group count, name_wB for each width B of OMPQC_CONV_GROUPED_WIDTHS: one output at a time
   over the taps inside the input. */
#include "ompqc.h"

#ifndef OMPQC_CONV_GROUPED_WIDTHS
#define OMPQC_CONV_GROUPED_WIDTHS OMPQC_ALL_WIDTHS
#endif

OMPQC_INLINE void conv_grouped(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, int bits) {
    const int32_t cin_g = p->in_c / p->groups, cout_g = p->out_c / p->groups;
    int32_t oy, ox, g, oc, ky, kx, ci;
    for (oy = 0; oy < p->out_h; oy++) {
        const int32_t iy0 = oy * p->stride_h - p->pad_t;
        for (ox = 0; ox < p->out_w; ox++) {
            const int32_t ix0 = ox * p->stride_w - p->pad_l;
            int8_t *y = out + (oy * p->out_w + ox) * p->out_c;
            for (g = 0; g < p->groups; g++) {
                for (oc = g * cout_g; oc < (g + 1) * cout_g; oc++) {
                    const uint8_t *row = p->weights + oc * p->row_bytes;
                    int32_t acc = p->bias[oc];
                    for (ky = 0; ky < p->k_h; ky++) {
                        const int32_t iy = iy0 + ky * p->dil_h;
                        if (iy < 0 || iy >= p->in_h) {
                            continue;
                        }
                        for (kx = 0; kx < p->k_w; kx++) {
                            const int32_t ix = ix0 + kx * p->dil_w;
                            const int8_t *x = in + (iy * p->in_w + ix) * p->in_c + g * cin_g;
                            const int32_t j0 = (ky * p->k_w + kx) * cin_g;
                            if (ix < 0 || ix >= p->in_w) {
                                continue;
                            }
                            for (ci = 0; ci < cin_g; ci++) {
                                acc += ((int32_t)x[ci] - p->in_zp) * weight(row, j0 + ci, bits);
                            }
                        }
                    }
                    y[oc] = clamp(p->out_zp + requantize(acc, p->mult[oc], p->shift[oc]), p->act_min, p->act_max);
                }
            }
        }
    }
}

#define OMPQC_CONV_GROUPED_AT(bits) \
    void OMPQC_NS(conv_grouped_w##bits)(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch) { \
        (void)scratch; \
        conv_grouped(p, in, out, bits); \
    }
OMPQC_CONV_GROUPED_WIDTHS(OMPQC_CONV_GROUPED_AT)
