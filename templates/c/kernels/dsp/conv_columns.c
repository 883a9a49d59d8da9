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

/* One pixel's group of g = 32 / bits inputs as int16 chunks of four lanes at dst, dst + QUAD_STEP, ... (the other
   pixels' chunks go between), adding its offset inputs to offset_sum. At 8 bits a group of four inputs is one chunk:
   inputs 0, 2 (SXTB16 lanes of weight bytes 0, 2), then 1, 3; below, the chunks of offset_chunks (widen.h). A last
   part group is padded with zeros, so the weight bits it meets do not count. */
OMPQC_INLINE int32_t widen_group(const int8_t *g, int16_t *dst, int32_t offset_sum, int bits) {
    if (bits == 8) {
        const uint32_t w = load32(g), e = (uint32_t)__sxtb16(w), o = (uint32_t)sxtb16_ror8(w);
        memcpy(dst, &e, 4);
        memcpy(dst + 2, &o, 4);
        return 0;
    }
    return offset_chunks(g, dst, QUAD_STEP, 0, 0, offset_sum, bits);
}

/* widen_group over a pixel's k inputs, returning the correction its sums start from: -128 times the offset inputs'
   sum. */
OMPQC_INLINE int32_t widen_chunks_at(const int8_t *src, int16_t *dst, uint32_t k, int bits) {
    const uint32_t group = 32u / (uint32_t)bits, rest = k % group;
    uint32_t n = k / group, f;
    int32_t offset_sum = 0;
    if (bits == 8 && n > 0) {
        /* The whole words in assembly: the compiler stores the lanes in two STRs. 32 bytes: QUAD_STEP lanes. */
        uint32_t w, e, o;
        __asm__ volatile("1:\n\t"
                         "ldr %[w], [%[s]], #4\n\t"
                         "sxtb16 %[e], %[w]\n\t"
                         "sxtb16 %[o], %[w], ror #8\n\t"
                         "strd %[e], %[o], [%[d]], #32\n\t"
                         "subs %[n], %[n], #1\n\t"
                         "bne 1b\n\t"
                         : [s] "+r"(src), [d] "+r"(dst), [n] "+r"(n), [w] "=&r"(w), [e] "=&r"(e), [o] "=&r"(o)
                         :
                         : "memory", "cc");
    }
    for (; n > 0; n--, src += group, dst += QUAD_STEP * group / 4) {
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
#define QUAD_X register uint32_t x0 __asm__("r8"), x1 __asm__("r9"), x2 __asm__("r10"), x3 __asm__("r11")
#define QUAD_XS [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3)
/* Below 8 bits (widen_group): the sign bit of every field but the top one flipped, the whole bytes' lanes
   multiplied, then the lanes with their top field cleared, down to the lowest field alone. */
#define QUAD_FLIP(mask) "eor %[w], %[w], #" mask "\n\t"
#define QUAD_KEEP(mask) "and %[u], %[u], #" mask "\n\tand %[w], %[w], #" mask "\n\t"
#define QUAD_WORD_8 QUAD_LANES QUAD_MACS
#define QUAD_WORD_4 QUAD_FLIP("0x08080808") QUAD_LANES QUAD_MACS QUAD_KEEP("0x000F000F") QUAD_MACS
#define QUAD_WORD_2 \
    QUAD_FLIP("0x2A2A2A2A") QUAD_LANES QUAD_MACS QUAD_KEEP("0x003F003F") QUAD_MACS QUAD_KEEP("0x000F000F") QUAD_MACS \
        QUAD_KEEP("0x00030003") QUAD_MACS
#define QUAD_LOAD "ldr %[w], [%[r]], #4\n\t"
#define QUAD_SUMS [s0] "+r"(s->s0), [s1] "+r"(s->s1), [s2] "+r"(s->s2), [s3] "+r"(s->s3), [xp] "+r"(*x)
#define QUAD_LOOP(word) \
    __asm__ volatile("1:\n\t" QUAD_LOAD word "subs %[n], %[n], #1\n\tbne 1b\n\t" \
                     : QUAD_SUMS, [r] "+r"(r), [n] "+r"(words), [w] "=&r"(w), [u] "=&r"(u), QUAD_XS \
                     : \
                     : "memory", "cc")

/* Sums of the four pixels with one row. */
typedef struct {
    int32_t s0, s1, s2, s3;
} sums4_t;

/* s plus the products of `words` (> 0) weight words from r with the interleaved columns from *x, which moves past
   them: `unrolled` runs two words per pass (words even). */
OMPQC_INLINE void dot_loop(sums4_t *s, const int16_t **x, const uint8_t *r, uint32_t words, int unrolled, int bits) {
    uint32_t w, u;
    QUAD_X;
    if (unrolled) {
        words /= 2;
    }
    if (bits == 8) {
        if (unrolled) {
            QUAD_LOOP(QUAD_WORD_8 QUAD_LOAD QUAD_WORD_8);
        } else {
            QUAD_LOOP(QUAD_WORD_8);
        }
    } else if (bits == 4) {
        if (unrolled) {
            QUAD_LOOP(QUAD_WORD_4 QUAD_LOAD QUAD_WORD_4);
        } else {
            QUAD_LOOP(QUAD_WORD_4);
        }
    } else {
        if (unrolled) {
            QUAD_LOOP(QUAD_WORD_2 QUAD_LOAD QUAD_WORD_2);
        } else {
            QUAD_LOOP(QUAD_WORD_2);
        }
    }
}

/* s plus one weight word w (in a register) against the columns at *x. */
OMPQC_INLINE void dot_word(sums4_t *s, const int16_t **x, uint32_t w, int bits) {
    uint32_t u;
    QUAD_X;
    if (bits == 8) {
        __asm__(QUAD_WORD_8 : QUAD_SUMS, [w] "+r"(w), [u] "=&r"(u), QUAD_XS : : "memory");
    } else if (bits == 4) {
        __asm__(QUAD_WORD_4 : QUAD_SUMS, [w] "+r"(w), [u] "=&r"(u), QUAD_XS : : "memory");
    } else {
        __asm__(QUAD_WORD_2 : QUAD_SUMS, [w] "+r"(w), [u] "=&r"(u), QUAD_XS : : "memory");
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

/* A channel's short requantization constants (short_t) and doubled bias, as the channel loop reads them: a table the
   first block of a layer makes in scratch, so that each channel's constants are loads instead of computations and
   the loop keeps one pointer to them. */
typedef struct {
    int32_t m0, half, right, fix, b2;
} channel_short_t;

/* The output of one channel from its scaled sum s (`full`: the clamp is the whole int8 range). `form` is the layer's
   short_requant: 1, the short form with constants c, from the doubled sum; 2, that form with a left shift, constants
   qs; 0, the general one with q. */
OMPQC_INLINE int8_t requantize_sum(int32_t s, uint32_t scale_log, const channel_short_t *c, const short_t *qs,
                                   const requant_t *q, int32_t bias, int32_t zp, int32_t lo, int32_t hi, int full,
                                   int form) {
    if (form == 1) {
        /* The scaled sums divide exactly: 2x is one shift of them and 2 bias. */
        const int32_t x2 = (scale_log > 0 ? s >> (scale_log - 1) : s * 2) + c->b2;
        return clamp_dsp(high_mul_acc(x2, c->m0, c->half + (c->fix & (x2 >> 31))) >> c->right, lo, hi, full);
    }
    if (form == 2) {
        return clamp_dsp(requantize_short(short_doubled((s >> scale_log) + bias, *qs), *qs), lo, hi, full);
    }
    return clamp_dsp(zp + requantize_dsp((s >> scale_log) + bias, *q), lo, hi, full);
}

/* Every output channel of the block's pixels (outputs y, y + at[1], ..., sums starting from start[j]) from their
   interleaved columns x: per channel the whole weight words in the loop, the row's last bytes as one more word, then
   the requantization (`form`: the layer's short_requant; constants from `table` in the short form without left
   shifts). */
OMPQC_INLINE void conv_channels_with(const OMPQC_NS(conv_t) *p, const int16_t *x, const int32_t *start, int8_t *y,
                                     const int32_t *at, const channel_short_t *table, int full, int tailed, int form,
                                     int bits) {
    /* Locals: the output stores may alias the parameter block. */
    const uint32_t k = (uint32_t)(p->k_h * p->k_w * p->in_c), group = 32u / (uint32_t)bits, words = k / group;
    const uint32_t tail = tailed ? (k % group * (uint32_t)bits + 7) / 8 : 0, scale_log = 8u - (uint32_t)bits;
    const int32_t n = p->out_c, rb = p->row_bytes, zp = p->out_zp, a_lo = p->act_min, a_hi = p->act_max;
    const int32_t at1 = at[1], at2 = at[2], at3 = at[3];
    const uint8_t *weights = p->weights;
    const int32_t *bias = p->bias, *mult = p->mult;
    const int8_t *shift = p->shift;
    int8_t *const end = y + n;
    for (; y < end; y++, table++, weights += rb) {
        const uint8_t *r = weights;
        const int16_t *xp = x;
        /* At 8 bits the sums start from 0 (the compiler sees it). */
        sums4_t s = {bits == 8 ? 0 : start[0], bits == 8 ? 0 : start[1], bits == 8 ? 0 : start[2],
                     bits == 8 ? 0 : start[3]};
        if (words >= 2) {
            dot_loop(&s, &xp, r, words & ~1u, 1, bits);
        }
        if (words & 1u) {
            dot_loop(&s, &xp, r + 4 * (words & ~1u), 1, 0, bits);
        }
        if (tail > 0) {
            dot_word(&s, &xp, tail_word(r, rb, tail), bits);
        }
        {
            const int32_t oc = n - (int32_t)(end - y);
            const channel_short_t c = form == 1 ? *table : (channel_short_t){0, 0, 0, 0, 0};
            const short_t qs = short_of_any(form == 2 ? mult[oc] : 0, form == 2 ? shift[oc] : 0, zp);
            const requant_t q = requant_of(form == 0 ? mult[oc] : 0, form == 0 ? shift[oc] : 0);
            const int32_t b = form == 1 ? 0 : bias[oc];
            const int8_t v0 = requantize_sum(s.s0, scale_log, &c, &qs, &q, b, zp, a_lo, a_hi, full, form);
            const int8_t v1 = requantize_sum(s.s1, scale_log, &c, &qs, &q, b, zp, a_lo, a_hi, full, form);
            const int8_t v2 = requantize_sum(s.s2, scale_log, &c, &qs, &q, b, zp, a_lo, a_hi, full, form);
            const int8_t v3 = requantize_sum(s.s3, scale_log, &c, &qs, &q, b, zp, a_lo, a_hi, full, form);
            y[0] = v0;
            y[at1] = v1;
            y[at2] = v2;
            y[at3] = v3;
        }
    }
}
/* With the short requantization (short_requant 1, or 2 with left shifts), a copy of the channel loop per form, per
   clamp (the whole int8 range is one SSAT) and for rows with and without a last part word: the tests stay out of the
   loop, and the common rows keep their registers. A generated model lists the (form, full, tailed) copies its
   layers take; a file compiled alone has all eight. Every other layer runs the one general copy. */
#ifndef OMPQC_CONV_SHORT_LOOPS
#define OMPQC_CONV_SHORT_LOOPS(X) \
    X(1, 0, 0) X(1, 0, 1) X(1, 1, 0) X(1, 1, 1) X(2, 0, 0) X(2, 0, 1) X(2, 1, 0) X(2, 1, 1)
#endif
#define OMPQC_CONV_SHORT_LOOP(form, f, t) \
    if (p->short_requant == (form) && full == (f) && tailed == (t)) { \
        conv_channels_with(p, x, start, y, at, table, f, t, form, bits); \
        return; \
    }
OMPQC_INLINE void conv_channels_at(const OMPQC_NS(conv_t) *p, const int16_t *x, const int32_t *start, int8_t *y,
                                   const int32_t *at, const channel_short_t *table, int bits) {
    const int full = p->act_min == -128 && p->act_max == 127;
    const int tailed = p->k_h * p->k_w * p->in_c % (32 / bits) != 0;
    (void)full;
    (void)tailed;
    OMPQC_CONV_SHORT_LOOPS(OMPQC_CONV_SHORT_LOOP)
    conv_channels_with(p, x, start, y, at, table, 0, 1, 0, bits);
}
OMPQC_PER_WIDTH(OMPQC_HOT, conv_channels,
                (const OMPQC_NS(conv_t) *p, const int16_t *x, const int32_t *start, int8_t *y, const int32_t *at,
                 const channel_short_t *table),
                (p, x, start, y, at, table))

/* Output pixels px .. px + 3 (the last one repeated past the end). `scratch`: the interleaved int16 columns
   (8 * k bytes, k rounded up to whole weight words), one pixel's gathered window at a time (k rounded up to 4
   bytes), then the channels' short requantization table (channel_short_t each), which the layer's first block
   makes. */
OMPQC_INLINE void conv_pixel_block(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, int32_t pixels,
                                   int8_t *out, uint8_t *scratch, int in_place, int bits) {
    const int32_t k = p->k_h * p->k_w * p->in_c, group = 32 / bits, whole = (k + group - 1) / group * group;
    const int32_t first = px * p->out_c;
    int16_t *x = (int16_t *)scratch;
    int8_t *window = (int8_t *)scratch + 2 * QUAD_PIXELS * whole;
    channel_short_t *table = (channel_short_t *)(window + ((k + 3) & ~3));
    int32_t start[QUAD_PIXELS], at[QUAD_PIXELS], j;
    if (px == 0 && p->short_requant == 1) {
        for (j = 0; j < p->out_c; j++) {
            const short_t q = short_of(p->mult[j], p->shift[j], p->out_zp);
            table[j] = (channel_short_t){q.m0, q.half, q.right, q.fix, 2 * p->bias[j]};
        }
    }
    for (j = 0; j < QUAD_PIXELS; j++) {
        const int32_t q = px + j < pixels ? px + j : pixels - 1;
        const int8_t *src = in + q * p->in_c;
        if (!in_place) {
            columns(p, in, q, window);
            src = window;
        }
        start[j] = OMPQC_AT_WIDTH(widen_chunks, bits)(src, x + 4 * j, (uint32_t)k);
        at[j] = q * p->out_c - first;
    }
    OMPQC_AT_WIDTH(conv_channels, bits)(p, x, start, out + first, at, table);
}
#define OMPQC_BLOCK_PIXELS_AT(bits) QUAD_PIXELS
#define OMPQC_BLOCKS_ONLY

#include "../conv_columns.h"
