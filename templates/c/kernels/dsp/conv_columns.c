/* One-group convolutions on the Arm DSP extension. The two pixels' columns are widened to int16 and interleaved four
   lanes at a time, so that one LDRD loads a pixel's operands for half a weight word's field; each channel pair's dot
   products run in an assembly loop (SXTB16 lanes of the weight words, SMLAD), every channel of the pair of pixels in
   one call, each pair of channels requantized as it ends. */
#include "../ompqc.h"
#include "dsp.h"
#include "widen.h"

/* ARMv7E-M and later load and store unaligned words in one instruction: the gather moves words (bytes.h). */
#define OMPQC_UNALIGNED_WORDS
#include "../bytes.h"
#include "../columns.h"

/* One pixel's group of g = 32 / bits inputs as int16 chunks of four lanes at dst, dst + 8, ... (the other pixel's
   chunks go between), adding its offset inputs to offset_sum. At 8 bits a group of four inputs is one chunk: inputs
   0, 2 (SXTB16 lanes of weight bytes 0, 2), then 1, 3; below, the chunks of offset_chunks (widen.h). A last part
   group is padded with zeros, so the weight bits it meets do not count. */
OMPQC_INLINE int32_t widen_group(const int8_t *g, int16_t *dst, int32_t offset_sum, int bits) {
    if (bits == 8) {
        const uint32_t w = load32(g), e = (uint32_t)__sxtb16(w), o = (uint32_t)sxtb16_ror8(w);
        memcpy(dst, &e, 4);
        memcpy(dst + 2, &o, 4);
        return 0;
    }
    return offset_chunks(g, dst, 8, 0, 0, offset_sum, bits);
}

/* widen_group over a pixel's k inputs, returning the correction its sums start from: -128 times the offset inputs'
   sum. */
OMPQC_INLINE int32_t widen_chunks_at(const int8_t *src, int16_t *dst, uint32_t k, int bits) {
    const uint32_t group = 32u / (uint32_t)bits, rest = k % group;
    uint32_t n = k / group, f;
    int32_t offset_sum = 0;
    if (bits == 8 && n > 0) {
        /* The whole words in assembly: the compiler stores the lanes in two STRs. */
        uint32_t w, e, o;
        __asm__ volatile("1:\n\t"
                         "ldr %[w], [%[s]], #4\n\t"
                         "sxtb16 %[e], %[w]\n\t"
                         "sxtb16 %[o], %[w], ror #8\n\t"
                         "strd %[e], %[o], [%[d]], #16\n\t"
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(n), [w] "=&r"(w), [e] "=&r"(e), [o] "=&r"(o)
                         :
                         : "memory", "cc");
    }
    for (; n > 0; n--, src += group, dst += 2 * group) {
        offset_sum = widen_group(src, dst, offset_sum, bits);
    }
    if (rest > 0) {
        int8_t x[16] = {0};
        for (f = 0; f < rest; f++) {
            x[f] = src[f];
        }
        offset_sum = widen_group(x, dst, offset_sum, bits);
    }
    return -128 * offset_sum;
}
OMPQC_PER_WIDTH_RETURNING(OMPQC_NO_LIBCALL, int32_t, widen_chunks, (const int8_t *src, int16_t *dst, uint32_t k),
                          (src, dst, k))

/* The loop over weight words below: each step splits both rows' word into SXTB16 lanes (w1, w2 keep bytes 1, 3),
   then multiplies them with pixel a's chunk and pixel b's. Operands: a11 a12 a21 a22 (pixel, row), xp, r1, r2, n (words left);
   scratch w1 w2 u1 u2 x0 x1. */
#define DSP_LANES \
    "sxtb16 %[u1], %[w1]\n\t" \
    "sxtb16 %[u2], %[w2]\n\t" \
    "sxtb16 %[w1], %[w1], ror #8\n\t" \
    "sxtb16 %[w2], %[w2], ror #8\n\t"
#define DSP_MACS \
    "ldrd %[x0], %[x1], [%[xp]], #8\n\t" \
    "smlad %[a11], %[x0], %[u1], %[a11]\n\t" \
    "smlad %[a12], %[x0], %[u2], %[a12]\n\t" \
    "smlad %[a11], %[x1], %[w1], %[a11]\n\t" \
    "smlad %[a12], %[x1], %[w2], %[a12]\n\t" \
    "ldrd %[x0], %[x1], [%[xp]], #8\n\t" \
    "smlad %[a21], %[x0], %[u1], %[a21]\n\t" \
    "smlad %[a22], %[x0], %[u2], %[a22]\n\t" \
    "smlad %[a21], %[x1], %[w1], %[a21]\n\t" \
    "smlad %[a22], %[x1], %[w2], %[a22]\n\t"
#define DSP_SPLIT DSP_LANES DSP_MACS
/* Below 8 bits (widen_group): the sign bit of every field but the top one flipped, the whole bytes' lanes
   multiplied, then the lanes with their top field cleared, down to the lowest field alone. */
#define DSP_LOAD "ldr %[w1], [%[r1]], #4\n\tldr %[w2], [%[r2]], #4\n\t"
#define DSP_FLIP(mask) "eor %[w1], %[w1], #" mask "\n\teor %[w2], %[w2], #" mask "\n\t"
#define DSP_KEEP(mask) \
    "and %[u1], %[u1], #" mask "\n\tand %[u2], %[u2], #" mask "\n\t" \
    "and %[w1], %[w1], #" mask "\n\tand %[w2], %[w2], #" mask "\n\t"
#define DSP_STEP_8 DSP_LOAD DSP_SPLIT
#define DSP_STEP_4 DSP_LOAD DSP_FLIP("0x08080808") DSP_SPLIT DSP_KEEP("0x000F000F") DSP_MACS
#define DSP_STEP_2 \
    DSP_LOAD DSP_FLIP("0x2A2A2A2A") DSP_SPLIT DSP_KEEP("0x003F003F") DSP_MACS DSP_KEEP("0x000F000F") DSP_MACS \
        DSP_KEEP("0x00030003") DSP_MACS
#define DSP_DOT_LOOP(step) \
    __asm__ volatile("1:\n\t" step "subs %[n], %[n], #1\n\tbne 1b\n\t" \
                     : [a11] "+r"(s->a11), [a12] "+r"(s->a12), [a21] "+r"(s->a21), [a22] "+r"(s->a22), \
                       [xp] "+r"(*x), [r1] "+r"(r1), [r2] "+r"(r2), [n] "+r"(words), [w1] "=&r"(w1), \
                       [w2] "=&r"(w2), [u1] "=&r"(u1), [u2] "=&r"(u2), [x0] "=&r"(x0), [x1] "=&r"(x1) \
                     : \
                     : "memory", "cc")

/* Sums of pixel a, b with rows 1, 2. */
typedef struct {
    int32_t a11, a12, a21, a22;
} sums2x2_t;

/* s plus the products of `words` (> 0) weight words of rows r1 and r2 with the interleaved columns from *x, which
   moves past them: `unrolled` runs two words per pass (words even). */
OMPQC_INLINE void dot_loop(sums2x2_t *s, const int16_t **x, const uint8_t *r1, const uint8_t *r2, uint32_t words,
                           int unrolled, int bits) {
    uint32_t w1, w2, u1, u2, x0, x1;
    if (unrolled) {
        words /= 2;
    }
    if (bits == 8) {
        if (unrolled) {
            DSP_DOT_LOOP(DSP_STEP_8 DSP_STEP_8);
        } else {
            DSP_DOT_LOOP(DSP_STEP_8);
        }
    } else if (bits == 4) {
        if (unrolled) {
            DSP_DOT_LOOP(DSP_STEP_4 DSP_STEP_4);
        } else {
            DSP_DOT_LOOP(DSP_STEP_4);
        }
    } else {
        if (unrolled) {
            DSP_DOT_LOOP(DSP_STEP_2 DSP_STEP_2);
        } else {
            DSP_DOT_LOOP(DSP_STEP_2);
        }
    }
}

/* dot_loop over any number of words: pairs of words per pass, then the odd one. */
OMPQC_INLINE void dot_words(sums2x2_t *s, const int16_t **x, const uint8_t *r1, const uint8_t *r2, uint32_t words,
                            int bits) {
    if (words >= 2) {
        dot_loop(s, x, r1, r2, words & ~1u, 1, bits);
    }
    if (words & 1u) {
        const uint32_t done = 4 * (words & ~1u);
        dot_loop(s, x, r1 + done, r2 + done, 1, 0, bits);
    }
}

/* The outputs of one channel for pixels a and b from their scaled sums sa, sb (`full`: the clamp is the whole int8
   range; `short_form`: the layer's short requantization, from the doubled sums). */
OMPQC_INLINE void requantize_channel(int32_t sa, int32_t sb, uint32_t scale_log, int32_t bias, int32_t m,
                                     int32_t shift, int32_t zp, int32_t lo, int32_t hi, int full, int short_form,
                                     int8_t *ya, int8_t *yb) {
    if (short_form) {
        /* The scaled sums divide exactly: 2x is one shift of them and 2 bias. */
        const short_t q = short_of(m, shift, zp);
        const int32_t b2 = 2 * bias;
        const int32_t xa = (scale_log > 0 ? sa >> (scale_log - 1) : sa * 2) + b2;
        const int32_t xb = (scale_log > 0 ? sb >> (scale_log - 1) : sb * 2) + b2;
        *ya = clamp_dsp(requantize_short(xa, q), lo, hi, full);
        *yb = clamp_dsp(requantize_short(xb, q), lo, hi, full);
    } else {
        const requant_t q = requant_of(m, shift);
        *ya = clamp_dsp(zp + requantize_dsp((sa >> scale_log) + bias, q), lo, hi, full);
        *yb = clamp_dsp(zp + requantize_dsp((sb >> scale_log) + bias, q), lo, hi, full);
    }
}

/* The last n (< 4) bytes of row r (rb bytes) as the low bytes of a word: the row's last four bytes shifted down, or
   read one by one from a row shorter than a word. */
static inline uint32_t tail_word(const uint8_t *r, int32_t rb, uint32_t n) {
    uint32_t w = 0, i;
    if (rb >= 4) {
        return load32(r + rb - 4) >> (32 - 8 * n);
    }
    for (i = 0; i < n; i++) {
        w |= (uint32_t)r[rb - (int32_t)n + (int32_t)i] << (8 * i);
    }
    return w;
}

/* s plus one 8-bit weight word of each row (w1, w2, in registers) against the columns at x: DSP_SPLIT. */
OMPQC_INLINE void dot_word8(sums2x2_t *s, const int16_t *x, uint32_t w1, uint32_t w2) {
    uint32_t u1, u2, x0, x1;
    __asm__(DSP_SPLIT
            : [a11] "+r"(s->a11), [a12] "+r"(s->a12), [a21] "+r"(s->a21), [a22] "+r"(s->a22), [w1] "+r"(w1),
              [w2] "+r"(w2), [xp] "+r"(x), [u1] "=&r"(u1), [u2] "=&r"(u2), [x0] "=&r"(x0), [x1] "=&r"(x1)
            :
            : "memory");
}

/* Every output channel of pixels a and b (outputs ya, yb) from their interleaved columns x: per pair of channels
   the whole weight words in the loop, the row's last bytes as one more word, then the requantization. */
OMPQC_INLINE void conv_channels_with(const OMPQC_NS(conv_t) *p, const int16_t *x, int32_t ca, int32_t cb, int8_t *ya,
                                     int8_t *yb, int full, int tailed, int short_form, int bits) {
    /* Locals: the output stores may alias the parameter block. */
    const uint32_t k = (uint32_t)(p->k_h * p->k_w * p->in_c), group = 32u / (uint32_t)bits, words = k / group;
    const uint32_t tail = tailed ? (k % group * (uint32_t)bits + 7) / 8 : 0, scale_log = 8u - (uint32_t)bits;
    const int32_t n = p->out_c, rb = p->row_bytes, zp = p->out_zp, a_lo = p->act_min, a_hi = p->act_max;
    const uint8_t *weights = p->weights;
    const int32_t *bias = p->bias, *mult = p->mult;
    const int8_t *shift = p->shift;
    int32_t oc;
    for (oc = 0; oc < n; oc += 2) {
        /* An odd last channel is computed twice. */
        const int32_t od = oc + 1 < n ? oc + 1 : oc;
        const uint8_t *r1 = weights + oc * rb, *r2 = weights + od * rb;
        const int16_t *xp = x;
        /* At 8 bits the sums start from 0 (the compiler sees it). */
        sums2x2_t s = {bits == 8 ? 0 : ca, bits == 8 ? 0 : ca, bits == 8 ? 0 : cb, bits == 8 ? 0 : cb};
        if (words > 0) {
            dot_words(&s, &xp, r1, r2, words, bits);
        }
        if (tail > 0) {
            const uint32_t last[2] = {tail_word(r1, rb, tail), tail_word(r2, rb, tail)};
            if (bits == 8) {
                dot_word8(&s, xp, last[0], last[1]);
            } else {
                dot_loop(&s, &xp, (const uint8_t *)&last[0], (const uint8_t *)&last[1], 1, 0, bits);
            }
        }
        requantize_channel(s.a11, s.a21, scale_log, bias[oc], mult[oc], shift[oc], zp, a_lo, a_hi, full, short_form,
                           ya + oc, yb + oc);
        requantize_channel(s.a12, s.a22, scale_log, bias[od], mult[od], shift[od], zp, a_lo, a_hi, full, short_form,
                           ya + od, yb + od);
    }
}
/* With the short requantization, a copy of the channel loop per clamp (the whole int8 range is one SSAT) and for
   rows with and without a last part word: the tests stay out of the loop, and the common rows keep their registers.
   A generated model lists the (full, tailed) copies its layers take; a file compiled alone has all four. Every
   other layer runs the one general copy. */
#ifndef OMPQC_CONV_SHORT_LOOPS
#define OMPQC_CONV_SHORT_LOOPS(X) X(0, 0) X(0, 1) X(1, 0) X(1, 1)
#endif
#define OMPQC_CONV_SHORT_LOOP(f, t) \
    if (p->short_requant && full == (f) && tailed == (t)) { \
        conv_channels_with(p, x, ca, cb, ya, yb, f, t, 1, bits); \
        return; \
    }
OMPQC_INLINE void conv_channels_at(const OMPQC_NS(conv_t) *p, const int16_t *x, int32_t ca, int32_t cb, int8_t *ya,
                                   int8_t *yb, int bits) {
    const int full = p->act_min == -128 && p->act_max == 127;
    const int tailed = p->k_h * p->k_w * p->in_c % (32 / bits) != 0;
    (void)full;
    (void)tailed;
    OMPQC_CONV_SHORT_LOOPS(OMPQC_CONV_SHORT_LOOP)
    conv_channels_with(p, x, ca, cb, ya, yb, 0, 1, 0, bits);
}
OMPQC_PER_WIDTH(OMPQC_HOT, conv_channels,
                (const OMPQC_NS(conv_t) *p, const int16_t *x, int32_t ca, int32_t cb, int8_t *ya, int8_t *yb),
                (p, x, ca, cb, ya, yb))

/* `scratch`: the interleaved int16 columns (4 * k bytes, k rounded up to whole weight words), then the two pixels'
   gathered windows (k rounded up to 4 bytes each). */
OMPQC_INLINE void conv_pixels(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, int32_t pb, int8_t *ya,
                              int8_t *yb, uint8_t *scratch, int in_place, int bits) {
    const int32_t k = p->k_h * p->k_w * p->in_c, group = 32 / bits, whole = (k + group - 1) / group * group;
    int16_t *x = (int16_t *)scratch;
    int8_t *ga = (int8_t *)scratch + 4 * whole, *gb = ga + ((k + 3) & ~3);
    const int8_t *sa = in + px * p->in_c, *sb = in + pb * p->in_c;
    if (!in_place) {
        columns(p, in, px, ga);
        columns(p, in, pb, gb);
        sa = ga;
        sb = gb;
    }
    const int32_t ca = OMPQC_AT_WIDTH(widen_chunks, bits)(sa, x, (uint32_t)k);
    const int32_t cb = OMPQC_AT_WIDTH(widen_chunks, bits)(sb, x + 4, (uint32_t)k);
    OMPQC_AT_WIDTH(conv_channels, bits)(p, x, ca, cb, ya, yb);
}

#include "../conv_columns.h"
