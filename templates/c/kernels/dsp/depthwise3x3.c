/* Depthwise 3x3 convolutions on the Arm DSP extension: the first two taps of each kernel row one SMLAD. */
#include "../ompqc.h"
#include "dsp.h"

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
    const int32_t k12 = (int32_t)(((uint32_t)t[1] & 0xFFFFu) | ((uint32_t)t[2] << 16));
    const int32_t k45 = (int32_t)(((uint32_t)t[4] & 0xFFFFu) | ((uint32_t)t[5] << 16));
    const int32_t k78 = (int32_t)(((uint32_t)t[7] & 0xFFFFu) | ((uint32_t)t[8] << 16));
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

#define plane_requantize requantize_row_dsp
#include "../depthwise3x3.h"
