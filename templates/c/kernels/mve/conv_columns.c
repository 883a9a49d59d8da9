/* One-group convolutions on Helium: int8 columns, each channel pair's dot products by VMLADAV over 16 lanes, below
   8 bits a row's fields met by their inputs, deinterleaved by VLD2 at 4 bits, and at 2 bits (where VLD4's four
   registers a pixel would not fit) by a copy of each column in its fields' order; the sums requantized four channels
   at a time. */
#include "../ompqc.h"
#include "mve.h"

typedef int8_t col_t;

/* n bytes from src to dst, 16 at a time, then the bytes left in one predicated step (a predicate in every step
   costs more than the copy). */
static void copy_bytes(int8_t *dst, const int8_t *src, int32_t n) {
    for (; n >= 16; n -= 16, dst += 16, src += 16) {
        vstrbq_s8(dst, vldrbq_s8(src));
    }
    if (n > 0) {
        const mve_pred16_t q = vctp8q((uint32_t)n);
        vstrbq_p_s8(dst, vldrbq_z_s8(src, q), q);
    }
}

/* n bytes of value v at dst, 16 at a time, then the bytes left. */
static void fill_bytes(int8_t *dst, int32_t v, int32_t n) {
    const int8x16_t x = vdupq_n_s8((int8_t)v);
    for (; n >= 16; n -= 16, dst += 16) {
        vstrbq_s8(dst, x);
    }
    if (n > 0) {
        vstrbq_p_s8(dst, x, vctp8q((uint32_t)n));
    }
}

#include "../columns.h"

/* The k inputs at x in the order a 2-bit row's fields meet them: per block of 16 weight bytes (64 inputs), 16 bytes
   per field, field 0 first (VLD4 deinterleaves a whole block); the inputs after the last whole block in order. */
static void deinterleave4(const int8_t *x, int8_t *dst, uint32_t k) {
    uint32_t n;
    for (n = k / 64; n > 0; n--, x += 64, dst += 64) {
        const int8x16x4_t v = vld4q_s8(x);
        vstrbq_s8(dst, v.val[0]);
        vstrbq_s8(dst + 16, v.val[1]);
        vstrbq_s8(dst + 32, v.val[2]);
        vstrbq_s8(dst + 48, v.val[3]);
    }
    copy_bytes(dst, x, (int32_t)(k % 64));
}

/* The column of output pixel `px`: int8, as gathered; at 2 bits deinterleaved after it (a pixel's scratch holds
   twice its column). */
OMPQC_INLINE const col_t *column(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, uint8_t *col, int in_place,
                                 int bits) {
    const int8_t *x = int8_column(p, in, px, col, in_place);
    const uint32_t k = (uint32_t)(p->k_h * p->k_w * p->in_c);
    int8_t *fields = (int8_t *)col + (k + 3) / 4 * 4;
    if (bits != 2) {
        return x;
    }
    deinterleave4(x, fields, k);
    return fields;
}

/* Two inputs' sums with two weight rows: x.u, x.v, y.u, y.v. */
typedef struct {
    int32_t xu, xv, yu, yv;
} sums2x2_t;

/* s plus the four 16-lane dot products of inputs x, y with weights u, v (VMLADAV). */
static inline sums2x2_t mladav2x2(sums2x2_t s, int8x16_t x, int8x16_t y, int8x16_t u, int8x16_t v) {
    s.xu = vmladavaq_s8(s.xu, x, u);
    s.xv = vmladavaq_s8(s.xv, x, v);
    s.yu = vmladavaq_s8(s.yu, y, u);
    s.yv = vmladavaq_s8(s.yv, y, v);
    return s;
}

/* Field f of each 4-bit byte of b, sign-extended: moved to the top of its byte, then arithmetically down. (Left at
   the top, 16 times its value, each field would take one instruction, not two; but the mask it needs for the high
   field takes a vector register, and GCC 12 then spills: ResNet-8 at 4 bits ran 3% slower.) */
OMPQC_INLINE int8x16_t field4(int8x16_t b, uint32_t f) {
    return f == 0 ? vshrq_n_s8(vshlq_n_s8(b, 4), 4) : vshrq_n_s8(b, 4);
}

/* Field f of each 2-bit byte of b moved to the top of its byte (scaled by 64): a left shift and the mask `top` (the
   lowest field shifted alone, the top one masked alone). With plain loads of the deinterleaved column, the mask
   keeps a register. */
OMPQC_INLINE int8x16_t top_field2(int8x16_t b, int8x16_t top, uint32_t f) {
    switch (f) {
    case 0:
        return vshlq_n_s8(b, 6);
    case 1:
        return vandq_s8(vshlq_n_s8(b, 4), top);
    case 2:
        return vandq_s8(vshlq_n_s8(b, 2), top);
    default:
        return vandq_s8(b, top);
    }
}

/* Lanes i of a 2-bit row's 16 weights from the bytes at `at` (gathered, lane i from byte i / 4), moved to the top of
   their byte by `shifts` (2 (3 - i mod 4)) and masked, as top_field2 gives them. */
static inline int8x16_t unpacked2(const uint8_t *r, uint8x16_t at, int8x16_t shifts, int8x16_t top, mve_pred16_t q) {
    return vandq_s8(vshlq_s8(vldrbq_gather_offset_z_s8((const int8_t *)r, at, q), shifts), top);
}

/* s plus inputs x, y times field f of 4-bit weight bytes b1, b2. */
OMPQC_INLINE sums2x2_t field_dot(sums2x2_t s, int8x16_t x, int8x16_t y, int8x16_t b1, int8x16_t b2, uint32_t f) {
    return mladav2x2(s, x, y, field4(b1, f), field4(b2, f));
}

/* The lanes 16 bytes of a row weigh, every (8 / bits)th input from f: at 4 bits 0, 2, ... then 1, 3, ... */
OMPQC_INLINE uint8x16_t field_offsets(int bits, uint32_t f) {
    return bits == 4 ? vidupq_n_u8(f, 2) : vidupq_n_u8(f, 4);
}

/* sa[c] and sb[c]: columns xa and xb times row c of w (rb bytes apart), for every channel c < n, two at a time: each
   16 bytes of a row hold 16 * 8 / bits weights, at 8 bits one lane each, else 8 / bits fields of 16 lanes whose
   inputs VLD2 deinterleaves at 4 bits and column() at 2; VMLADAV sums 16 products. */
OMPQC_INLINE void dot_channels_at(const int8_t *xa, const int8_t *xb, const uint8_t *w, int32_t rb, uint32_t k,
                                  int32_t n, int32_t *sa, int32_t *sb, int bits) {
    const uint32_t per = 8u / (uint32_t)bits, whole = k / (16 * per), rest = k % (16 * per);
    /* At 2 bits: the sums' scale, the top field's mask, and per lane i of a part block the byte (i / 4) and the
       shift that moves its field (i mod 4) to the top. */
    const uint32_t scale_log = bits == 2 ? 6 : 0;
    const int8x16_t top = vdupq_n_s8((int8_t)0xC0);
    const uint8x16_t lane = vidupq_n_u8(0, 1), quarters = vshrq_n_u8(lane, 2);
    const int8x16_t shifts = vreinterpretq_s8_u8(vshlq_n_u8(vsubq_u8(vdupq_n_u8(3), vandq_u8(lane, vdupq_n_u8(3))), 1));
    int32_t oc;
    for (oc = 0; oc < n; oc += 2) {
        /* An odd last channel is computed twice. */
        const int32_t od = oc + 1 < n ? oc + 1 : oc;
        const uint8_t *r1 = w + oc * rb, *r2 = w + od * rb;
        const int8_t *x = xa, *y = xb;
        sums2x2_t s = {0, 0, 0, 0};
        uint32_t i, f;
        for (i = whole; i > 0; i--, r1 += 16, r2 += 16, x += 16 * per, y += 16 * per) {
            const int8x16_t b1 = vldrbq_s8((const int8_t *)r1), b2 = vldrbq_s8((const int8_t *)r2);
            if (bits == 8) {
                s = mladav2x2(s, vldrbq_s8(x), vldrbq_s8(y), b1, b2);
            } else if (bits == 4) {
                const int8x16x2_t xv = vld2q_s8(x), yv = vld2q_s8(y);
                s = field_dot(s, xv.val[0], yv.val[0], b1, b2, 0);
                s = field_dot(s, xv.val[1], yv.val[1], b1, b2, 1);
            } else {
#pragma GCC unroll 4
                for (f = 0; f < 4; f++) {
                    s = mladav2x2(s, vldrbq_s8(x + 16 * f), vldrbq_s8(y + 16 * f), top_field2(b1, top, f),
                                  top_field2(b2, top, f));
                }
            }
        }
        if (rest > 0 && bits == 8) {
            /* The last inputs: predicated loads read only the lanes left and zero the others. */
            const mve_pred16_t q = vctp8q(rest);
            const int8x16_t u = vldrbq_z_s8((const int8_t *)r1, q), v = vldrbq_z_s8((const int8_t *)r2, q);
            s = mladav2x2(s, vldrbq_z_s8(x, q), vldrbq_z_s8(y, q), u, v);
        } else if (rest > 0 && bits == 2) {
            /* The inputs after the last whole block in order, against their weights unpacked lane by lane. */
            for (f = 0; f < rest; f += 16) {
                const mve_pred16_t q = vctp8q(rest - f);
                const uint8x16_t at = vaddq_n_u8(quarters, (uint8_t)(f / 4));
                s = mladav2x2(s, vldrbq_z_s8(x + f, q), vldrbq_z_s8(y + f, q), unpacked2(r1, at, shifts, top, q),
                              unpacked2(r2, at, shifts, top, q));
            }
        } else if (rest > 0) {
            /* The last inputs: the row's bytes left, and per field the inputs it weighs (every (8 / bits)th from the
               field's index), gathered; predicated loads read only those and zero the other lanes. */
            const mve_pred16_t q = vctp8q((rest + per - 1) / per);
            const int8x16_t b1 = vldrbq_z_s8((const int8_t *)r1, q), b2 = vldrbq_z_s8((const int8_t *)r2, q);
#pragma GCC unroll 4
            for (f = 0; f < per; f++) {
                const mve_pred16_t lanes = vctp8q(rest > f ? (rest - f + per - 1) / per : 0);
                const int8x16_t xv = vldrbq_gather_offset_z_s8(x, field_offsets(bits, f), lanes);
                const int8x16_t yv = vldrbq_gather_offset_z_s8(y, field_offsets(bits, f), lanes);
                s = field_dot(s, xv, yv, b1, b2, f);
            }
        }
        sa[oc] = s.xu >> scale_log;
        sa[od] = s.xv >> scale_log;
        sb[oc] = s.yu >> scale_log;
        sb[od] = s.yv >> scale_log;
    }
}
OMPQC_PER_WIDTH(OMPQC_HOT, dot_channels,
                (const int8_t *xa, const int8_t *xb, const uint8_t *w, int32_t rb, uint32_t k, int32_t n, int32_t *sa,
                 int32_t *sb),
                (xa, xb, w, rb, k, n, sa, sb))

/* ya[c .. c + 3] and yb[c .. c + 3] from sums[c ..] and sums[n + c ..], the channels' constants loaded once for both
   pixels (`whole`: all four lanes, loaded and stored without a predicate; else the lanes of q). */
OMPQC_INLINE void requantize4(const requant_consts_t *k, const int32_t *sums, int32_t n, int8_t *ya, int8_t *yb,
                              int32_t c, mve_pred16_t q, int whole, int down) {
    const int32x4_t sh = whole ? vldrbq_s32(k->shift + c) : vldrbq_z_s32(k->shift + c, q);
    const int32x4_t m0 = whole ? vldrwq_s32(k->mult + c) : vldrwq_z_s32(k->mult + c, q);
    const int32x4_t b = whole ? vldrwq_s32(k->bias + c) : vldrwq_z_s32(k->bias + c, q);
    const int32x4_t sa = whole ? vldrwq_s32(sums + c) : vldrwq_z_s32(sums + c, q);
    const int32x4_t sb = whole ? vldrwq_s32(sums + n + c) : vldrwq_z_s32(sums + n + c, q);
    requantize_store(k, sa, b, m0, sh, ya, c, q, whole, down);
    requantize_store(k, sb, b, m0, sh, yb, c, q, whole, down);
}

/* ya[c] and yb[c] = the requantized, offset and clamped sums[c] and sums[out_c + c] plus bias[c] for every channel,
   four lanes at a time, the channels after the last four in one predicated step (predicates in every step cost more
   than they save). */
OMPQC_INLINE void requantize_pair_at(const OMPQC_NS(conv_t) *p, const int32_t *sums, int8_t *ya, int8_t *yb,
                                     int down) {
    const requant_consts_t k = {p->shift, p->mult, p->bias, p->out_zp, p->act_min, p->act_max};
    const int32_t n = p->out_c;
    int32_t c;
    for (c = 0; c + 4 <= n; c += 4) {
        requantize4(&k, sums, n, ya, yb, c, 0, 1, down);
    }
    if (c < n) {
        requantize4(&k, sums, n, ya, yb, c, vctp32q((uint32_t)(n - c)), 0, down);
    }
}

/* The outputs of two pixels from their sums (sums[0 .. out_c) and sums[out_c .. 2 out_c)); the layers of the short
   requantization without left shifts (short_requant 1) shift no channel left. */
OMPQC_HOT static void requantize_pair(const OMPQC_NS(conv_t) *p, const int32_t *sums, int8_t *ya, int8_t *yb) {
    if (p->short_requant == 1) {
        requantize_pair_at(p, sums, ya, yb, 1);
    } else {
        requantize_pair_at(p, sums, ya, yb, 0);
    }
}

/* Output pixels ya and yb (columns xa and xb); `sums`: 2 * out_c int32 of scratch. */
OMPQC_INLINE void conv_pair(const OMPQC_NS(conv_t) *p, const col_t *xa, const col_t *xb, int8_t *ya, int8_t *yb,
                            int32_t *sums, int bits) {
    OMPQC_AT_WIDTH(dot_channels, bits)(xa, xb, p->weights, p->row_bytes, (uint32_t)(p->k_h * p->k_w * p->in_c),
                                       p->out_c, sums, sums + p->out_c);
    requantize_pair(p, sums, ya, yb);
}

/* The first input of pixel px's window when the window lies inside the input (its rows each one run of k_w * in_c
   bytes: no dilation along the rows), else 0. */
static inline const int8_t *inside_window(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px) {
    const int32_t iy = px / p->out_w * p->stride_h - p->pad_t, ix = px % p->out_w * p->stride_w - p->pad_l;
    if (iy < 0 || ix < 0 || iy + (p->k_h - 1) * p->dil_h >= p->in_h || ix + p->k_w > p->in_w) {
        return 0;
    }
    return in + (iy * p->in_w + ix) * p->in_c;
}

/* A row's first `run` (<= 16) weights as int8 lanes (those of q; the others 0): at 8 bits one load; below, each
   lane's byte gathered (`at`: field i's byte) and shifted left by `left` so that the field's top bit is the lane's,
   then arithmetically right (field i at bit bits * i, low first). */
OMPQC_INLINE int8x16_t narrow_weights(const int8_t *w, mve_pred16_t q, uint8x16_t at, int8x16_t left, int bits) {
    if (bits == 8) {
        return vldrbq_z_s8(w, q);
    }
    const uint8x16_t v = vshlq_u8(vldrbq_gather_offset_z_u8((const uint8_t *)w, at, q), left);
    return vshrq_n_s8(vreinterpretq_s8_u8(v), 8 - bits);
}

/* The sums of the windows at a and b (kh rows, `rows` bytes apart, each `run` bytes) with every channel's row:
   each window row one predicated 16-lane load kept for every channel, each channel's row against it one VMLADAV.
   Below 8 bits kh is 1 (a window row's fields then start a channel's row, byte aligned). (Gathering four channels'
   sums into a vector to requantize them here instead spills and runs slower with GCC 12.) */
OMPQC_INLINE void narrow_sums(const OMPQC_NS(conv_t) *p, const int8_t *a, const int8_t *b, int32_t *sums, int kh,
                              int bits) {
    /* Locals: the sums' stores may alias the parameter block. */
    const int32_t run = p->k_w * p->in_c, rows = p->dil_h * p->in_w * p->in_c, n = p->out_c, rb = p->row_bytes;
    const mve_pred16_t q = vctp8q((uint32_t)run);
    const int8x16_t zero = vdupq_n_s8(0);
    const int8x16_t a0 = vldrbq_z_s8(a, q), b0 = vldrbq_z_s8(b, q);
    const int8x16_t a1 = kh > 1 ? vldrbq_z_s8(a + rows, q) : zero, b1 = kh > 1 ? vldrbq_z_s8(b + rows, q) : zero;
    const int8x16_t a2 = kh > 2 ? vldrbq_z_s8(a + 2 * rows, q) : zero, b2 = kh > 2 ? vldrbq_z_s8(b + 2 * rows, q) : zero;
    /* Lane i's field: byte i * bits / 8, shifted left by 8 - bits - i * bits % 8. */
    const uint8x16_t bit = vmulq_n_u8(vidupq_n_u8(0, 1), (uint8_t)bits);
    const uint8x16_t at = vshrq_n_u8(bit, 3);
    const int8x16_t left =
        vsubq_s8(vdupq_n_s8((int8_t)(8 - bits)), vreinterpretq_s8_u8(vandq_u8(bit, vdupq_n_u8(7))));
    const int8_t *w = (const int8_t *)p->weights;
    int32_t oc;
    for (oc = 0; oc < n; oc++, w += rb) {
        const int8x16_t w0 = narrow_weights(w, q, at, left, bits);
        int32_t sa = vmladavq_s8(a0, w0), sb = vmladavq_s8(b0, w0);
        if (kh > 1) {
            const int8x16_t w1 = vldrbq_z_s8(w + run, q);
            sa = vmladavaq_s8(sa, a1, w1);
            sb = vmladavaq_s8(sb, b1, w1);
        }
        if (kh > 2) {
            const int8x16_t w2 = vldrbq_z_s8(w + 2 * run, q);
            sa = vmladavaq_s8(sa, a2, w2);
            sb = vmladavaq_s8(sb, b2, w2);
        }
        sums[oc] = sa;
        sums[n + oc] = sb;
    }
}

/* The outputs of pixels px and pb from narrow_sums, with the window's row count a constant, requantized as the
   columns' are; 0 (nothing done) where a window leaves the input. */
OMPQC_INLINE int narrow_pair_at(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, int32_t pb, int8_t *ya,
                                int8_t *yb, int32_t *sums, int bits) {
    const int8_t *a = inside_window(p, in, px), *b = inside_window(p, in, pb);
    if (a == 0 || b == 0) {
        return 0;
    }
    if (p->k_h == 1 || bits < 8) {
        narrow_sums(p, a, b, sums, 1, bits);
    } else if (p->k_h == 2) {
        narrow_sums(p, a, b, sums, 2, bits);
    } else {
        narrow_sums(p, a, b, sums, 3, bits);
    }
    requantize_pair(p, sums, ya, yb);
    return 1;
}
OMPQC_PER_WIDTH_RETURNING(OMPQC_HOT, int, narrow_pair,
                          (const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, int32_t pb, int8_t *ya,
                           int8_t *yb, int32_t *sums),
                          (p, in, px, pb, ya, yb, sums))

/* Pixels px and pb of a layer whose kernel rows are short runs of input (the first layers: at 8 bits 3 x 3 over 3
   channels; 1 x 1 over at most 16 channels at every width) straight from the input, no columns gathered; 0 (nothing
   done) where a window leaves the input or the layer is of another shape (tested inline: the other layers pay no
   call). (Streaming longer rows, whole 16-byte chunks, from the input instead of gathering them saves less than the
   row loop costs with GCC 12.) */
OMPQC_INLINE int narrow_pixels(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, int32_t pb, int8_t *ya,
                               int8_t *yb, int32_t *sums, int bits) {
    if (p->k_w * p->in_c > 16 || p->k_h > 3 || (p->dil_w != 1 && p->k_w > 1) ||
        (bits < 8 && (p->k_h > 1 || p->k_w > 1))) {
        return 0;
    }
    return OMPQC_AT_WIDTH(narrow_pair, bits)(p, in, px, pb, ya, yb, sums);
}

#define OMPQC_PIXELS_FIRST narrow_pixels
#define OMPQC_COLUMN_PAIR
#include "../conv_columns.h"
