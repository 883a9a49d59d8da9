/* The depthwise kernels of any other window (a kernel size other than 3x3, or dilated), name_wB for each width B of
   OMPQC_DEPTHWISE_WIDTHS: one channel at a time through an int16 plane (plane.h), its taps as int16 with each kernel
   row padded by a zero tap to an even count (the DSP's SMLAD pairs). The including variant file defines
   dw_rows(r, pw, t, p, rows, bias, sums), the sums of a band of output rows, and plane_requantize (plane.h). */
#ifndef OMPQC_DEPTHWISE_H
#define OMPQC_DEPTHWISE_H

#include "ompqc.h"
#include "plane.h"

#ifndef OMPQC_DEPTHWISE_WIDTHS
#define OMPQC_DEPTHWISE_WIDTHS OMPQC_ALL_WIDTHS
#endif

/* `scratch`: the plane (one cell of slack: a row's last pair may read past the plane's end, against a zero tap),
   the taps (k_h rows of the even count kwe), then the int32 sums of a band of at least 32 outputs (whole rows). */
OMPQC_INLINE void depthwise(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch, int bits) {
    const plane_t g = plane_of(p);
    const int32_t c_n = p->in_c, kw = p->k_w, kwe = (kw + 1) & ~1, band = (32 + p->out_w - 1) / p->out_w;
    int16_t *plane = (int16_t *)scratch;
    int16_t *taps = (int16_t *)(scratch + ((2 * (g.pw * g.ph + 1) + 3) & ~3));
    int32_t *sums = (int32_t *)((uint8_t *)taps + ((2 * p->k_h * kwe + 3) & ~3));
    int32_t c, y, ky, kx;
    plane_pad(plane, &g, p->in_zp, 1);
    for (c = 0; c < c_n; c++) {
        const uint8_t *row = p->weights + c * p->row_bytes;
        for (ky = 0; ky < p->k_h; ky++) {
            for (kx = 0; kx < kwe; kx++) {
                taps[ky * kwe + kx] = (int16_t)(kx < kw ? weight(row, ky * kw + kx, bits) : 0);
            }
        }
        plane_channel(p, &g, in, c, p->in_w * c_n, c_n, plane);
        for (y = 0; y < p->out_h; y += band) {
            const int32_t rows = p->out_h - y < band ? p->out_h - y : band;
            dw_rows(plane + y * p->stride_h * g.pw, g.pw, taps, p, rows, p->bias[c], sums);
            plane_requantize(p, c, sums, rows * p->out_w, out + y * p->out_w * c_n + c, c_n);
        }
    }
}

#define OMPQC_DEPTHWISE_AT(bits) \
    void OMPQC_NS(depthwise_w##bits)(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch) { \
        depthwise(p, in, out, scratch, bits); \
    }
OMPQC_DEPTHWISE_WIDTHS(OMPQC_DEPTHWISE_AT)

#endif
