/* The one-group convolution kernels, name_wB for each width B of OMPQC_CONV_COLUMNS_WIDTHS: two output pixels at a
   time, each pixel's window gathered as a column. The including variant file defines
   conv_pixels(p, in, px, pb, ya, yb, scratch, in_place, bits), the outputs ya and yb of pixels px and pb; or, with
   OMPQC_COLUMN_PAIR, the column element col_t, column(p, in, px, col, in_place, bits) and
   conv_pair(p, xa, xb, ya, yb, sums, bits), which make the conv_pixels below. A variant that defines
   OMPQC_BLOCK_PIXELS_AT(bits), the pixels of a block at that width (more than 2, or it takes pairs), also defines
   conv_pixel_block(p, in, px, pixels, out, scratch, in_place, bits), the outputs of pixels px onwards, the last one
   repeated past the end; with OMPQC_BLOCKS_ONLY it has no pairs. */
#ifndef OMPQC_CONV_COLUMNS_H
#define OMPQC_CONV_COLUMNS_H

#include "ompqc.h"

#ifndef OMPQC_CONV_COLUMNS_WIDTHS
#define OMPQC_CONV_COLUMNS_WIDTHS OMPQC_ALL_WIDTHS
#endif

#ifdef OMPQC_COLUMN_PAIR
/* `scratch`: the columns of the two pixels (8 * ceil(k / 4) bytes each), then their int32 sums (Helium). A variant
   may define OMPQC_PIXELS_FIRST(p, in, px, pb, ya, yb, sums, bits), a way to the outputs that needs no columns,
   returning 0 where it does not apply. */
OMPQC_INLINE void conv_pixels(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, int32_t pb, int8_t *ya,
                              int8_t *yb, uint8_t *scratch, int in_place, int bits) {
    const int32_t k = p->k_h * p->k_w * p->in_c;
#ifdef OMPQC_PIXELS_FIRST
    if (OMPQC_PIXELS_FIRST(p, in, px, pb, ya, yb, (int32_t *)(scratch + 16 * ((k + 3) / 4)), bits)) {
        return;
    }
#endif
    const col_t *xa = column(p, in, px, scratch, in_place, bits);
    const col_t *xb = column(p, in, pb, scratch + 8 * ((k + 3) / 4), in_place, bits);
    conv_pair(p, xa, xb, ya, yb, (int32_t *)(scratch + 16 * ((k + 3) / 4)), bits);
}
#endif

OMPQC_INLINE void conv_columns(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch, int bits) {
    const int32_t pixels = p->out_h * p->out_w;
    /* A 1x1 window of stride 1 without padding is the input pixel itself. */
    const int in_place = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_t == 0 &&
                         p->pad_l == 0 && p->out_h <= p->in_h && p->out_w == p->in_w;
    int32_t px;
#ifdef OMPQC_BLOCK_PIXELS_AT
    if (OMPQC_BLOCK_PIXELS_AT(bits) > 2) {
        for (px = 0; px < pixels; px += OMPQC_BLOCK_PIXELS_AT(bits)) {
            conv_pixel_block(p, in, px, pixels, out, scratch, in_place, bits);
        }
        return;
    }
#endif
#ifndef OMPQC_BLOCKS_ONLY
    for (px = 0; px < pixels; px += 2) {
        /* An odd last pixel is computed twice. */
        const int32_t pb = px + 1 < pixels ? px + 1 : px;
        conv_pixels(p, in, px, pb, out + px * p->out_c, out + pb * p->out_c, scratch, in_place, bits);
    }
#endif
}

#define OMPQC_CONV_COLUMNS_AT(bits) \
    void OMPQC_NS(conv_columns_w##bits)(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch) { \
        conv_columns(p, in, out, scratch, bits); \
    }
OMPQC_CONV_COLUMNS_WIDTHS(OMPQC_CONV_COLUMNS_AT)

#endif
