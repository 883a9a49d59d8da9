/* The depthwise 3x3 kernels, name_wB for each width B of OMPQC_DEPTHWISE3X3_WIDTHS: one channel at a time through
   an int16 plane (plane.h). The including variant file defines either plane_outputs (the arguments of
   plane_outputs_by_sums below), a band of outputs from the plane, or the two steps of the default one:
   dw3x3_rows(r, pw, sx, sy, rows, n, t, bias, sums), the sums of a band of output rows, and
   plane_requantize(p, c, sums, n, out, stride), the outputs of channel c. It may define plane_fill, a copy of a
   channel into the plane with plane_channel's arguments and numbers, and plane_band_outputs (below). */
#ifndef OMPQC_DEPTHWISE3X3_H
#define OMPQC_DEPTHWISE3X3_H

#include "ompqc.h"
#include "plane.h"

#ifndef plane_fill
#define plane_fill plane_channel
#endif

/* The outputs of a band (whole rows): at least this many, the sums' scratch (a variant that keeps no sums defines it
   to OMPQC_ALL_ROWS: every row in one band). */
#define OMPQC_ALL_ROWS 0x40000000
#ifndef plane_band_outputs
#define plane_band_outputs 32
#endif

#ifndef plane_outputs
/* The outputs of `rows` walked rows of n from plane rows r (pw cells long, sy apart, windows sx apart), with taps t,
   into out + y * out_row + x * out_step: their sums, then their outputs (together, their registers spill). */
OMPQC_INLINE void plane_outputs_by_sums(const OMPQC_NS(conv_t) *p, int32_t c, const int16_t *r, int32_t pw,
                                        int32_t sx, int32_t sy, int32_t rows, int32_t n, const int32_t *t,
                                        int32_t *sums, int8_t *out, int32_t out_row, int32_t out_step) {
    int32_t y;
    dw3x3_rows(r, pw, sx, sy, rows, n, t, p->bias[c], sums);
    if (out_row == n * out_step) {
        /* The band's outputs follow one another. */
        plane_requantize(p, c, sums, rows * n, out, out_step);
        return;
    }
    for (y = 0; y < rows; y++) {
        plane_requantize(p, c, sums + y * n, n, out + y * out_row, out_step);
    }
}
#define plane_outputs plane_outputs_by_sums
#endif

#ifndef OMPQC_DEPTHWISE3X3_WIDTHS
#define OMPQC_DEPTHWISE3X3_WIDTHS OMPQC_ALL_WIDTHS
#endif

/* Depthwise 3x3 without dilation, one channel at a time: the channel's input as an int16 plane, then the outputs of
   each band of rows (plane_outputs). `scratch`: the plane, then the int32 sums of a band of at least
   plane_band_outputs outputs. The taps t[0..8] are the channel's weights; t[9..11] hold the first two of each kernel
   row as int16 lanes and t[12] holds t[2] and t[5] (the DSP's SMLAD operands).

   Rows shorter than 8 outputs are walked along the columns instead when those are longer (plan::kernels sizes the
   sums by the same rule): the layer transposed (its plane, taps, strides and padding), each walked row then an
   output column. */
OMPQC_INLINE void depthwise3x3(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch, int bits) {
#ifdef OMPQC_DEPTHWISE3X3_FIRST
    if (OMPQC_DEPTHWISE3X3_FIRST(p, in, out, scratch, bits)) {
        return;
    }
#endif
    const int32_t c_n = p->in_c, transposed = plane_walks_columns(p);
    OMPQC_NS(conv_t) q = *p;
    if (transposed) {
        q.in_h = p->in_w;
        q.in_w = p->in_h;
        q.out_h = p->out_w;
        q.out_w = p->out_h;
        q.stride_h = p->stride_w;
        q.stride_w = p->stride_h;
        q.pad_t = p->pad_l;
        q.pad_l = p->pad_t;
    }
    const plane_t g = plane_of(&q);
    const int32_t pw = g.pw, band = (plane_band_outputs + q.out_w - 1) / q.out_w;
    /* Input bytes between the walk's rows and columns; output bytes between its rows and along them. */
    const int32_t step_y = transposed ? c_n : p->in_w * c_n, step_x = transposed ? p->in_w * c_n : c_n;
    const int32_t out_row = transposed ? c_n : p->out_w * c_n, out_step = transposed ? p->out_w * c_n : c_n;
    int16_t *plane = (int16_t *)scratch;
    int32_t *sums = (int32_t *)(scratch + ((2 * pw * g.ph + 3) & ~3));
    /* Zeroed: GCC's analyzer does not see that the taps' loop below always fills them. */
    int32_t c, y, j, t[13] = {0};
    plane_pad(plane, &g, p->in_zp, 0);
    for (c = 0; c < c_n; c++) {
        const uint8_t *row = p->weights + c * p->row_bytes;
        for (j = 0; j < 9; j++) {
            t[j] = weight(row, j, bits);
        }
        if (transposed) {
            /* The taps transposed: swap each pair across the diagonal. */
            int32_t v = t[1];
            t[1] = t[3];
            t[3] = v;
            v = t[2];
            t[2] = t[6];
            t[6] = v;
            v = t[5];
            t[5] = t[7];
            t[7] = v;
        }
        for (j = 0; j < 3; j++) {
            t[9 + j] = (int32_t)(((uint32_t)t[3 * j] & 0xFFFFu) | ((uint32_t)t[3 * j + 1] << 16));
        }
        t[12] = (int32_t)(((uint32_t)t[2] & 0xFFFFu) | ((uint32_t)t[5] << 16));
        plane_fill(&q, &g, in, c, step_y, step_x, plane);
        for (y = 0; y < q.out_h; y += band) {
            const int32_t rows = q.out_h - y < band ? q.out_h - y : band;
            plane_outputs(p, c, plane + y * q.stride_h * pw, pw, q.stride_w, q.stride_h, rows, q.out_w, t, sums,
                          out + y * out_row + c, out_row, out_step);
        }
    }
}

#define OMPQC_DEPTHWISE3X3_AT(bits) \
    void OMPQC_NS(depthwise3x3_w##bits)(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch) { \
        depthwise3x3(p, in, out, scratch, bits); \
    }
OMPQC_DEPTHWISE3X3_WIDTHS(OMPQC_DEPTHWISE3X3_AT)

#endif
