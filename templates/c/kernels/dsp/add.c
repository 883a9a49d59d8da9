/* Elementwise adds on the Arm DSP extension: add.c's short exact form, each rounded high multiply one SMMLAR that
   also adds its shift's rounding half (docs/SEMANTICS.md). */
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
   from zero, the second rounding's sign taken from t. `fix` is -1 when right > 0, else 0 (half is then 0). */
static inline int32_t scale_short(int32_t t, int32_t m, int32_t right, int32_t half, int32_t fix) {
    return smmlar(t, m, half + (fix & (t >> 31))) >> right;
}

/* The short form's loop; `usual` (a constant): input a's shift is 0 (TFLite gives the input of the larger scale the
   multiplier 1/2) and input b's and the output's are not, so a's term is one SMMULR and the others' sign corrections
   one ADD each. `full`: the clamp is the whole int8 range. */
OMPQC_INLINE void add_short(const int8_t *a, const int8_t *b, int8_t *out, int32_t n, int32_t scale, int32_t a_off,
                            int32_t b_off, int32_t a_mult, int32_t b_mult, int32_t out_mult, int32_t ar, int32_t br,
                            int32_t outr, int32_t out_zp, int32_t lo, int32_t hi, int usual, int full) {
    const int32_t a_half = (1 << ar) >> 1, b_half = (1 << br) >> 1, out_half = (1 << outr) >> 1;
    const int32_t a_fix = usual ? 0 : -(ar > 0), b_fix = usual ? -1 : -(br > 0), out_fix = usual ? -1 : -(outr > 0);
    int32_t i;
    for (i = 0; i < n; i++) {
        const int32_t xa = usual ? smmlar(a[i] * scale + a_off, a_mult, 0)
                                 : scale_short(a[i] * scale + a_off, a_mult, ar, a_half, a_fix);
        const int32_t xb = scale_short(b[i] * scale + b_off, b_mult, br, b_half, b_fix);
        const int32_t y = out_zp + scale_short((xa + xb) * 2, out_mult, outr, out_half, out_fix);
        out[i] = full ? (int8_t)__ssat(y, 8) : clamp(y, lo, hi);
    }
}

/* The add of n elements of inputs with the output's shape (out may be a or b). */
OMPQC_HOT static void add_run(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out, int32_t n) {
    OMPQC_ADD_CONSTANTS(p);
    int32_t i;
    /* The usual case (multipliers below one, inputs shifted left by at most 20): every value stays below 2^29. */
    if (left <= 20 && a_shift <= 0 && b_shift <= 0 && out_shift <= 0) {
        const int32_t scale = 1 << (left + 1), a_off = -a_zp * scale, b_off = -b_zp * scale;
        const int full = lo == -128 && hi == 127;
        if (a_shift == 0 && b_shift < 0 && out_shift < 0) {
            if (full) {
                add_short(a, b, out, n, scale, a_off, b_off, a_mult, b_mult, out_mult, 0, -b_shift, -out_shift,
                          out_zp, lo, hi, 1, 1);
            } else {
                add_short(a, b, out, n, scale, a_off, b_off, a_mult, b_mult, out_mult, 0, -b_shift, -out_shift,
                          out_zp, lo, hi, 1, 0);
            }
        } else if (b_shift == 0 && a_shift < 0 && out_shift < 0) {
            /* The same with the inputs' roles swapped (the sum commutes). */
            add_short(b, a, out, n, scale, b_off, a_off, b_mult, a_mult, out_mult, 0, -a_shift, -out_shift, out_zp,
                      lo, hi, 1, full);
        } else {
            add_short(a, b, out, n, scale, a_off, b_off, a_mult, b_mult, out_mult, -a_shift, -b_shift, -out_shift,
                      out_zp, lo, hi, 0, 0);
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
