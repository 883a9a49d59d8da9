/* Depthwise 3x3 convolutions on the Arm DSP extension: the first two taps of each kernel row one SMLAD. */
#include "../ompqc.h"
#include "dsp.h"

/* ARMv7E-M and later load and store unaligned words in one instruction: the window gather moves words (bytes.h). */
#define OMPQC_UNALIGNED_WORDS
#include "../bytes.h"

/* a and b as the low and high int16 lanes of a word. */
static inline int32_t lanes16(int32_t a, int32_t b) {
    return (int32_t)(((uint32_t)a & 0xFFFFu) | ((uint32_t)b << 16));
}

/* v shifted left by sc (v may be negative). */
static inline int32_t shl(int32_t v, int32_t sc) {
    return (int32_t)((uint32_t)v << sc);
}

/* The sums of two outputs side by side at stride 1 from kernel row q (int16 plane), the row's taps as lanes k01 =
   (t0, t1) and k12 = (t1, t2): the left one's window is the inputs q[0..2], the right one's q[1..3]. */
OMPQC_INLINE void dw3x3_pair_row(const int16_t *q, int32_t k01, int32_t k12, int32_t *s0, int32_t *s1) {
    const int32_t w0 = (int32_t)load32(q), w1 = (int32_t)load32(q + 2);
    *s0 = __smlabt(w1, k12, __smlad(w0, k01, *s0));
    *s1 = __smlad(w1, k12, __smlatb(w0, k01, *s1));
}

/* dw3x3_rows at stride 1, two outputs a step sharing their loads (n >= 2). */
OMPQC_HOT static void dw3x3_pairs(const int16_t *r, int32_t pw, int32_t sy, int32_t rows, int32_t n, const int32_t *t,
                                  int32_t bias, int32_t *sums) {
    const int32_t k0 = t[9], k1 = t[10], k2 = t[11], w25 = t[12], w8 = t[8];
    const int32_t k12 = lanes16(t[1], t[2]), k45 = lanes16(t[4], t[5]), k78 = lanes16(t[7], t[8]);
    int32_t y;
    for (y = 0; y < rows; y++, r += sy * pw) {
        const int16_t *r0 = r, *r1 = r + pw, *r2 = r1 + pw;
        int32_t *pairs = sums + (n & ~1);
        for (; sums < pairs; sums += 2, r0 += 2, r1 += 2, r2 += 2) {
            int32_t s0 = bias, s1 = bias;
            dw3x3_pair_row(r0, k0, k12, &s0, &s1);
            dw3x3_pair_row(r1, k1, k45, &s0, &s1);
            dw3x3_pair_row(r2, k2, k78, &s0, &s1);
            sums[0] = s0;
            sums[1] = s1;
        }
        if (n & 1) {
            int32_t acc = __smlad((int32_t)load32(r0), k0, bias);
            acc = __smlad((int32_t)load32(r1), k1, acc);
            acc = __smlad((int32_t)load32(r2), k2, acc);
            acc = __smlabb(r0[2], w25, acc);
            acc = __smlabt(r1[2], w25, acc);
            *sums++ = __smlabb(r2[2], w8, acc);
        }
    }
}

/* Output rows of a depthwise 3x3 channel: sums[y * n + x] = bias + the window at column x * sx of plane rows
   y * sy + (0, 1, 2) (each pw long) from r; t[9..11] hold the first two taps of each kernel row as int16 lanes,
   t[12] taps 2 and 5, t[8] the last. Rows of four or more at stride 1 go by pairs (VWW's rows of 6: 211 -> 198 K
   instructions a layer; on rows of 2 and 3 the pairs' setup costs more than their shared loads save). */
OMPQC_HOT static void dw3x3_rows(const int16_t *r, int32_t pw, int32_t sx, int32_t sy, int32_t rows, int32_t n,
                                 const int32_t *t, int32_t bias, int32_t *sums) {
    const int32_t k0 = t[9], k1 = t[10], k2 = t[11], w25 = t[12], w8 = t[8];
    int32_t y;
    if (sx == 1 && n >= 4) {
        dw3x3_pairs(r, pw, sy, rows, n, t, bias, sums);
        return;
    }
    for (y = 0; y < rows; y++, r += sy * pw) {
        const int16_t *r0 = r, *r1 = r + pw, *r2 = r1 + pw;
        int32_t *end = sums + n;
        for (; sums < end; sums++, r0 += sx, r1 += sx, r2 += sx) {
            int32_t acc = __smlad((int32_t)load32(r0), k0, bias);
            acc = __smlad((int32_t)load32(r1), k1, acc);
            acc = __smlad((int32_t)load32(r2), k2, acc);
            acc = __smlabb(r0[2], w25, acc);
            acc = __smlabt(r1[2], w25, acc);
            *sums = __smlabb(r2[2], w8, acc);
        }
    }
}

/* The output of a sum x2 that is already doubled (short_requant 1): `corrects`, the channel shifts right and a
   negative sum's rounding matters (its clamp's floor is below the zero point). */
OMPQC_INLINE int8_t dw3x3_output(int32_t x2, short_t q, int32_t lo, int32_t hi, int full, int corrects) {
    return clamp_dsp(requantize_short_known(x2, q, corrects), lo, hi, full);
}

/* plane_outputs in the short form: each pair's sums requantized as they end, from taps and bias shifted left by sc
   (1 + the channel's left shift: the doubled sum the short form takes then costs nothing), so no sums go through
   memory. */
OMPQC_INLINE void dw3x3_short_outputs(const int16_t *r, int32_t pw, int32_t sx, int32_t sy, int32_t rows, int32_t n,
                                      const int32_t *t, int32_t sc, int32_t b2, short_t q, int32_t lo, int32_t hi,
                                      int8_t *out, int32_t out_row, int32_t out_step, int full, int corrects) {
    /* Doubled (sc 1, no left shift) each lane pair is one SADD16 of the driver's lanes. */
    const int doubled = sc == 1;
    const int32_t k0 = doubled ? __sadd16(t[9], t[9]) : lanes16(shl(t[0], sc), shl(t[1], sc));
    const int32_t k1 = doubled ? __sadd16(t[10], t[10]) : lanes16(shl(t[3], sc), shl(t[4], sc));
    const int32_t k2 = doubled ? __sadd16(t[11], t[11]) : lanes16(shl(t[6], sc), shl(t[7], sc));
    const int32_t w25 = doubled ? __sadd16(t[12], t[12]) : lanes16(shl(t[2], sc), shl(t[5], sc)), w8 = shl(t[8], sc);
    const int32_t k12 = lanes16(shl(t[1], sc), shl(t[2], sc)), k45 = lanes16(shl(t[4], sc), shl(t[5], sc));
    const int32_t k78 = lanes16(shl(t[7], sc), w8);
    int32_t y;
    for (y = 0; y < rows; y++, r += sy * pw, out += out_row) {
        const int16_t *r0 = r, *r1 = r + pw, *r2 = r1 + pw;
        int8_t *o = out, *const end = out + n * out_step;
        if (sx == 1) {
            int8_t *const pairs = out + (n & ~1) * out_step;
            for (; o < pairs; o += 2 * out_step, r0 += 2, r1 += 2, r2 += 2) {
                int32_t s0 = b2, s1 = b2;
                dw3x3_pair_row(r0, k0, k12, &s0, &s1);
                dw3x3_pair_row(r1, k1, k45, &s0, &s1);
                dw3x3_pair_row(r2, k2, k78, &s0, &s1);
                o[0] = dw3x3_output(s0, q, lo, hi, full, corrects);
                o[out_step] = dw3x3_output(s1, q, lo, hi, full, corrects);
            }
        }
        for (; o < end; o += out_step, r0 += sx, r1 += sx, r2 += sx) {
            int32_t acc = __smlad((int32_t)load32(r0), k0, b2);
            acc = __smlad((int32_t)load32(r1), k1, acc);
            acc = __smlad((int32_t)load32(r2), k2, acc);
            acc = __smlabb(r0[2], w25, acc);
            acc = __smlabt(r1[2], w25, acc);
            *o = dw3x3_output(__smlabb(r2[2], w8, acc), q, lo, hi, full, corrects);
        }
    }
}

/* Whether taps t shifted left by sc stay int16 lanes. */
static inline int taps_fit(const int32_t *t, int32_t sc) {
    int32_t j;
    for (j = 0; j < 9; j++) {
        if (t[j] > (32767 >> sc) || t[j] < -(32768 >> sc)) {
            return 0;
        }
    }
    return 1;
}

/* plane_outputs on the DSP, every row of a channel in one call: the short form fused where the channel's taps
   shifted left by 1 + its left shift stay int16 (one copy per clamp and sign's correction), the others by sums and
   a requantized row. */
OMPQC_HOT static void plane_outputs_dsp(const OMPQC_NS(conv_t) *p, int32_t c, const int16_t *r, int32_t pw,
                                        int32_t sx, int32_t sy, int32_t rows, int32_t n, const int32_t *t,
                                        int32_t *sums, int8_t *out, int32_t out_row, int32_t out_step) {
    const short_t q = short_of_any(p->mult[c], p->shift[c], p->out_zp);
    const int32_t sc = 1 + q.left;
    int32_t y, band;
    if (p->short_requant != 0 && (sc == 1 || taps_fit(t, sc))) {
        const int32_t lo = p->act_min, hi = p->act_max, b2 = shl(p->bias[c], sc);
        /* A floor at or above the zero point clamps every negative sum to it, whatever the rounding. */
        const int corrects = q.fix != 0 && lo < p->out_zp;
        if (lo == -128 && hi == 127) {
            if (corrects) {
                dw3x3_short_outputs(r, pw, sx, sy, rows, n, t, sc, b2, q, lo, hi, out, out_row, out_step, 1, 1);
            } else {
                dw3x3_short_outputs(r, pw, sx, sy, rows, n, t, sc, b2, q, lo, hi, out, out_row, out_step, 1, 0);
            }
        } else if (corrects) {
            dw3x3_short_outputs(r, pw, sx, sy, rows, n, t, sc, b2, q, lo, hi, out, out_row, out_step, 0, 1);
        } else {
            dw3x3_short_outputs(r, pw, sx, sy, rows, n, t, sc, b2, q, lo, hi, out, out_row, out_step, 0, 0);
        }
        return;
    }
    /* By bands of rows of at least 32 outputs, the sums' scratch (plan::kernels). */
    for (; rows > 0; rows -= band, r += band * sy * pw, out += band * out_row) {
        band = rows < (32 + n - 1) / n ? rows : (32 + n - 1) / n;
        dw3x3_rows(r, pw, sx, sy, band, n, t, p->bias[c], sums);
        for (y = 0; y < band; y++) {
            requantize_row_dsp(p, c, sums + y * n, n, out + y * out_row, out_step);
        }
    }
}

/* Depthwise 3x3 straight from the HWC input, four channels a word: each input word's SXTB16 lanes against the
   four channels' taps (SMLABB, SMLATT), so a window costs no plane copy and its four channels share each load. The
   channels go in chunks of up to HWC_CHUNK, each with a table in scratch: per group of four channels their doubled
   biases, the nine taps' doubled int16 lanes in the order the loop reads them, then each channel's short
   requantization constants. */
#define HWC_CHUNK 64
/* The table's int32 words per group of four channels (with the sign's correction). */
#define HWC_GROUP_WORDS(corrects) (4 + 18 + 4 * ((corrects) ? 4 : 3))

/* Table of channels c0 .. c0 + n - 1 (n a multiple of 4): biases and taps shifted left by 1 + the channel's left
   shift (the doubled sum of the short form). Per kernel row the taps go dx = 1, 2, 0: the order of HWC_ROW's
   loads. */
OMPQC_INLINE void hwc_table(const OMPQC_NS(conv_t) *p, int32_t c0, int32_t n, int32_t *t, int corrects, int bits) {
    const int32_t rb = p->row_bytes;
    int32_t g, j, i;
    for (g = c0; g < c0 + n; g += 4) {
        const uint8_t *r = p->weights + g * rb;
        int32_t sc[4];
        for (j = 0; j < 4; j++) {
            sc[j] = 1 + (p->shift[g + j] > 0 ? p->shift[g + j] : 0);
            *t++ = shl(p->bias[g + j], sc[j]);
        }
#pragma GCC unroll 9
        for (i = 0; i < 9; i++) {
            const int32_t k = i / 3 * 3 + (i + 1) % 3;
            *t++ = lanes16(shl(weight(r, k, bits), sc[0]), shl(weight(r + 2 * rb, k, bits), sc[2]));
            *t++ = lanes16(shl(weight(r + rb, k, bits), sc[1]), shl(weight(r + 3 * rb, k, bits), sc[3]));
        }
        for (j = 0; j < 4; j++) {
            const short_t q = short_of_any(p->mult[g + j], p->shift[g + j], p->out_zp);
            *t++ = q.m0;
            *t++ = q.half;
            *t++ = q.right;
            if (corrects) {
                *t++ = q.fix;
            }
        }
    }
}

/* One kernel row of a group from P (the window's left column; its other columns C and 2C bytes on, P moving to the
   next group): per tap a word of four channels, its SXTB16 lanes (channels 0 and 2, then 1 and 3), their taps. */
#define HWC_TAP(load) \
    load "sxtb16 r5, r4\n\t" \
         "sxtb16 r4, r4, ror #8\n\t" \
         "ldrd r6, lr, [%[t]], #8\n\t" \
         "smlabb r0, r5, r6, r0\n\t" \
         "smlatt r2, r5, r6, r2\n\t" \
         "smlabb r1, r4, lr, r1\n\t" \
         "smlatt r3, r4, lr, r3\n\t"
#define HWC_ROW(P) \
    HWC_TAP("ldr r4, [%[" P "], %[c]]\n\t") \
    HWC_TAP("ldr r4, [%[" P "], %[c], lsl #1]\n\t") HWC_TAP("ldr r4, [%[" P "]], #4\n\t")
/* Channel a's output from its doubled sum: constants m0, half, right (and the sign's correction). */
#define HWC_OUT(a) \
    "ldm %[t]!, {r4, r5, r6}\n\t" \
    "smmlar " a ", " a ", r4, r5\n\t" \
    "asr " a ", " a ", r6\n\t" \
    "ssat " a ", #8, " a "\n\t"
#define HWC_OUT_CORRECTED(a) \
    "ldm %[t]!, {r4, r5, r6, lr}\n\t" \
    "and lr, lr, " a ", asr #31\n\t" \
    "add r5, r5, lr\n\t" \
    "smmlar " a ", " a ", r4, r5\n\t" \
    "asr " a ", " a ", r6\n\t" \
    "ssat " a ", #8, " a "\n\t"
/* The group's four outputs at *o, which moves past them; the loop ends when the top row reaches `end`. */
#define HWC_STORE \
    "ldr r4, %[o]\n\t" \
    "strb r1, [r4, #1]\n\t" \
    "strb r2, [r4, #2]\n\t" \
    "strb r3, [r4, #3]\n\t" \
    "strb r0, [r4], #4\n\t" \
    "str r4, %[o]\n\t" \
    "ldr r4, %[end]\n\t" \
    "cmp %[p0], r4\n\t" \
    "bne 1b\n\t"
#define HWC_PIXEL(out) \
    __asm__ volatile("1:\n\t" \
                     "ldm %[t]!, {r0, r1, r2, r3}\n\t" HWC_ROW("p0") HWC_ROW("p1") HWC_ROW("p2") out("r0") out("r1") \
                         out("r2") out("r3") HWC_STORE \
                     : [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [t] "+r"(t), [o] "+m"(o) \
                     : [c] "r"(c), [end] "m"(end) \
                     : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "lr", "memory", "cc")

/* The outputs at o of the chunk's channels for one pixel: its window's rows p0, p1, p2 (left columns; the others c
   and 2c bytes on), the chunk's table t. */
OMPQC_HOT static void hwc_pixel(const int8_t *p0, const int8_t *p1, const int8_t *p2, int32_t c, int32_t n,
                                const int32_t *t, int8_t *o, int corrects) {
    const int8_t *const end = p0 + n;
    if (corrects) {
        HWC_PIXEL(HWC_OUT_CORRECTED);
    } else {
        HWC_PIXEL(HWC_OUT);
    }
}

/* n bytes (a multiple of 16) from src to dst, 16 a step (LDM, STM). */
static inline void copy_quads(int8_t *dst, const int8_t *src, int32_t n) {
    __asm__ volatile("1:\n\t"
                     "ldm %[s]!, {r4, r5, r6, r12}\n\t"
                     "stm %[d]!, {r4, r5, r6, r12}\n\t"
                     "subs %[n], %[n], #16\n\t"
                     "bne 1b\n\t"
                     : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(n)
                     :
                     : "r4", "r5", "r6", "r12", "memory", "cc");
}

/* The window of a border pixel (input rows iy.., columns ix..) for channels c0 .. c0 + n - 1 into w: 9 taps of n
   bytes, the padding the input zero point (from `zps`, n of them). */
static void hwc_window(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t iy, int32_t ix, int32_t c0, int32_t n,
                       const int8_t *zps, int8_t *w) {
    int32_t ky, kx;
    for (ky = 0; ky < 3; ky++) {
        for (kx = 0; kx < 3; kx++, w += n) {
            const int32_t y = iy + ky, x = ix + kx;
            const int inside = y >= 0 && y < p->in_h && x >= 0 && x < p->in_w;
            copy_quads(w, inside ? in + (y * p->in_w + x) * p->in_c + c0 : zps, n);
        }
    }
}

/* The layer from its HWC input, or 0 where it does not apply: the output over the input (a pixel's outputs would
   overwrite inputs later windows read), channels not in sixteens (the windows' copies), a clamp narrower than int8,
   the general requantization, a left shift too wide for the taps, or fewer than 32 channels at stride 1, which the
   plane runs faster (VWW's 48 x 48 x 8). plan::kernels sizes the scratch by the same rule. */
OMPQC_INLINE int depthwise3x3_hwc_at(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch,
                                     int bits) {
    const int32_t ch = p->in_c, in_bytes = p->in_h * p->in_w * ch, out_bytes = p->out_h * p->out_w * ch;
    const int32_t sy = p->stride_h, sx = p->stride_w;
    const int corrects = p->act_min < p->out_zp;
    int32_t c0, oy, ox;
    if ((out < in + in_bytes && in < out + out_bytes) || ch % 16 != 0 || p->act_min != -128 || p->act_max != 127 ||
        p->short_requant == 0 || (ch < 32 && sy == 1 && sx == 1)) {
        return 0;
    }
    /* A weight is at most 2^(bits - 1) in size: shifted left by 1 + a left shift of up to 15 - bits it stays int16. */
    for (c0 = 0; c0 < ch; c0++) {
        if (p->shift[c0] > 15 - bits) {
            return 0;
        }
    }
    for (c0 = 0; c0 < ch; c0 += HWC_CHUNK) {
        const int32_t n = ch - c0 < HWC_CHUNK ? ch - c0 : HWC_CHUNK;
        int32_t *table = (int32_t *)scratch;
        int8_t *window = (int8_t *)(table + n / 4 * HWC_GROUP_WORDS(corrects)), *zps = window + 9 * n;
        int8_t *o = out + c0;
        hwc_table(p, c0, n, table, corrects, bits);
        fill_bytes(zps, p->in_zp, n);
        for (oy = 0; oy < p->out_h; oy++) {
            const int32_t iy = oy * sy - p->pad_t;
            for (ox = 0; ox < p->out_w; ox++, o += ch) {
                const int32_t ix = ox * sx - p->pad_l;
                if (iy >= 0 && iy + 2 < p->in_h && ix >= 0 && ix + 2 < p->in_w) {
                    const int8_t *r = in + (iy * p->in_w + ix) * ch + c0;
                    hwc_pixel(r, r + p->in_w * ch, r + 2 * p->in_w * ch, ch, n, table, o, corrects);
                } else {
                    hwc_window(p, in, iy, ix, c0, n, zps, window);
                    hwc_pixel(window, window + 3 * n, window + 6 * n, n, n, table, o, corrects);
                }
            }
        }
    }
    return 1;
}
OMPQC_PER_WIDTH_RETURNING(OMPQC_HOT, int, depthwise3x3_hwc,
                          (const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch),
                          (p, in, out, scratch))
#define OMPQC_DEPTHWISE3X3_FIRST(p, in, out, scratch, bits) \
    OMPQC_AT_WIDTH(depthwise3x3_hwc, bits)(p, in, out, scratch)

#define plane_outputs plane_outputs_dsp
#define plane_band_outputs OMPQC_ALL_ROWS
#include "../depthwise3x3.h"
