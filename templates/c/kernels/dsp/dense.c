/* Dense (fully connected) layers on the Arm DSP extension: the input less its zero point widened to int16 once (its
   lanes in the order the weight words' SXTB16 halves pair with them), then four weight rows per pass, each word of a
   row sign-extended in two SXTB16s per field and multiplied by SMLAD. */
#include "../ompqc.h"
#include "dsp.h"

#include "widen.h"
#include "../dense_dot.h"

/* The input less its zero point, widened into the scratch (2 * k bytes). */
OMPQC_INLINE const int16_t *dense_input(const OMPQC_NS(dense_t) *p, const int8_t *in, uint8_t *scratch, int bits) {
    OMPQC_AT_WIDTH(widen_less, bits)(in, (int16_t *)scratch, (uint32_t)p->k, p->in_zp);
    return (const int16_t *)scratch;
}

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

/* acc[i] = x . row i over k inputs; below 8 bits each field is moved to the top of its byte first, which scales the
   products by 2^(8 - bits) (the scaled sums divide exactly). At 8 bits the whole words run in an assembly loop, two
   per pass (the compiler spills the four rows' pointers and sums). */
OMPQC_INLINE void dot1x4_at(const int16_t *x, const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3,
                            uint32_t k, int32_t *acc, int bits) {
    const uint32_t group = 32u / (uint32_t)bits, per = 8u / (uint32_t)bits, scale_log = 8u - (uint32_t)bits;
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    uint32_t n, f;
    if (bits == 8 && k >= 4) {
        uint32_t x0, x1, w, u;
        if (k >= 8) {
            n = k / 8;
            DSP_DENSE_LOOP(DSP_DENSE_STEP DSP_DENSE_STEP);
        }
        if (k & 4u) {
            n = 1;
            DSP_DENSE_LOOP(DSP_DENSE_STEP);
        }
        dot1x4_end(x, r0, r1, r2, r3, k % 4, a0, a1, a2, a3, acc, bits);
        return;
    }
    for (n = k / group; n > 0; n--, r0 += 4, r1 += 4, r2 += 4, r3 += 4, x += group) {
        const uint32_t w0 = load32(r0), w1 = load32(r1), w2 = load32(r2), w3 = load32(r3);
#pragma GCC unroll 4
        for (f = 0; f < per; f++) {
            const int32_t xu = (int32_t)load32(x + 4 * f), xv = (int32_t)load32(x + 4 * f + 2);
            int32_t u, v;
            halves(w0, bits, f, &u, &v);
            a0 = __smlad(xv, v, __smlad(xu, u, a0));
            halves(w1, bits, f, &u, &v);
            a1 = __smlad(xv, v, __smlad(xu, u, a1));
            halves(w2, bits, f, &u, &v);
            a2 = __smlad(xv, v, __smlad(xu, u, a2));
            halves(w3, bits, f, &u, &v);
            a3 = __smlad(xv, v, __smlad(xu, u, a3));
        }
    }
    dot1x4_end(x, r0, r1, r2, r3, k % group, a0 >> scale_log, a1 >> scale_log, a2 >> scale_log, a3 >> scale_log, acc,
               bits);
}
OMPQC_PER_WIDTH(OMPQC_HOT, dot1x4,
                (const int16_t *x, const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3,
                 uint32_t k, int32_t *acc),
                (x, r0, r1, r2, r3, k, acc))

/* clamp(zp + requantize(x, m0, shift), lo, hi) by requantize_dsp and clamp_dsp. */
static inline int8_t dense_out(int32_t x, int32_t m0, int32_t shift, int32_t zp, int32_t lo, int32_t hi, int full) {
    return clamp_dsp(zp + requantize_dsp(x, requant_of(m0, shift)), lo, hi, full);
}

#include "../dense.h"
