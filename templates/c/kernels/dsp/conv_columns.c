/* One-group convolutions on the Arm DSP extension, four output pixels at a time. Their columns are widened to int16
   and interleaved four lanes at a time, so that one LDRD loads a pixel's operands for half a weight word's field;
   each channel's dot products with the four pixels run in an assembly loop (SXTB16 lanes of the weight word, SMLAD),
   every channel in one call, each channel requantized as it ends. Four pixels by one channel keep the loop in 11
   registers (two by two took all 14, and the channel loop's pointers spilled around it) and share each channel's
   constants among four outputs. */
#include "../ompqc.h"
#include "dsp.h"
#include "widen.h"

/* ARMv7E-M and later load and store unaligned words in one instruction: the gather moves words (bytes.h). */
#define OMPQC_UNALIGNED_WORDS
#include "../bytes.h"
#include "../columns.h"

/* The pixels of a block, and the int16 lanes between one pixel's chunk of four and the next field's. */
#define QUAD_PIXELS 4
#define QUAD_STEP (4 * QUAD_PIXELS)

/* One pixel's group of g = 32 / bits inputs as int16 chunks of four lanes at dst, dst + step, ... (in a block of
   four pixels, step QUAD_STEP: the other pixels' chunks go between), adding its offset inputs to offset_sum. At 8
   bits a group of four inputs is one chunk: inputs 0, 2 (SXTB16 lanes of weight bytes 0, 2), then 1, 3; below, the
   chunks of offset_chunks (widen.h). A last part group is padded with zeros, so the weight bits it meets do not
   count. */
OMPQC_INLINE int32_t widen_group(const int8_t *g, int16_t *dst, uint32_t step, int32_t offset_sum, int bits) {
    if (bits == 8) {
        const uint32_t w = load32(g), e = (uint32_t)__sxtb16(w), o = (uint32_t)sxtb16_ror8(w);
        memcpy(dst, &e, 4);
        memcpy(dst + 2, &o, 4);
        return 0;
    }
    return offset_chunks(g, dst, step, 0, 0, offset_sum, bits);
}

/* widen_group over a pixel's k inputs into a block of `pixels` (4 or 1), returning the correction its sums start
   from: -128 times the offset inputs' sum. */
OMPQC_INLINE int32_t widen_block_at(const int8_t *src, int16_t *dst, uint32_t k, uint32_t pixels, int bits) {
    const uint32_t group = 32u / (uint32_t)bits, rest = k % group, step = 4 * pixels;
    uint32_t n = k / group, f;
    int32_t offset_sum = 0;
    if (bits == 8 && n > 0) {
        /* The whole words in assembly: the compiler stores the lanes in two STRs. One pixel's chunk to the next:
           `step` lanes. */
        uint32_t w, e, o;
#define WIDEN_WORDS(bytes) \
    __asm__ volatile("1:\n\t" \
                     "ldr %[w], [%[s]], #4\n\t" \
                     "sxtb16 %[e], %[w]\n\t" \
                     "sxtb16 %[o], %[w], ror #8\n\t" \
                     "strd %[e], %[o], [%[d]], #" bytes "\n\t" \
                     "subs %[n], %[n], #1\n\t" \
                     "bne 1b\n\t" \
                     : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(n), [w] "=&r"(w), [e] "=&r"(e), [o] "=&r"(o) \
                     : \
                     : "memory", "cc")
        if (pixels == 4) {
            WIDEN_WORDS("32");
        } else {
            WIDEN_WORDS("8");
        }
#undef WIDEN_WORDS
    }
    for (; n > 0; n--, src += group, dst += step * group / 4) {
        offset_sum = widen_group(src, dst, step, offset_sum, bits);
    }
    if (rest > 0) {
        int8_t x[16] = {0};
        for (f = 0; f < rest; f++) {
            x[f] = src[f];
        }
        offset_sum = widen_group(x, dst, step, offset_sum, bits);
    }
    return -128 * offset_sum;
}
OMPQC_INLINE int32_t widen_chunks_at(const int8_t *src, int16_t *dst, uint32_t k, int bits) {
    return widen_block_at(src, dst, k, QUAD_PIXELS, bits);
}
OMPQC_INLINE int32_t widen_chunks1_at(const int8_t *src, int16_t *dst, uint32_t k, int bits) {
    return widen_block_at(src, dst, k, 1, bits);
}
OMPQC_PER_WIDTH_RETURNING(OMPQC_NO_LIBCALL, int32_t, widen_chunks, (const int8_t *src, int16_t *dst, uint32_t k),
                          (src, dst, k))
OMPQC_PER_WIDTH_RETURNING(OMPQC_NO_LIBCALL, int32_t, widen_chunks1, (const int8_t *src, int16_t *dst, uint32_t k),
                          (src, dst, k))

/* One weight word w of a row against the four pixels' interleaved columns at xp, which moves past them: its SXTB16
   lanes (u keeps bytes 0, 2, w bytes 1, 3), then each pixel's chunk against them. Operands: s0 .. s3 (the pixels'
   sums), xp; scratch w u x0 .. x3. */
#define QUAD_LANES \
    "sxtb16 %[u], %[w]\n\t" \
    "sxtb16 %[w], %[w], ror #8\n\t"
/* Two pixels' chunks in one LDM (1 + 4 cycles, where two LDRDs take 6): its registers are pinned in ascending order,
   the order LDM fills them. */
#define QUAD_MAC2(sa, sb) \
    "ldm %[xp]!, {%[x0], %[x1], %[x2], %[x3]}\n\t" \
    "smlad %[" sa "], %[x0], %[u], %[" sa "]\n\t" \
    "smlad %[" sa "], %[x1], %[w], %[" sa "]\n\t" \
    "smlad %[" sb "], %[x2], %[u], %[" sb "]\n\t" \
    "smlad %[" sb "], %[x3], %[w], %[" sb "]\n\t"
#define QUAD_MACS QUAD_MAC2("s0", "s1") QUAD_MAC2("s2", "s3")
/* One pixel's chunk (a block of one pixel: a layer's last one when the others went by fours). */
#define ONE_MACS \
    "ldrd %[x0], %[x1], [%[xp]], #8\n\t" \
    "smlad %[s0], %[x0], %[u], %[s0]\n\t" \
    "smlad %[s0], %[x1], %[w], %[s0]\n\t"
#define QUAD_X register uint32_t x0 __asm__("r8"), x1 __asm__("r9"), x2 __asm__("r10"), x3 __asm__("r11")
#define QUAD_XS [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3)
/* Below 8 bits (widen_group): the sign bit of every field but the top one flipped, the whole bytes' lanes
   multiplied, then the lanes with their top field cleared, down to the lowest field alone. */
#define QUAD_FLIP(mask) "eor %[w], %[w], #" mask "\n\t"
#define QUAD_KEEP(mask) "and %[u], %[u], #" mask "\n\tand %[w], %[w], #" mask "\n\t"
#define QUAD_WORD_8(M) QUAD_LANES M
#define QUAD_WORD_4(M) QUAD_FLIP("0x08080808") QUAD_LANES M QUAD_KEEP("0x000F000F") M
#define QUAD_WORD_2(M) \
    QUAD_FLIP("0x2A2A2A2A") QUAD_LANES M QUAD_KEEP("0x003F003F") M QUAD_KEEP("0x000F000F") M QUAD_KEEP("0x00030003") M
#define QUAD_LOAD "ldr %[w], [%[r]], #4\n\t"
#define QUAD_SUMS [s0] "+r"(s->s0), [s1] "+r"(s->s1), [s2] "+r"(s->s2), [s3] "+r"(s->s3), [xp] "+r"(*x)
#define QUAD_LOOP(word) \
    __asm__ volatile("1:\n\t" QUAD_LOAD word "subs %[n], %[n], #1\n\tbne 1b\n\t" \
                     : QUAD_SUMS, [r] "+r"(*r), [n] "+r"(words), [w] "=&r"(w), [u] "=&r"(u), QUAD_XS \
                     : \
                     : "memory", "cc")

/* Sums of the four pixels with one row. */
typedef struct {
    int32_t s0, s1, s2, s3;
} sums4_t;

/* s plus the products of `words` (> 0) weight words from *r with the interleaved columns from *x, both moving past
   them: `unrolled` runs two words per pass (words even). With pixels 1, s0 alone. */
#define DOT_LOOP(word, M, unrolled) \
    if (unrolled) { \
        QUAD_LOOP(word(M) QUAD_LOAD word(M)); \
    } else { \
        QUAD_LOOP(word(M)); \
    }
#define DOT_LOOP_AT(word, unrolled) \
    if (pixels == 4) { \
        DOT_LOOP(word, QUAD_MACS, unrolled) \
    } else { \
        DOT_LOOP(word, ONE_MACS, unrolled) \
    }
OMPQC_INLINE void dot_loop(sums4_t *s, const int16_t **x, const uint8_t **r, uint32_t words, int unrolled,
                           int pixels, int bits) {
    uint32_t w, u;
    QUAD_X;
    if (unrolled) {
        words /= 2;
    }
    if (bits == 8) {
        DOT_LOOP_AT(QUAD_WORD_8, unrolled)
    } else if (bits == 4) {
        DOT_LOOP_AT(QUAD_WORD_4, unrolled)
    } else {
        DOT_LOOP_AT(QUAD_WORD_2, unrolled)
    }
}

/* s plus one weight word w (in a register) against the columns at *x. */
#define DOT_WORD(word) \
    if (pixels == 4) { \
        __asm__(word(QUAD_MACS) : QUAD_SUMS, [w] "+r"(w), [u] "=&r"(u), QUAD_XS : : "memory"); \
    } else { \
        __asm__(word(ONE_MACS) : QUAD_SUMS, [w] "+r"(w), [u] "=&r"(u), QUAD_XS : : "memory"); \
    }
OMPQC_INLINE void dot_word(sums4_t *s, const int16_t **x, uint32_t w, int pixels, int bits) {
    uint32_t u;
    QUAD_X;
    if (bits == 8) {
        DOT_WORD(QUAD_WORD_8)
    } else if (bits == 4) {
        DOT_WORD(QUAD_WORD_4)
    } else {
        DOT_WORD(QUAD_WORD_2)
    }
}

/* The n (< 4) bytes at r, the last of a row of rb bytes, as the low bytes of a word: the row's last four bytes
   shifted down, or read one by one from a row shorter than a word. */
static inline uint32_t tail_word(const uint8_t *r, int32_t rb, uint32_t n) {
    uint32_t w = 0, i;
    if (rb >= 4) {
        return load32(r + n - 4) >> (32 - 8 * n);
    }
    for (i = 0; i < n; i++) {
        w |= (uint32_t)r[i] << (8 * i);
    }
    return w;
}

/* A channel's short requantization constants (short_t) and doubled bias, as the channel loop reads them: a table the
   first block of a layer makes in scratch, so that each channel's constants are loads instead of computations and
   the loop keeps one pointer to them. */
typedef struct {
    int32_t m0, half, b2, right, fix;
} channel_short_t;

/* The output of one channel from its scaled sum s (`full`: the clamp is the whole int8 range; `floored`: its floor
   is at or above the zero point, where a negative sum's output clamps to the floor whatever its rounding, so the
   sign's correction is left out). `form` is the layer's short_requant: 1, the short form with constants c, from the
   doubled sum; 2, that form with a left shift, constants qs; 0, the general one with q. */
OMPQC_INLINE int8_t requantize_sum(int32_t s, uint32_t scale_log, const channel_short_t *c, const short_t *qs,
                                   const requant_t *q, int32_t bias, int32_t zp, int32_t lo, int32_t hi, int full,
                                   int floored, int form) {
    if (form == 1) {
        /* The scaled sums divide exactly: 2x is one shift of them and 2 bias. */
        const int32_t x2 = (scale_log > 0 ? s >> (scale_log - 1) : s * 2) + c->b2;
        return clamp_dsp(high_mul_acc(x2, c->m0, floored ? c->half : c->half + (c->fix & (x2 >> 31))) >> c->right,
                         lo, hi, full);
    }
    if (form == 2) {
        const int32_t x2 = short_doubled((s >> scale_log) + bias, *qs);
        return clamp_dsp(floored ? requantize_short_known(x2, *qs, 0) : requantize_short(x2, *qs), lo, hi, full);
    }
    return clamp_dsp(zp + requantize_dsp((s >> scale_log) + bias, *q), lo, hi, full);
}

/* Stores v at y + at: one STRB with a register offset (the compiler otherwise keeps a pointer per output, and with
   the loop's registers taken they spill around every channel). */
static inline void store_at(int8_t *y, int32_t at, int8_t v) {
    __asm__("strb %[v], [%[y], %[at]]" : "=m"(y[at]) : [v] "r"(v), [y] "r"(y), [at] "r"(at));
}

/* A channel's short requantization in the channel loop below: the doubled sum (2 s + 2 bias; below 8 bits the
   sums are scaled by 2^(8 - bits), so `doubled` shifts them right) times m0 (r8) with the half (r9), then its right
   shift (r11) and SSAT; `corrected`, the sign's correction (r12) added to the half. */
#define QUAD_OUT(s, doubled) \
    "add " s ", r10, " s ", " doubled "\n\t" \
    "smmlar " s ", " s ", r8, r9\n\t" \
    "asr " s ", " s ", r11\n\t" \
    "ssat " s ", #8, " s "\n\t"
#define QUAD_OUT_CORRECTED(s, doubled) \
    "add " s ", r10, " s ", " doubled "\n\t" \
    "and %[u], r12, " s ", asr #31\n\t" \
    "add %[u], %[u], r9\n\t" \
    "smmlar " s ", " s ", r8, %[u]\n\t" \
    "asr " s ", " s ", r11\n\t" \
    "ssat " s ", #8, " s "\n\t"
/* The sums' start: 0 at 8 bits, below the offset corrections in memory. */
#define QUAD_ZERO(s, b) "mov %[" s "], #0\n\t"
#define QUAD_START(s, b) "ldr %[" s "], %[" b "]\n\t"
#define QUAD_CHANNELS(word, out, doubled, begin) \
    __asm__ volatile("1:\n\t" \
                     "ldr %[xp], %[xb]\n\t" \
                     "ldr %[n], %[np]\n\t" begin("s0", "b0") begin("s1", "b1") begin("s2", "b2") begin("s3", "b3") \
                     "2:\n\t" QUAD_LOAD word(QUAD_MACS) QUAD_LOAD word(QUAD_MACS) \
                     "subs %[n], %[n], #1\n\t" \
                     "bne 2b\n\t" \
                     "ldr %[n], %[tp]\n\t" \
                     "ldm %[n]!, {r8, r9, r10, r11, r12}\n\t" \
                     "str %[n], %[tp]\n\t" out("%[s0]", doubled) out("%[s1]", doubled) out("%[s2]", doubled) \
                         out("%[s3]", doubled) \
                     "ldr %[u], %[yp]\n\t" \
                     "ldr %[n], %[a1]\n\t" \
                     "strb %[s1], [%[u], %[n]]\n\t" \
                     "ldr %[n], %[a2]\n\t" \
                     "strb %[s2], [%[u], %[n]]\n\t" \
                     "ldr %[n], %[a3]\n\t" \
                     "strb %[s3], [%[u], %[n]]\n\t" \
                     "strb %[s0], [%[u]], #1\n\t" \
                     "str %[u], %[yp]\n\t" \
                     "ldr %[n], %[e]\n\t" \
                     "cmp %[u], %[n]\n\t" \
                     "bne 1b\n\t" \
                     : [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3), [xp] "=&r"(xp), \
                       [n] "=&r"(n), [u] "=&r"(u), [w] "=&r"(w), [r] "+r"(r), [tp] "+m"(table), [yp] "+m"(y), QUAD_XS \
                     : [xb] "m"(x), [np] "m"(passes), [b0] "m"(b0), [b1] "m"(b1), [b2] "m"(b2), [b3] "m"(b3), \
                       [a1] "m"(at1), [a2] "m"(at2), [a3] "m"(at3), [e] "m"(end) \
                     : "memory", "cc")
#define QUAD_CHANNELS_AT(word, doubled, begin) \
    if (floored) { \
        QUAD_CHANNELS(word, QUAD_OUT, doubled, begin); \
    } else { \
        QUAD_CHANNELS(word, QUAD_OUT_CORRECTED, doubled, begin); \
    }

/* conv_channels_with in the short form without left shifts, the clamp the whole int8 range, over rows of an even
   count of whole words: the channel loop in one assembly block, every value it carries from one channel to the
   next in memory but the weights' pointer (the dot loop takes every register but one), the constants loaded from
   the table in one LDM. 37 instructions a channel besides the dot loop at 8 bits, where the compiler's loop takes
   48. */
OMPQC_INLINE void quad_channels(const int16_t *x, uint32_t passes, const int32_t *start, const uint8_t *r,
                                const channel_short_t *table, int8_t *y, const int32_t *at, int8_t *end, int floored,
                                int bits) {
    register uint32_t w __asm__("r12");
    /* Locals (on the stack: the block reads them as memory operands, its registers all taken). */
    const int32_t b0 = bits < 8 ? start[0] : 0, b1 = bits < 8 ? start[1] : 0, b2 = bits < 8 ? start[2] : 0;
    const int32_t b3 = bits < 8 ? start[3] : 0, at1 = at[1], at2 = at[2], at3 = at[3];
    int32_t s0, s1, s2, s3;
    const int16_t *xp;
    uint32_t n, u;
    QUAD_X;
    if (bits == 8) {
        QUAD_CHANNELS_AT(QUAD_WORD_8, "lsl #1", QUAD_ZERO)
    } else if (bits == 4) {
        QUAD_CHANNELS_AT(QUAD_WORD_4, "asr #3", QUAD_START)
    } else {
        QUAD_CHANNELS_AT(QUAD_WORD_2, "asr #5", QUAD_START)
    }
}

/* Every output channel of the block's pixels (4, or 1: outputs y, y + at[1], ..., sums starting from start[j])
   from their interleaved columns x: per channel the whole weight words in the loop, the row's last bytes as one more
   word, then the requantization (`form`: the layer's short_requant; constants from `table` in the short form
   without left shifts). */
OMPQC_INLINE void conv_channels_with(const OMPQC_NS(conv_t) *p, const int16_t *x, const int32_t *start, int8_t *y,
                                     const int32_t *at, const channel_short_t *table, int full, int floored,
                                     int tailed, int form, int pixels, int bits) {
    /* Locals: the output stores may alias the parameter block. */
    const uint32_t k = (uint32_t)(p->k_h * p->k_w * p->in_c), group = 32u / (uint32_t)bits, words = k / group;
    const uint32_t tail = tailed ? (k % group * (uint32_t)bits + 7) / 8 : 0, scale_log = 8u - (uint32_t)bits;
    const int32_t n = p->out_c, rb = p->row_bytes, zp = p->out_zp, a_lo = p->act_min, a_hi = p->act_max;
    /* The rows follow one another: the loop leaves r at the next one. */
    const uint8_t *r = p->weights;
    const int32_t *bias = p->bias, *mult = p->mult;
    const int8_t *shift = p->shift;
    int8_t *const end = y + n;
    if (form == 1 && full && !tailed && pixels == QUAD_PIXELS && words >= 2 && words % 2 == 0) {
        quad_channels(x, words / 2, start, r, table, y, at, end, floored, bits);
        return;
    }
    for (; y < end; y++, table++) {
        const int16_t *xp = x;
        /* At 8 bits the sums start from 0 (the compiler sees it); a block of one pixel has one. */
        const int more = bits < 8 && pixels > 1;
        sums4_t s = {bits == 8 ? 0 : start[0], more ? start[1] : 0, more ? start[2] : 0, more ? start[3] : 0};
        if (words >= 2) {
            dot_loop(&s, &xp, &r, words & ~1u, 1, pixels, bits);
        }
        if (words & 1u) {
            dot_loop(&s, &xp, &r, 1, 0, pixels, bits);
        }
        if (tail > 0) {
            dot_word(&s, &xp, tail_word(r, rb, tail), pixels, bits);
            r += tail;
        }
        {
            const int32_t oc = n - (int32_t)(end - y);
            const channel_short_t c = form == 1 ? *table : (channel_short_t){0, 0, 0, 0, 0};
            const short_t qs = short_of_any(form == 2 ? mult[oc] : 0, form == 2 ? shift[oc] : 0, zp);
            const requant_t q = requant_of(form == 0 ? mult[oc] : 0, form == 0 ? shift[oc] : 0);
            const int32_t b = form == 1 ? 0 : bias[oc];
            *y = requantize_sum(s.s0, scale_log, &c, &qs, &q, b, zp, a_lo, a_hi, full, floored, form);
            if (pixels == 1) {
                continue;
            }
            store_at(y, at[1], requantize_sum(s.s1, scale_log, &c, &qs, &q, b, zp, a_lo, a_hi, full, floored, form));
            store_at(y, at[2], requantize_sum(s.s2, scale_log, &c, &qs, &q, b, zp, a_lo, a_hi, full, floored, form));
            store_at(y, at[3], requantize_sum(s.s3, scale_log, &c, &qs, &q, b, zp, a_lo, a_hi, full, floored, form));
        }
    }
}
/* With the short requantization (short_requant 1, or 2 with left shifts), a copy of the channel loop per form, per
   clamp (the whole int8 range is one SSAT; a floor at or above the zero point needs no sign's correction) and for
   rows with and without a last part word: the tests stay out of the loop, and the common rows keep their registers.
   A generated model lists the (form, full, floored, tailed) copies its layers take; a file compiled alone has them
   all. Every other layer runs the one general copy. */
#ifndef OMPQC_CONV_SHORT_LOOPS
#define OMPQC_CONV_SHORT_LOOPS_OF(X, form) \
    X(form, 0, 0, 0) X(form, 0, 0, 1) X(form, 0, 1, 0) X(form, 0, 1, 1) X(form, 1, 0, 0) X(form, 1, 0, 1) \
        X(form, 1, 1, 0) X(form, 1, 1, 1)
#define OMPQC_CONV_SHORT_LOOPS(X) OMPQC_CONV_SHORT_LOOPS_OF(X, 1) OMPQC_CONV_SHORT_LOOPS_OF(X, 2)
#endif
#define OMPQC_CONV_SHORT_LOOP(form, f, fl, t) \
    if (p->short_requant == (form) && full == (f) && floored == (fl) && tailed == (t)) { \
        conv_channels_with(p, x, start, y, at, table, f, fl, t, form, QUAD_PIXELS, bits); \
        return; \
    }
OMPQC_INLINE void conv_channels_at(const OMPQC_NS(conv_t) *p, const int16_t *x, const int32_t *start, int8_t *y,
                                   const int32_t *at, const channel_short_t *table, int bits) {
    const int full = p->act_min == -128 && p->act_max == 127, floored = p->act_min >= p->out_zp;
    const int tailed = p->k_h * p->k_w * p->in_c % (32 / bits) != 0;
    (void)full;
    (void)floored;
    (void)tailed;
    OMPQC_CONV_SHORT_LOOPS(OMPQC_CONV_SHORT_LOOP)
    conv_channels_with(p, x, start, y, at, table, 0, 0, 1, 0, QUAD_PIXELS, bits);
}
OMPQC_PER_WIDTH(OMPQC_HOT, conv_channels,
                (const OMPQC_NS(conv_t) *p, const int16_t *x, const int32_t *start, int8_t *y, const int32_t *at,
                 const channel_short_t *table),
                (p, x, start, y, at, table))
/* A block of one pixel in the general copy (at most one a layer: its code is what matters, not its speed). */
OMPQC_INLINE void conv_channels1_at(const OMPQC_NS(conv_t) *p, const int16_t *x, int32_t start, int8_t *y, int bits) {
    conv_channels_with(p, x, &start, y, NULL, NULL, 0, 0, 1, 0, 1, bits);
}
OMPQC_PER_WIDTH(OMPQC_HOT, conv_channels1, (const OMPQC_NS(conv_t) *p, const int16_t *x, int32_t start, int8_t *y),
                (p, x, start, y))

/* The window of output pixel q when it lies inside the input (most pixels): its rows copied into `window`, whose
   bytes past k are zero up to whole weight words, then widened as whole words into the block's columns at dst
   (below 8 bits a group's chunks at a time, the correction its sums start from in *start). Returns 0 elsewhere
   (the general gather then pads it). */
OMPQC_INLINE int window_inside_at(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t q, int8_t *window,
                                  int16_t *dst, int32_t *start, int bits) {
    /* Locals: the byte stores may alias the parameter block. */
    const int32_t oy = q / p->out_w, ox = q - oy * p->out_w, c = p->in_c, run = p->k_w * c, k_h = p->k_h;
    const int32_t iy0 = oy * p->stride_h - p->pad_t, ix0 = ox * p->stride_w - p->pad_l;
    const int32_t rows = p->dil_h * p->in_w * c, group = 32 / bits;
    uint32_t n = (uint32_t)((k_h * run + group - 1) / group), w, e, o;
    const int8_t *src = in + (iy0 * p->in_w + ix0) * c, *col = window;
    int32_t ky, offset_sum = 0;
    if (p->dil_w != 1 || iy0 < 0 || ix0 < 0 || iy0 + (k_h - 1) * p->dil_h >= p->in_h || ix0 + p->k_w > p->in_w) {
        return 0;
    }
    for (ky = 0; ky < k_h; ky++, src += rows) {
        /* Rolled loops: a first layer's rows are a few words (3 x 3 x 3: 9 bytes), where unrolling's entry costs
           more than the copy. */
        const int8_t *from = src;
        int8_t *to = window + ky * run;
        int32_t m = run;
#pragma GCC unroll 1
        for (; m >= 4; m -= 4, from += 4, to += 4) {
            memcpy(to, from, 4);
        }
#pragma GCC unroll 1
        for (; m > 0; m--) {
            *to++ = *from++;
        }
    }
    if (bits == 8) {
        __asm__ volatile("1:\n\t"
                         "ldr %[w], [%[s]], #4\n\t"
                         "sxtb16 %[e], %[w]\n\t"
                         "sxtb16 %[o], %[w], ror #8\n\t"
                         "strd %[e], %[o], [%[d]], #32\n\t"
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         : [s] "+r"(col), [d] "+r"(dst), [n] "+r"(n), [w] "=&r"(w), [e] "=&r"(e), [o] "=&r"(o)
                         :
                         : "memory", "cc");
        return 1;
    }
    for (; n > 0; n--, col += group, dst += QUAD_STEP * group / 4) {
        offset_sum = widen_group(col, dst, QUAD_STEP, offset_sum, bits);
    }
    *start = -128 * offset_sum;
    return 1;
}
OMPQC_PER_WIDTH_RETURNING(OMPQC_NO_LIBCALL __attribute__((noinline)), int, window_inside,
                          (const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t q, int8_t *window, int16_t *dst,
                           int32_t *start),
                          (p, in, q, window, dst, start))

/* Output pixels px .. px + 3 (the last one repeated past the end). `scratch`: the interleaved int16 columns
   (8 * k bytes, k rounded up to whole weight words), one pixel's gathered window at a time (k rounded up to whole
   weight words), then the channels' short requantization table (channel_short_t each), which the layer's first
   block makes. */
OMPQC_INLINE void conv_pixel_block(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, int32_t pixels,
                                   int8_t *out, uint8_t *scratch, int in_place, int bits) {
    const int32_t k = p->k_h * p->k_w * p->in_c, group = 32 / bits, whole = (k + group - 1) / group * group;
    const int32_t first = px * p->out_c;
    int16_t *x = (int16_t *)scratch;
    int8_t *window = (int8_t *)scratch + 2 * QUAD_PIXELS * whole;
    channel_short_t *table = (channel_short_t *)(window + whole);
    int32_t start[QUAD_PIXELS], at[QUAD_PIXELS], j;
    if (px == 0 && p->short_requant == 1) {
        for (j = 0; j < p->out_c; j++) {
            const short_t q = short_of(p->mult[j], p->shift[j], p->out_zp);
            table[j] = (channel_short_t){q.m0, q.half, 2 * p->bias[j], q.right, q.fix};
        }
    }
    if (px == 0 && !in_place && k < whole) {
        /* The window's bytes past k: zeros that window_inside widens (the gathers write below k only). */
        memset(window + k, 0, (size_t)(whole - k));
    }
    if (pixels - px == 1) {
        /* A last pixel alone: its block of four would compute it four times. */
        const int8_t *src = in + px * p->in_c;
        if (!in_place) {
            columns(p, in, px, window);
            src = window;
        }
        const int32_t start1 = OMPQC_AT_WIDTH(widen_chunks1, bits)(src, x, (uint32_t)k);
        OMPQC_AT_WIDTH(conv_channels1, bits)(p, x, start1, out + first);
        return;
    }
    for (j = 0; j < QUAD_PIXELS; j++) {
        const int32_t q = px + j < pixels ? px + j : pixels - 1;
        const int8_t *src = in + q * p->in_c;
        at[j] = q * p->out_c - first;
        start[j] = 0;
        if (!in_place && OMPQC_AT_WIDTH(window_inside, bits)(p, in, q, window, x + 4 * j, &start[j])) {
            continue;
        }
        if (!in_place) {
            columns(p, in, q, window);
            src = window;
        }
        start[j] = OMPQC_AT_WIDTH(widen_chunks, bits)(src, x + 4 * j, (uint32_t)k);
    }
    OMPQC_AT_WIDTH(conv_channels, bits)(p, x, start, out + first, at, table);
}
#define OMPQC_BLOCK_PIXELS_AT(bits) QUAD_PIXELS
#define OMPQC_BLOCKS_ONLY

#include "../conv_columns.h"
