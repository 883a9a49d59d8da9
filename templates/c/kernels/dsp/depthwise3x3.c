/* Depthwise 3x3 convolutions on the Arm DSP extension: the first two taps of each kernel row one SMLAD. */
#include "../ompqc.h"
#include "dsp.h"

/* Output rows of a depthwise 3x3 channel: sums[y * n + x] = bias + the window at column x * sx of plane rows
   y * sy + (0, 1, 2) (each pw long) from r; t[9..11] hold the first two taps of each kernel row as int16 lanes,
   t[12] taps 2 and 5, t[8] the last. */
OMPQC_HOT static void dw3x3_rows(const int16_t *r, int32_t pw, int32_t sx, int32_t sy, int32_t rows, int32_t n,
                                 const int32_t *t, int32_t bias, int32_t *sums) {
    const int32_t k0 = t[9], k1 = t[10], k2 = t[11], w25 = t[12], w8 = t[8];
    int32_t y;
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

/* out[i * stride] = the requantized, offset and clamped sums[i], for one channel (requantize_dsp; one loop per
   clamp). */
OMPQC_HOT static void requantize_row(const int32_t *sums, int32_t n, int32_t m0, int32_t shift, int32_t zp, int32_t lo,
                                     int32_t hi, int8_t *out, int32_t stride) {
    const int32_t *end = sums + n;
    const requant_t q = requant_of(m0, shift);
    if (lo == -128 && hi == 127) {
        for (; sums < end; sums++, out += stride) {
            *out = clamp_dsp(zp + requantize_dsp(*sums, q), lo, hi, 1);
        }
    } else {
        for (; sums < end; sums++, out += stride) {
            *out = clamp_dsp(zp + requantize_dsp(*sums, q), lo, hi, 0);
        }
    }
}

#include "../depthwise3x3.h"
