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

#define plane_fill plane_channel_mve
#define plane_outputs plane_outputs_mve
#define plane_band_outputs OMPQC_ALL_ROWS
#include "../depthwise3x3.h"
