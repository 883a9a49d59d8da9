/* The depthwise 3x3 kernels of the portable and DSP variants, name_wB for each width B of
   OMPQC_DEPTHWISE3X3_WIDTHS: one channel at a time through an int16 plane (plane.h). The including variant file
   defines dw3x3_rows(r, pw, sx, sy, rows, n, t, bias, sums), the sums of a band of output rows, and
   plane_requantize(sums, n, m0, shift, zp, lo, hi, out, stride), their outputs. */
#ifndef OMPQC_DEPTHWISE3X3_H
#define OMPQC_DEPTHWISE3X3_H

#include "ompqc.h"
#include "plane.h"

#ifndef OMPQC_DEPTHWISE3X3_WIDTHS
#define OMPQC_DEPTHWISE3X3_WIDTHS OMPQC_ALL_WIDTHS
#endif

/* Depthwise 3x3 without dilation, one channel at a time: the channel's input as an int16 plane, then each band of
   rows' sums, then its outputs (together, their registers spill). `scratch`: the plane, then the int32 sums of a
   band of at least 32 outputs. The taps t[0..8] are the channel's weights; t[9..11] hold the first two of each
   kernel row as int16 lanes and t[12] holds t[2] and t[5] (the DSP's SMLAD operands). */
OMPQC_INLINE void depthwise3x3(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch, int bits) {
    const plane_t g = plane_of(p);
    const int32_t c_n = p->in_c, pw = g.pw, band = (32 + p->out_w - 1) / p->out_w;
    int16_t *plane = (int16_t *)scratch;
    int32_t *sums = (int32_t *)(scratch + ((2 * pw * g.ph + 3) & ~3));
    int32_t c, y, j, t[13];
    plane_pad(plane, &g, p->in_zp, 0);
    for (c = 0; c < c_n; c++) {
        const uint8_t *row = p->weights + c * p->row_bytes;
        for (j = 0; j < 9; j++) {
            t[j] = weight(row, j, bits);
        }
        for (j = 0; j < 3; j++) {
            t[9 + j] = (int32_t)(((uint32_t)t[3 * j] & 0xFFFFu) | ((uint32_t)t[3 * j + 1] << 16));
        }
        t[12] = (int32_t)(((uint32_t)t[2] & 0xFFFFu) | ((uint32_t)t[5] << 16));
        plane_channel(p, &g, in, c, plane);
        for (y = 0; y < p->out_h; y += band) {
            const int32_t rows = p->out_h - y < band ? p->out_h - y : band;
            dw3x3_rows(plane + y * p->stride_h * pw, pw, p->stride_w, p->stride_h, rows, p->out_w, t, p->bias[c], sums);
            plane_requantize(sums, rows * p->out_w, p->mult[c], p->shift[c], p->out_zp, p->act_min, p->act_max,
                             out + y * p->out_w * c_n + c, c_n);
        }
    }
}

#define OMPQC_DEPTHWISE3X3_AT(bits) \
    void OMPQC_NS(depthwise3x3_w##bits)(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch) { \
        depthwise3x3(p, in, out, scratch, bits); \
    }
OMPQC_DEPTHWISE3X3_WIDTHS(OMPQC_DEPTHWISE3X3_AT)

#endif
