/* Depthwise 3x3 convolutions on Helium: the portable driver (depthwise3x3.h, one channel at a time through its int16
   plane, filled by gathers), each output window one VMLADAV, four outputs requantized as a vector. */
#include "../ompqc.h"
#include "mve.h"
#include "../plane.h"

/* The three plane rows (pw cells each, int16, `pw` apart) of a walked output row interleaved as bytes, the cells of
   one plane column together: w[3 * x + ky] = row ky's cell x. Eight cells a step, each row's last step storing up
   to seven cells past it (into the slack after w) and reading past the row (into the next one or, for the plane's
   last row, into w's own slack). */
OMPQC_INLINE void interleave_rows(const int16_t *r, int32_t pw, int8_t *w) {
    const uint16x8_t at = vmulq_n_u16(vidupq_n_u16(0, 1), 3);
    int32_t ky, x;
    for (ky = 0; ky < 3; ky++, r += pw) {
        for (x = 0; x < pw; x += 8) {
            vstrbq_scatter_offset_s16(w + 3 * x + ky, at, vldrhq_s16(r + x));
        }
    }
}

/* Lane i of a window's taps: the byte offset in t (int32, little-endian) of tap 3 * (i % 3) + i / 3 (the window's
   order: plane column by column), lanes 9 to 15 zero. */
static const uint8_t window_taps[16] = {0, 12, 24, 4, 16, 28, 8, 20, 32, 0, 0, 0, 0, 0, 0, 0};

/* plane_outputs on Helium, with the stride along the walk a constant where it is 1 (sx1) and the shift's sign a
   constant (right: the channel's shift is negative): per walked row its three plane rows interleaved
   (interleave_rows, into the scratch after the plane), where each output's window is 9 consecutive bytes; each output
   one 16-lane load and one VMLADAV against the taps in the same order (lanes 9 to 15 zero, so the bytes after the
   window weigh nothing); four outputs' sums requantized as a vector and stored by a scatter. */
OMPQC_INLINE void plane_outputs_at(const OMPQC_NS(conv_t) *p, int32_t c, const int16_t *r, int32_t pw, int32_t sx,
                                   int32_t sy, int32_t rows, int32_t n, const int32_t *t, int8_t *w, int8_t *out,
                                   int32_t out_row, int32_t out_step, int sx1, int right) {
    const uint32x4_t at = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)out_step);
    const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
    const int32_t bias = p->bias[c], m0 = p->mult[c], shift = p->shift[c], zp = p->out_zp;
    const int32_t step = sx1 ? 3 : 3 * sx;
    const int8x16_t taps = vldrbq_gather_offset_z_s8((const int8_t *)t, vldrbq_u8(window_taps), vctp8q(9));
    int32_t y, x;
    for (y = 0; y < rows; y++, r += sy * pw, out += out_row) {
        const int8_t *q = w;
        int8_t *o = out;
        interleave_rows(r, pw, w);
        for (x = 0; x < n; x += 4, q += 4 * step, o += 4 * out_step) {
            int32x4_t v = vdupq_n_s32(vmladavq_s8(vldrbq_s8(q), taps));
            v = vsetq_lane_s32(vmladavq_s8(vldrbq_s8(q + step), taps), v, 1);
            v = vsetq_lane_s32(vmladavq_s8(vldrbq_s8(q + 2 * step), taps), v, 2);
            v = vsetq_lane_s32(vmladavq_s8(vldrbq_s8(q + 3 * step), taps), v, 3);
            v = vaddq_n_s32(v, bias);
            v = right ? requantize_right_n(v, m0, shift) : requantize_left_n(v, m0, shift);
            v = vminq_s32(vmaxq_s32(vaddq_n_s32(v, zp), lo), hi);
            vstrbq_scatter_offset_p_s32(o, at, v, vctp32q((uint32_t)(n - x)));
        }
    }
}

/* `sums`: the scratch after the plane, here the interleaved rows. */
OMPQC_HOT static void plane_outputs_mve(const OMPQC_NS(conv_t) *p, int32_t c, const int16_t *r, int32_t pw,
                                        int32_t sx, int32_t sy, int32_t rows, int32_t n, const int32_t *t,
                                        int32_t *sums, int8_t *out, int32_t out_row, int32_t out_step) {
    int8_t *w = (int8_t *)sums;
    if (sx == 1 && p->shift[c] < 0) {
        plane_outputs_at(p, c, r, pw, 1, sy, rows, n, t, w, out, out_row, out_step, 1, 1);
    } else if (sx == 1) {
        plane_outputs_at(p, c, r, pw, 1, sy, rows, n, t, w, out, out_row, out_step, 1, 0);
    } else if (p->shift[c] < 0) {
        plane_outputs_at(p, c, r, pw, sx, sy, rows, n, t, w, out, out_row, out_step, 0, 1);
    } else {
        plane_outputs_at(p, c, r, pw, sx, sy, rows, n, t, w, out, out_row, out_step, 0, 0);
    }
}

/* plane_channel four cells a vector: a gather of the channel's bytes, stored narrowed to int16 (a row's last cells
   predicated: a predicate in every step costs more than it saves). */
OMPQC_HOT static void plane_channel_mve(const OMPQC_NS(conv_t) *p, const plane_t *g, const int8_t *in, int32_t c,
                                        int32_t step_y, int32_t step_x, int16_t *plane) {
    const uint32x4_t at = vmulq_n_u32(vidupq_n_u32(0, 1), (uint32_t)step_x);
    const int32_t n = g->hi - g->lo;
    int32_t y, x;
    for (y = g->y_lo; y < g->y_hi; y++) {
        const int8_t *src = in + (y - p->pad_t) * step_y + (g->lo - p->pad_l) * step_x + c;
        int16_t *d = plane + y * g->pw + g->lo;
        for (x = 0; x + 4 <= n; x += 4, src += 4 * step_x, d += 4) {
            vstrhq_s32(d, vldrbq_gather_offset_s32(src, at));
        }
        if (x < n) {
            const mve_pred16_t q = vctp32q((uint32_t)(n - x));
            vstrhq_p_s32(d, vldrbq_gather_offset_z_s32(src, at, q), q);
        }
    }
}

/* The taps of a window (first input at row iy, column ix) that lie inside the input: bit 3 * ky + kx for tap
   (ky, kx). */
static inline uint32_t taps_inside(const OMPQC_NS(conv_t) *p, int32_t iy, int32_t ix) {
    uint32_t rows = 0, cols = 0, j;
    for (j = 0; j < 3; j++) {
        rows |= (uint32_t)(iy + (int32_t)j >= 0 && iy + (int32_t)j < p->in_h) * (7u << (3 * j));
        cols |= (uint32_t)(ix + (int32_t)j >= 0 && ix + (int32_t)j < p->in_w) * (0x49u << j);
    }
    return rows & cols;
}

/* A channel's 3x3 weights: one row of 9 fields. */
#define TAPS_ROW(bits) ((9 * (bits) + 7) / 8)

/* The tap of a window that lane l (< 8) of window_sum's vectors holds: tap l, but at 4 bits lane 2i holds tap i and
   lane 2i + 1 tap 4 + i (taps8_weights). */
static inline uint32_t lane_tap(uint32_t l, int bits) {
    return bits == 4 ? (l & 1u) * 4u + l / 2u : l;
}

/* Weights 0 to 7 of the row at w as int16 lanes in lane_tap's order (field j at bit bits * j, low first): at 8 bits
   one load; below, the fields' bits copied to every lane (at 4 bits the low half of their word to the even lanes,
   the high half to the odd), each lane shifted left by `left` so that its field's top bit is the lane's, then
   arithmetically right. */
OMPQC_INLINE int16x8_t taps8_weights(const int8_t *w, int16x8_t left, int bits) {
    uint16x8_t v;
    if (bits == 8) {
        return vldrbq_s16(w);
    }
    if (bits == 4) {
        uint32_t word;
        memcpy(&word, w, 4);
        v = vreinterpretq_u16_u32(vdupq_n_u32(word));
    } else {
        uint16_t half;
        memcpy(&half, w, 2);
        v = vdupq_n_u16(half);
    }
    return vshrq_n_s16(vreinterpretq_s16_u16(vshlq_u16(v, left)), 16 - bits);
}

/* The sum of taps 0 to 7 of a channel's window at src: one gather (`taps`: their byte offsets) and one VMLADAV
   against the channel's weights (taps8_weights of its row w), both in lane_tap's order. At the border (`border`)
   the taps outside the input, those not in q (two bits a lane), read as the input zero point. */
OMPQC_INLINE int32_t window_sum(const int8_t *src, uint16x8_t taps, const int8_t *w, int16x8_t left,
                                mve_pred16_t q, int16x8_t zp, int border, int bits) {
    const int16x8_t x =
        border ? vpselq_s16(vldrbq_gather_offset_z_s16(src, taps, q), zp, q) : vldrbq_gather_offset_s16(src, taps);
    return vmladavq_s16(x, taps8_weights(w, left, bits));
}

/* Weight 8 of four channels' rows (at w, `rows` byte offsets apart; the lanes of e unless `whole`): at bit 8 * bits,
   the low field of byte `bits`. */
OMPQC_INLINE int32x4_t tap8_weights(const int8_t *w, uint32x4_t rows, mve_pred16_t e, int whole, int bits) {
    const int8_t *at = w + (bits == 8 ? 8 : bits);
    const int32x4_t b = whole ? vldrbq_gather_offset_s32(at, rows) : vldrbq_gather_offset_z_s32(at, rows, e);
    return bits == 8 ? b : vshrq_n_s32(vshlq_n_s32(b, 32 - bits), 32 - bits);
}

/* Channels c to c + 3 of the output pixel o from its window at src (weights w on): taps 0 to 7 per channel
   (window_sum), tap 8 (`last` bytes on; the input zero point without `last_inside`) four channels a vector,
   requantized together. `whole`: all four channels; else those of e, and the lanes past the last channel repeat
   it. (Two pixels a pass, sharing the weights' loads, spill and run slower with GCC 12.) */
OMPQC_INLINE void channels4(const requant_consts_t *k, const int8_t *src, uint16x8_t taps, int32_t last,
                            const int8_t *w, uint32x4_t rows, int16x8_t left, mve_pred16_t q, int last_inside,
                            int16x8_t zp, int8_t *o, int32_t c, int32_t n, int border, int whole, int down, int bits) {
    const int32_t c1 = whole || c + 1 < n ? 1 : 0, c2 = whole || c + 2 < n ? 2 : c1;
    const int32_t c3 = whole || c + 3 < n ? 3 : c2, rb = TAPS_ROW(bits);
    const mve_pred16_t e = whole ? 0 : vctp32q((uint32_t)(n - c));
    const int8_t *s = src + c;
    int32x4_t sums = vdupq_n_s32(window_sum(s, taps, w, left, q, zp, border, bits));
    sums = vsetq_lane_s32(window_sum(s + c1, taps, w + c1 * rb, left, q, zp, border, bits), sums, 1);
    sums = vsetq_lane_s32(window_sum(s + c2, taps, w + c2 * rb, left, q, zp, border, bits), sums, 2);
    sums = vsetq_lane_s32(window_sum(s + c3, taps, w + c3 * rb, left, q, zp, border, bits), sums, 3);
    const int32x4_t x8 = border && !last_inside ? vdupq_n_s32(vgetq_lane_s16(zp, 0))
                         : whole                ? vldrbq_s32(s + last)
                                                : vldrbq_z_s32(s + last, e);
    sums = vaddq_s32(sums, vmulq_s32(x8, tap8_weights(w, rows, e, whole, bits)));
    if (whole) {
        requantize_store(k, sums, vldrwq_s32(k->bias + c), vldrwq_s32(k->mult + c), vldrbq_s32(k->shift + c), o, c,
                         0, 1, down);
    } else {
        requantize_store(k, sums, vldrwq_z_s32(k->bias + c, e), vldrwq_z_s32(k->mult + c, e),
                         vldrbq_z_s32(k->shift + c, e), o, c, e, 0, down);
    }
}

/* A layer's numbers, read once (the output stores may alias the parameter block): the channels, their weight
   rows, the input zero point as int16 lanes and taps8_weights' shifts. */
typedef struct {
    int32_t n;
    const int8_t *weights;
    int16x8_t zp, left;
} lanes_layer_t;

/* Every channel of the output pixel o from its window at src, four at a time. */
OMPQC_INLINE void pixel_lanes(const lanes_layer_t *l, const requant_consts_t *k, const int8_t *src, uint16x8_t taps,
                              int32_t last, uint32x4_t rows, mve_pred16_t q, int last_inside, int8_t *o, int border,
                              int down, int bits) {
    const int32_t n = l->n;
    const int8_t *w = l->weights;
    int32_t c;
    for (c = 0; c + 4 <= n; c += 4, w += 4 * TAPS_ROW(bits)) {
        channels4(k, src, taps, last, w, rows, l->left, q, last_inside, l->zp, o, c, n, border, 1, down, bits);
    }
    if (c < n) {
        channels4(k, src, taps, last, w, rows, l->left, q, last_inside, l->zp, o, c, n, border, 0, down, bits);
    }
}

/* The output pixel o of a window that leaves the input (first input at row iy, column ix). (Out of line and in the
   general form alone, which is right for every layer, the border pixels would save 4 KB of code but cost VWW 1%
   more instructions.) */
OMPQC_INLINE void border_pixel(const OMPQC_NS(conv_t) *p, const lanes_layer_t *l, const requant_consts_t *k,
                               const int8_t *in, int32_t iy, int32_t ix, uint16x8_t taps, int32_t last,
                               uint32x4_t rows, int8_t *o, int down, int bits) {
    const uint32_t inside = taps_inside(p, iy, ix);
    uint32_t q = 0, j;
    for (j = 0; j < 8; j++) {
        q |= (inside >> lane_tap(j, bits) & 1u) * (3u << (2 * j));
    }
    pixel_lanes(l, k, in + (iy * p->in_w + ix) * l->n, taps, last, rows, (mve_pred16_t)q, (int)(inside >> 8), o, 1,
                down, bits);
}

/* A layer whose output does not overlap its input: each output pixel straight from the input (no plane), channel
   by channel; each row's windows inside the input, columns [lo, hi), walked without tests. */
OMPQC_INLINE void depthwise3x3_lanes_with(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, int down,
                                          int bits) {
    const int32_t n = p->in_c, row = p->in_w * n, sx = p->stride_w, sy = p->stride_h, ow = p->out_w;
    const int32_t oh = p->out_h, in_w = p->in_w, in_h = p->in_h, pad_t = p->pad_t, pad_l = p->pad_l;
    const requant_consts_t k = {p->shift, p->mult, p->bias, p->out_zp, p->act_min, p->act_max};
    /* taps8_weights' shifts: at 4 bits 12 - 4i in lanes 2i and 2i + 1, at 2 bits 14 - 2j in lane j. */
    const uint16x8_t j = vidupq_n_u16(0, 1);
    const uint16x8_t field = bits == 4 ? vshlq_n_u16(vshrq_n_u16(j, 1), 2) : vshlq_n_u16(j, 1);
    const lanes_layer_t l = {n, (const int8_t *)p->weights, vdupq_n_s16((int16_t)p->in_zp),
                             vreinterpretq_s16_u16(vsubq_u16(vdupq_n_u16((uint16_t)(16 - bits)), field))};
    const int32_t at[8] = {0, n, 2 * n, row, row + n, row + 2 * n, 2 * row, 2 * row + n};
    uint16_t offsets[8];
    int32_t oy, ox, i;
    for (i = 0; i < 8; i++) {
        offsets[i] = (uint16_t)at[lane_tap((uint32_t)i, bits)];
    }
    const uint16x8_t taps = vldrhq_u16(offsets);
    const uint32x4_t rows = vmulq_n_u32(vidupq_n_u32(0, 1), TAPS_ROW(bits));
    const int32_t last = 2 * row + 2 * n;
    /* The columns whose windows lie inside: ox * sx - pad_l in [0, in_w - 3]. */
    const int32_t right = in_w - 3 + pad_l, lo0 = (pad_l + sx - 1) / sx;
    const int32_t hi0 = right < 0 ? 0 : right / sx + 1 < ow ? right / sx + 1 : ow;
    for (oy = 0; oy < oh; oy++) {
        const int32_t iy = oy * sy - pad_t;
        const int rows_inside = iy >= 0 && iy + 2 < in_h;
        const int32_t lo = rows_inside && lo0 < hi0 ? lo0 : ow, hi = rows_inside && lo0 < hi0 ? hi0 : ow;
        for (ox = 0; ox < lo; ox++, out += n) {
            border_pixel(p, &l, &k, in, iy, ox * sx - pad_l, taps, last, rows, out, down, bits);
        }
        if (ox < hi) {
            const int8_t *src = in + (iy * in_w + ox * sx - pad_l) * n;
            for (; ox < hi; ox++, out += n, src += sx * n) {
                pixel_lanes(&l, &k, src, taps, last, rows, 0, 1, out, 0, down, bits);
            }
        }
        for (; ox < ow; ox++, out += n) {
            border_pixel(p, &l, &k, in, iy, ox * sx - pad_l, taps, last, rows, out, down, bits);
        }
    }
}

/* Returns 0 (nothing done) where the output overlaps the input, the rows are padded, a window's offsets pass 16
   bits or the plane is faster. */
OMPQC_INLINE int depthwise3x3_lanes_at(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, int bits) {
    const int32_t in_bytes = p->in_h * p->in_w * p->in_c, out_bytes = p->out_h * p->out_w * p->in_c;
    /* The row the plane would walk (depthwise3x3.h): below 8 bits, where it is 16 outputs or more, the plane's
       per-channel copy costs less than unpacking each channel's taps at every pixel (measured on DS-CNN's rows of
       25 and VWW's of 24 and 48; VWW's of 12, 6 and 3 run faster here). */
    const int32_t walked = plane_walks_columns(p) ? p->out_h : p->out_w;
    if ((out < in + in_bytes && in < out + out_bytes) || p->row_bytes != TAPS_ROW(bits) ||
        2 * (p->in_w + 1) * p->in_c > 0xFFFF || (bits < 8 && walked >= 16)) {
        return 0;
    }
    /* Below 8 bits one copy, in the general form (right for every layer): about 3.6 KB of code a width where the
       8-bit path, specialized for the short form too, takes 6.5 KB; a model may run all three widths. */
    if (p->short_requant == 1 && bits == 8) {
        depthwise3x3_lanes_with(p, in, out, 1, bits);
    } else {
        depthwise3x3_lanes_with(p, in, out, 0, bits);
    }
    return 1;
}
OMPQC_PER_WIDTH_RETURNING(OMPQC_HOT, int, depthwise3x3_lanes, (const OMPQC_NS(conv_t) *p, const int8_t *in,
                                                               int8_t *out),
                          (p, in, out))
#define OMPQC_DEPTHWISE3X3_FIRST(p, in, out, scratch, bits) OMPQC_AT_WIDTH(depthwise3x3_lanes, bits)(p, in, out)

#define plane_fill plane_channel_mve
#define plane_outputs plane_outputs_mve
#define plane_band_outputs OMPQC_ALL_ROWS
#include "../depthwise3x3.h"
