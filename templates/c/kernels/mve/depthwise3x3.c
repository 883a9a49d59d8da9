/* Depthwise 3x3 convolutions on Helium: four channels per vector (int32 lanes, the last vector predicated to the
   channels left), their nine weights gathered from the rows once, each tap a widening load of the four channels'
   inputs. A window inside the input starts from the bias (the zero-point term folded
   in); a window over the border visits only its taps inside the input, less the zero point, from the bias with that
   term taken back out. Written over its own input (in == out, the plan's in-place depthwise), it first copies the
   four channels' input to the scratch and reads them there: the stores then only overwrite channels already
   copied. */
#include "../ompqc.h"
#include "mve.h"

#ifndef OMPQC_DEPTHWISE3X3_WIDTHS
#define OMPQC_DEPTHWISE3X3_WIDTHS OMPQC_ALL_WIDTHS
#endif

/* x >> (32 - bits), arithmetic (the shift takes an immediate). */
OMPQC_INLINE int32x4_t shift_down(int32x4_t x, int bits) {
    return bits == 8 ? vshrq_n_s32(x, 24) : bits == 4 ? vshrq_n_s32(x, 28) : vshrq_n_s32(x, 30);
}

OMPQC_INLINE void depthwise3x3(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, int8_t *scratch, int bits) {
    /* Locals: the output stores may alias the parameter block. */
    const int32_t c_n = p->in_c, zp = p->out_zp, a_lo = p->act_min, a_hi = p->act_max, in_h = p->in_h, in_w = p->in_w;
    const int32_t out_h = p->out_h, out_w = p->out_w, sy = p->stride_h, sx = p->stride_w;
    const int32_t pad_t = p->pad_t, pad_l = p->pad_l, per = 8 / bits, in_place = in == out;
    /* The input's pixels are `cs` bytes apart: c_n in place, 4 in the scratch copy. */
    const int32_t cs = in_place ? 4 : c_n, row = in_w * cs;
    const int32x4_t zero = vdupq_n_s32(0);
    int32_t c, oy, ox, j;
    for (c = 0; c < c_n; c += 4) {
        const mve_pred16_t q = vctp32q((uint32_t)(c_n - c));
        const int8_t *src = in + c;
        if (in_place) {
            const int32_t n = c_n - c < 4 ? c_n - c : 4;
            for (j = 0; j < in_h * in_w; j++) {
                memcpy(scratch + 4 * j, in + j * c_n + c, (size_t)n);
            }
            src = scratch;
        }
        const uint32x4_t rows = vmulq_n_u32(vidupq_n_u32((uint32_t)c, 1), (uint32_t)p->row_bytes);
        const int32x4_t bias = vldrwq_z_s32(p->bias + c, q), m0 = vldrwq_z_s32(p->mult + c, q);
        const int32x4_t sh = vldrbq_z_s32(p->shift + c, q);
        const int32x4_t left = vmaxq_s32(sh, zero), right = vmaxq_s32(vnegq_s32(sh), zero);
        int32x4_t w[9], sum = zero;
        for (j = 0; j < 9; j++) {
            /* Weight j of each row: field j % (8 / bits) of byte j / (8 / bits), moved to the top and back down. */
            const int32x4_t b = vreinterpretq_s32_u32(
                vldrbq_gather_offset_z_u32(p->weights, vaddq_n_u32(rows, (uint32_t)(j / per)), q));
            w[j] = shift_down(vshlq_r_s32(b, 32 - bits - j % per * bits), bits);
            sum = vaddq_s32(sum, w[j]);
        }
        /* The bias before the zero-point term was folded in. */
        const int32x4_t unfolded = vmlaq_n_s32(bias, sum, p->in_zp);
        for (oy = 0; oy < out_h; oy++) {
            const int32_t iy0 = oy * sy - pad_t;
            const int32_t ky0 = iy0 < 0 ? -iy0 : 0, ky1 = in_h - iy0 < 3 ? in_h - iy0 : 3;
            for (ox = 0; ox < out_w; ox++) {
                const int32_t ix0 = ox * sx - pad_l;
                int32x4_t acc;
                if (ky0 == 0 && ky1 == 3 && ix0 >= 0 && ix0 + 3 <= in_w) {
                    /* The window inside the input: nine loads at fixed offsets. */
                    const int8_t *x = src + (iy0 * in_w + ix0) * cs;
                    int32_t ky;
                    acc = bias;
                    for (ky = 0; ky < 3; ky++, x += row) {
                        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(x, q), w[3 * ky]));
                        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(x + cs, q), w[3 * ky + 1]));
                        acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(x + 2 * cs, q), w[3 * ky + 2]));
                    }
                } else {
                    const int32_t kx0 = ix0 < 0 ? -ix0 : 0, kx1 = in_w - ix0 < 3 ? in_w - ix0 : 3;
                    int32_t ky, kx;
                    acc = unfolded;
                    for (ky = ky0; ky < ky1; ky++) {
                        const int8_t *x = src + ((iy0 + ky) * in_w + ix0) * cs;
                        for (kx = kx0; kx < kx1; kx++) {
                            const int32x4_t v = vsubq_n_s32(vldrbq_z_s32(x + kx * cs, q), p->in_zp);
                            acc = vaddq_s32(acc, vmulq_s32(v, w[ky * 3 + kx]));
                        }
                    }
                }
                acc = vaddq_n_s32(requantize_v(acc, m0, left, right), zp);
                acc = vminq_s32(vmaxq_s32(acc, vdupq_n_s32(a_lo)), vdupq_n_s32(a_hi));
                vstrbq_p_s32(out + (oy * out_w + ox) * c_n + c, acc, q);
            }
        }
    }
}

/* The kernel runs out of line as a whole (see OMPQC_HOT); it needs scratch only in place. */
#define OMPQC_DEPTHWISE3X3_AT(bits) \
    OMPQC_HOT void OMPQC_NS(depthwise3x3_w##bits)(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, \
                                                  uint8_t *scratch) { \
        depthwise3x3(p, in, out, (int8_t *)scratch, bits); \
    }
OMPQC_DEPTHWISE3X3_WIDTHS(OMPQC_DEPTHWISE3X3_AT)
