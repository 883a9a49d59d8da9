/* Elementwise adds on the Arm DSP extension: add.c's short exact form, each rounded high multiply one SMMLAR that
   also adds its shift's rounding half. */
#include "../binary.h"
#include "../ompqc.h"
#include "dsp.h"

/* acc + round(t * m / 2^32), rounding half up (SMMLAR). */
static inline int32_t smmlar(int32_t t, int32_t m, int32_t acc) {
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(t), "r"(m), "r"(acc));
    return r;
}

/* requantize(t / 2, m, -right) for even t = 2x, |x| < 2^29: round(t * m / 2^32) rounded again by 2^right half away
   from zero. The second rounding's sign is t's: the product has it whenever it is not zero, and a zero product
   rounds to zero either way. `fix` is -1 when right > 0, else 0. */
static inline int32_t scale_short(int32_t t, int32_t m, int32_t right, int32_t half, int32_t fix) {
    return smmlar(t, m, half + (fix & (t >> 31))) >> right;
}

/* The add of n elements of inputs with the output's shape (out may be a or b). */
OMPQC_HOT static void add_run(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out, int32_t n) {
    OMPQC_ADD_CONSTANTS(p);
    int32_t i;
    /* The usual case (multipliers below one, inputs shifted left by at most 20): every value stays below 2^29. */
    if (left <= 20 && a_shift <= 0 && b_shift <= 0 && out_shift <= 0) {
        const int32_t scale = 1 << (left + 1), a_off = -a_zp * scale, b_off = -b_zp * scale;
        const int32_t ar = -a_shift, br = -b_shift, outr = -out_shift;
        const int32_t a_half = (1 << ar) >> 1, b_half = (1 << br) >> 1, out_half = (1 << outr) >> 1;
        const int32_t a_fix = -(ar > 0), b_fix = -(br > 0), out_fix = -(outr > 0);
        if (lo == -128 && hi == 127) {
            for (i = 0; i < n; i++) {
                const int32_t xa = scale_short(a[i] * scale + a_off, a_mult, ar, a_half, a_fix);
                const int32_t xb = scale_short(b[i] * scale + b_off, b_mult, br, b_half, b_fix);
                out[i] = (int8_t)__ssat(out_zp + scale_short((xa + xb) * 2, out_mult, outr, out_half, out_fix), 8);
            }
        } else {
            for (i = 0; i < n; i++) {
                const int32_t xa = scale_short(a[i] * scale + a_off, a_mult, ar, a_half, a_fix);
                const int32_t xb = scale_short(b[i] * scale + b_off, b_mult, br, b_half, b_fix);
                out[i] = clamp(out_zp + scale_short((xa + xb) * 2, out_mult, outr, out_half, out_fix), lo, hi);
            }
        }
        return;
    }
    for (i = 0; i < n; i++) {
        const int32_t xa = requantize(((int32_t)a[i] - a_zp) * (1 << left), a_mult, a_shift);
        const int32_t xb = requantize(((int32_t)b[i] - b_zp) * (1 << left), b_mult, b_shift);
        out[i] = clamp(out_zp + requantize(xa + xb, out_mult, out_shift), lo, hi);
    }
}

#include "../add.h"
