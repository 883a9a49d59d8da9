/* Dense (fully connected) layers on the Arm DSP extension: the input less its zero point widened to int16 once (its
   lanes in the order the weight words' SXTB16 lanes pair with them), then several weight rows per pass, as many as
   the registers hold: each word of a row sign-extended by SXTB16 and multiplied by SMLAD. */
#include "../ompqc.h"
#include "dsp.h"

#include "widen.h"
#include "../dense_dot.h"

/* The input less its zero point, widened into the scratch (2 * k bytes); *start: the sums' start (widen_less). */
OMPQC_INLINE const int16_t *dense_input(const OMPQC_NS(dense_t) *p, const int8_t *in, uint8_t *scratch, int32_t *start,
                                        int bits) {
    *start = OMPQC_AT_WIDTH(widen_less, bits)(in, (int16_t *)scratch, (uint32_t)p->k, p->in_zp);
    return (const int16_t *)scratch;
}

/* Rows per pass: at 8 bits four share each input word; at 4 bits three rows keep both chunks of the input in
   registers; at 2 bits two rows keep their lanes through the four fields' chunks. */
#define OMPQC_DENSE_ROWS(bits) ((bits) == 8 ? 4 : (bits) == 4 ? 3 : 2)

/* One row's weight word against the input's two words x0, x1: SXTB16 lanes, two SMLADs. */
#define DSP_DENSE_ROW(r, a) \
    "ldr %[w], [%[" r "]], #4\n\t" \
    "sxtb16 %[u], %[w]\n\t" \
    "smlad %[" a "], %[x0], %[u], %[" a "]\n\t" \
    "sxtb16 %[w], %[w], ror #8\n\t" \
    "smlad %[" a "], %[x1], %[w], %[" a "]\n\t"

/* Four rows' weight words against the input's next four lanes. */
#define DSP_DENSE_STEP \
    "ldrd %[x0], %[x1], [%[xp]], #8\n\t" DSP_DENSE_ROW("r0", "a0") DSP_DENSE_ROW("r1", "a1") DSP_DENSE_ROW("r2", "a2") \
        DSP_DENSE_ROW("r3", "a3")
#define DSP_DENSE_LOOP(steps) \
    __asm__ volatile("1:\n\t" steps "subs %[n], %[n], #1\n\tbne 1b\n\t" \
                     : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [r0] "+r"(r0), [r1] "+r"(r1), \
                       [r2] "+r"(r2), [r3] "+r"(r3), [xp] "+r"(x), [n] "+r"(n), [x0] "=&r"(x0), [x1] "=&r"(x1), \
                       [w] "=&r"(w), [u] "=&r"(u) \
                     : \
                     : "memory", "cc")

/* 4 bits, one row's weight word (offset_chunks): the whole bytes' lanes against the input's first chunk (x0, x1),
   the low fields' against its second (x2, x3). */
#define DSP_DENSE_ROW_4(r, a) \
    "ldr %[w], [%[" r "]], #4\n\t" \
    "eor %[w], %[w], #0x08080808\n\t" \
    "sxtb16 %[u], %[w]\n\t" \
    "sxtb16 %[w], %[w], ror #8\n\t" \
    "smlad %[" a "], %[x0], %[u], %[" a "]\n\t" \
    "smlad %[" a "], %[x1], %[w], %[" a "]\n\t" \
    "and %[u], %[u], #0x000F000F\n\t" \
    "and %[w], %[w], #0x000F000F\n\t" \
    "smlad %[" a "], %[x2], %[u], %[" a "]\n\t" \
    "smlad %[" a "], %[x3], %[w], %[" a "]\n\t"
#define DSP_DENSE_STEP_4 \
    "ldrd %[x0], %[x1], [%[xp]], #8\n\t" \
    "ldrd %[x2], %[x3], [%[xp]], #8\n\t" DSP_DENSE_ROW_4("r0", "a0") DSP_DENSE_ROW_4("r1", "a1") \
        DSP_DENSE_ROW_4("r2", "a2")

/* 2 bits, two rows' weight words: their lanes (w0 u0, w1 u1) against each of the input's four chunks in turn. */
#define DSP_DENSE_MACS_2 \
    "ldrd %[x0], %[x1], [%[xp]], #8\n\t" \
    "smlad %[a0], %[x0], %[u0], %[a0]\n\t" \
    "smlad %[a0], %[x1], %[w0], %[a0]\n\t" \
    "smlad %[a1], %[x0], %[u1], %[a1]\n\t" \
    "smlad %[a1], %[x1], %[w1], %[a1]\n\t"
#define DSP_DENSE_KEEP_2(mask) \
    "and %[u0], %[u0], #" mask "\n\tand %[w0], %[w0], #" mask "\n\t" \
    "and %[u1], %[u1], #" mask "\n\tand %[w1], %[w1], #" mask "\n\t"
#define DSP_DENSE_STEP_2 \
    "ldr %[w0], [%[r0]], #4\n\t" \
    "ldr %[w1], [%[r1]], #4\n\t" \
    "eor %[w0], %[w0], #0x2A2A2A2A\n\t" \
    "eor %[w1], %[w1], #0x2A2A2A2A\n\t" \
    "sxtb16 %[u0], %[w0]\n\t" \
    "sxtb16 %[w0], %[w0], ror #8\n\t" \
    "sxtb16 %[u1], %[w1]\n\t" \
    "sxtb16 %[w1], %[w1], ror #8\n\t" DSP_DENSE_MACS_2 DSP_DENSE_KEEP_2("0x003F003F") DSP_DENSE_MACS_2 \
        DSP_DENSE_KEEP_2("0x000F000F") DSP_DENSE_MACS_2 DSP_DENSE_KEEP_2("0x00030003") DSP_DENSE_MACS_2

/* acc[i] = start + x . row i over k inputs, for the first OMPQC_DENSE_ROWS(bits) rows. The whole words run in an
   assembly loop (at 8 bits two per pass: the compiler spills the four rows' pointers and sums); below 8 bits the
   sums are scaled by 2^(8 - bits) (widen.h) and divide exactly. */
OMPQC_INLINE void dot1x4_at(const int16_t *x, const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3,
                            uint32_t k, int32_t start, int32_t *acc, int bits) {
    const uint32_t group = 32u / (uint32_t)bits, scale_log = 8u - (uint32_t)bits;
    int32_t a0 = start, a1 = start, a2 = start, a3 = start;
    uint32_t n = k / group, x0, x1;
    if (bits == 8 && n > 0) {
        uint32_t w, u;
        if (n >= 2) {
            n /= 2;
            DSP_DENSE_LOOP(DSP_DENSE_STEP DSP_DENSE_STEP);
        }
        if (k & 4u) {
            n = 1;
            DSP_DENSE_LOOP(DSP_DENSE_STEP);
        }
    } else if (bits == 4 && n > 0) {
        uint32_t x2, x3, w, u;
        __asm__ volatile("1:\n\t" DSP_DENSE_STEP_4 "subs %[n], %[n], #1\n\tbne 1b\n\t"
                         : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [r0] "+r"(r0), [r1] "+r"(r1), [r2] "+r"(r2),
                           [xp] "+r"(x), [n] "+r"(n), [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3),
                           [w] "=&r"(w), [u] "=&r"(u)
                         :
                         : "memory", "cc");
    } else if (bits == 2 && n > 0) {
        uint32_t w0, u0, w1, u1;
        __asm__ volatile("1:\n\t" DSP_DENSE_STEP_2 "subs %[n], %[n], #1\n\tbne 1b\n\t"
                         : [a0] "+r"(a0), [a1] "+r"(a1), [r0] "+r"(r0), [r1] "+r"(r1), [xp] "+r"(x), [n] "+r"(n),
                           [x0] "=&r"(x0), [x1] "=&r"(x1), [w0] "=&r"(w0), [u0] "=&r"(u0), [w1] "=&r"(w1),
                           [u1] "=&r"(u1)
                         :
                         : "memory", "cc");
    }
    if (bits != 8) {
        a0 >>= scale_log;
        a1 >>= scale_log;
        a2 >>= scale_log;
        a3 >>= scale_log;
    }
    dot1x4_end(x, r0, r1, r2, r3, k % group, a0, a1, a2, a3, acc, bits);
}
OMPQC_PER_WIDTH(OMPQC_HOT, dot1x4,
                (const int16_t *x, const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3,
                 uint32_t k, int32_t start, int32_t *acc),
                (x, r0, r1, r2, r3, k, start, acc))

/* clamp(zp + requantize(x, m0, shift), lo, hi) by requantize_dsp and clamp_dsp. */
static inline int8_t dense_out(int32_t x, int32_t m0, int32_t shift, int32_t zp, int32_t lo, int32_t hi, int full) {
    return clamp_dsp(zp + requantize_dsp(x, requant_of(m0, shift)), lo, hi, full);
}

#include "../dense.h"
