/* Elementwise adds, portable C (the reference among the C kernels). */
#include "binary.h"
#include "ompqc.h"

/* round(x * m / 2^31) as requantize() computes it, from x2 = 2x (|x| < 2^30): one rounded high multiply (SMMULR
   where the ISA has it). */
static inline int32_t high_mul2(int32_t x2, int32_t m) {
    return (int32_t)(((int64_t)x2 * m + ((int64_t)1 << 31)) >> 32);
}

/* x / 2^right rounded half away from zero (right >= 0, half = 2^right / 2, fix = right > 0), |x| < 2^30 so adding the
   half cannot overflow. */
static inline int32_t round_shift(int32_t x, int32_t right, int32_t half, uint32_t fix) {
    return (x + half - (int32_t)(((uint32_t)x >> 31) & fix)) >> right;
}

/* The add of n elements of inputs with the output's shape (out may be a or b). */
OMPQC_HOT static void add_run(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out, int32_t n) {
    OMPQC_ADD_CONSTANTS(p);
    int32_t i;
    /* The usual case (multipliers below one, inputs shifted left by at most 20): every value stays below 2^29, so
       the high multiplies and roundings take their short forms, with the same results. */
    if (left <= 20 && a_shift <= 0 && b_shift <= 0 && out_shift <= 0) {
        const int32_t scale = 1 << (left + 1), a_off = a_zp * scale, b_off = b_zp * scale;
        const int32_t ar = -a_shift, br = -b_shift, outr = -out_shift;
        const int32_t a_half = (1 << ar) >> 1, b_half = (1 << br) >> 1, out_half = (1 << outr) >> 1;
        const uint32_t a_fix = ar > 0, b_fix = br > 0, out_fix = outr > 0;
        for (i = 0; i < n; i++) {
            const int32_t xa = round_shift(high_mul2(a[i] * scale - a_off, a_mult), ar, a_half, a_fix);
            const int32_t xb = round_shift(high_mul2(b[i] * scale - b_off, b_mult), br, b_half, b_fix);
            const int32_t y = round_shift(high_mul2((xa + xb) * 2, out_mult), outr, out_half, out_fix);
            out[i] = clamp(out_zp + y, lo, hi);
        }
        return;
    }
    for (i = 0; i < n; i++) {
        const int32_t xa = requantize(((int32_t)a[i] - a_zp) * (1 << left), a_mult, a_shift);
        const int32_t xb = requantize(((int32_t)b[i] - b_zp) * (1 << left), b_mult, b_shift);
        out[i] = clamp(out_zp + requantize(xa + xb, out_mult, out_shift), lo, hi);
    }
}

#include "add.h"
