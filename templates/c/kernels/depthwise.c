/* Depthwise convolutions other than 3x3 without dilation, name_wB for each width B of OMPQC_DEPTHWISE_WIDTHS: four
   channels per pass over the taps inside the input. */
#include "ompqc.h"

#ifndef OMPQC_DEPTHWISE_WIDTHS
#define OMPQC_DEPTHWISE_WIDTHS OMPQC_ALL_WIDTHS
#endif

/* The kernel rows [k[0], k[1]) and columns [k[2], k[3]) of the window at input origin (iy0, ix0) that lie inside
   the input: padding contributes nothing, so only these taps are visited. */
static void window(const OMPQC_NS(conv_t) *p, int32_t iy0, int32_t ix0, int32_t *k) {
    k[0] = 0;
    while (k[0] < p->k_h && iy0 + k[0] * p->dil_h < 0) {
        k[0]++;
    }
    k[1] = p->k_h;
    while (k[1] > k[0] && iy0 + (k[1] - 1) * p->dil_h >= p->in_h) {
        k[1]--;
    }
    k[2] = 0;
    while (k[2] < p->k_w && ix0 + k[2] * p->dil_w < 0) {
        k[2]++;
    }
    k[3] = p->k_w;
    while (k[3] > k[2] && ix0 + (k[3] - 1) * p->dil_w >= p->in_w) {
        k[3]--;
    }
}

/* Channels c[0..3] at one output pixel over the taps inside the input; the four inputs of a tap are adjacent in
   memory. */
OMPQC_INLINE void depthwise4_at(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t iy0, int32_t ix0,
                                const int32_t *k, const int32_t *c, int32_t *acc, int bits) {
    const uint8_t *r0 = p->weights + c[0] * p->row_bytes, *r1 = p->weights + c[1] * p->row_bytes;
    const uint8_t *r2 = p->weights + c[2] * p->row_bytes, *r3 = p->weights + c[3] * p->row_bytes;
    const int32_t zp = p->in_zp;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], ky, kx;
    for (ky = k[0]; ky < k[1]; ky++) {
        const int8_t *row_in = in + (iy0 + ky * p->dil_h) * p->in_w * p->in_c;
        for (kx = k[2]; kx < k[3]; kx++) {
            const int8_t *x = row_in + (ix0 + kx * p->dil_w) * p->in_c;
            const int32_t j = ky * p->k_w + kx;
            a0 += ((int32_t)x[c[0]] - zp) * weight(r0, j, bits);
            a1 += ((int32_t)x[c[1]] - zp) * weight(r1, j, bits);
            a2 += ((int32_t)x[c[2]] - zp) * weight(r2, j, bits);
            a3 += ((int32_t)x[c[3]] - zp) * weight(r3, j, bits);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}
OMPQC_PER_WIDTH(__attribute__((noinline)), depthwise4,
                (const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t iy0, int32_t ix0, const int32_t *k,
                 const int32_t *c, int32_t *acc),
                (p, in, iy0, ix0, k, c, acc))

OMPQC_INLINE void depthwise(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, int bits) {
    int32_t oy, ox, oc;
    for (oy = 0; oy < p->out_h; oy++) {
        const int32_t iy0 = oy * p->stride_h - p->pad_t;
        for (ox = 0; ox < p->out_w; ox++) {
            const int32_t ix0 = ox * p->stride_w - p->pad_l;
            int8_t *y = out + (oy * p->out_w + ox) * p->out_c;
            int32_t k[4];
            window(p, iy0, ix0, k);
            for (oc = 0; oc < p->out_c; oc += 4) {
                /* The last group of fewer than four channels repeats its last channel. */
                int32_t ch[4], acc[4], i;
                for (i = 0; i < 4; i++) {
                    ch[i] = oc + i < p->out_c ? oc + i : p->out_c - 1;
                    acc[i] = p->bias[ch[i]];
                }
                OMPQC_AT_WIDTH(depthwise4, bits)(p, in, iy0, ix0, k, ch, acc);
                for (i = 0; i < 4; i++) {
                    y[ch[i]] = clamp(p->out_zp + requantize(acc[i], p->mult[ch[i]], p->shift[ch[i]]), p->act_min,
                                     p->act_max);
                }
            }
        }
    }
}

#define OMPQC_DEPTHWISE_AT(bits) \
    void OMPQC_NS(depthwise_w##bits)(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch) { \
        (void)scratch; \
        depthwise(p, in, out, bits); \
    }
OMPQC_DEPTHWISE_WIDTHS(OMPQC_DEPTHWISE_AT)
