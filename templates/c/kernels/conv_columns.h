/* The one-group convolution kernels, name_wB for each width B of OMPQC_CONV_COLUMNS_WIDTHS: two output pixels at a
   time, each pixel's window gathered as a column. The including variant file defines the column element col_t,
   column(p, in, px, col, in_place, bits) and conv_pair(p, xa, xb, ya, yb, sums, bits). */
#ifndef OMPQC_CONV_COLUMNS_H
#define OMPQC_CONV_COLUMNS_H

#include "ompqc.h"

#ifndef OMPQC_CONV_COLUMNS_WIDTHS
#define OMPQC_CONV_COLUMNS_WIDTHS OMPQC_ALL_WIDTHS
#endif

/* `scratch`: the columns of two output pixels (8 * ceil(k / 4) bytes each), then their int32 sums (Helium). */
OMPQC_INLINE void conv_columns(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch, int bits) {
    const int32_t pixels = p->out_h * p->out_w, k = p->k_h * p->k_w * p->in_c;
    const int in_place = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_t == 0 &&
                         p->pad_l == 0 && p->out_h <= p->in_h && p->out_w == p->in_w;
    uint8_t *cols_b = scratch + 8 * ((k + 3) / 4);
    int32_t *sums = (int32_t *)(scratch + 16 * ((k + 3) / 4));
    int32_t px;
    for (px = 0; px < pixels; px += 2) {
        /* An odd last pixel is computed twice. */
        const int32_t pb = px + 1 < pixels ? px + 1 : px;
        const col_t *xa = column(p, in, px, scratch, in_place, bits);
        const col_t *xb = column(p, in, pb, cols_b, in_place, bits);
        conv_pair(p, xa, xb, out + px * p->out_c, out + pb * p->out_c, sums, bits);
    }
}

#define OMPQC_CONV_COLUMNS_AT(bits) \
    void OMPQC_NS(conv_columns_w##bits)(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch) { \
        conv_columns(p, in, out, scratch, bits); \
    }
OMPQC_CONV_COLUMNS_WIDTHS(OMPQC_CONV_COLUMNS_AT)

#endif
