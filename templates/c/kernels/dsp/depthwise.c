/* Depthwise convolutions other than 3x3 without dilation on the Arm DSP extension: without dilation along the rows,
   each pair of a kernel row's taps one SMLAD (its inputs one word of the plane). */
#include "../ompqc.h"
#include "dsp.h"
#include "../plane.h"

/* acc plus the window at q: kh kernel rows dh apart, each kwe taps (even) as pairs. */
OMPQC_INLINE int32_t window_pairs(const int16_t *q, const int16_t *t, int32_t kh, int32_t dh, int32_t kwe,
                                  int32_t acc) {
    int32_t ky, kx;
#pragma GCC unroll 8
    for (ky = 0; ky < kh; ky++, q += dh, t += kwe) {
#pragma GCC unroll 4
        for (kx = 0; kx < kwe; kx += 2) {
            acc = __smlad((int32_t)load32(q + kx), (int32_t)load32(t + kx), acc);
        }
    }
    return acc;
}

/* dw_rows without dilation along the rows, for kh kernel rows of kwe taps (constants in the copies below). */
OMPQC_INLINE void rows_pairs(const int16_t *r, int32_t pw, const int16_t *t, const OMPQC_NS(conv_t) *p, int32_t rows,
                             int32_t bias, int32_t *sums, int32_t kh, int32_t kwe) {
    const int32_t n = p->out_w, dh = p->dil_h * pw, sx = p->stride_w, sy = p->stride_h * pw;
    int32_t y;
    for (y = 0; y < rows; y++, r += sy) {
        const int16_t *q = r;
        int32_t *end = sums + n;
        for (; sums < end; sums++, q += sx) {
            *sums = window_pairs(q, t, kh, dh, kwe, bias);
        }
    }
}

/* One kernel row of three words for rows_twos: its six pairs (LDRD), each word of the row weighed by a pair of
   each output. */
#define TWOS_ROW3 \
    "ldrd %[t0], %[t1], [%[tp]], #8\n\t" \
    "ldrd %[t2], %[s0], [%[tp]], #8\n\t" \
    "ldrd %[s1], %[s2], [%[tp]], #8\n\t" \
    "ldr %[w], [%[q]]\n\t" \
    "smlad %[a0], %[w], %[t0], %[a0]\n\t" \
    "smlad %[a1], %[w], %[s0], %[a1]\n\t" \
    "ldr %[w], [%[q], #4]\n\t" \
    "smlad %[a0], %[w], %[t1], %[a0]\n\t" \
    "smlad %[a1], %[w], %[s1], %[a1]\n\t" \
    "ldr %[w], [%[q], #8]\n\t" \
    "smlad %[a0], %[w], %[t2], %[a0]\n\t" \
    "smlad %[a1], %[w], %[s2], %[a1]\n\t" \
    "add %[q], %[q], %[dh]\n\t"

/* dw_rows at stride 1 for an odd window width, two outputs per step: output x (even) weighs a kernel row's words
   (q[x], q[x + 1]), (q[x + 2], q[x + 3]), ... with the tap pairs (t0, t1), (t2, t3), ..., (t[kw - 1], 0), and output
   x + 1 weighs the same words with the pairs moved by one tap, (0, t0), (t1, t2), ..., (t[kw - 2], t[kw - 1]); ts
   holds per kernel row the m (kwe / 2) pairs of each. An odd row's last output takes the window alone. */
OMPQC_INLINE void rows_twos(const int16_t *r, int32_t pw, const int16_t *t, const int32_t *ts,
                            const OMPQC_NS(conv_t) *p, int32_t rows, int32_t bias, int32_t *sums, int32_t kh,
                            int32_t m) {
    const int32_t n = p->out_w, dh = p->dil_h * pw, sy = p->stride_h * pw;
    int32_t y, ky, j;
    for (y = 0; y < rows; y++, r += sy) {
        const int16_t *q = r;
        int32_t *end = sums + (n & ~1);
        for (; sums < end; sums += 2, q += 2) {
            const int16_t *row = q;
            int32_t a0 = bias, a1 = bias;
            if (kh == 5 && m == 3) {
                /* In assembly: GCC keeps the pairs on the stack and loads them one by one. */
                const int32_t *tp = ts;
                int32_t t0, t1, t2, s0, s1, s2, w;
                __asm__ volatile(TWOS_ROW3 TWOS_ROW3 TWOS_ROW3 TWOS_ROW3 TWOS_ROW3
                                 : [a0] "+r"(a0), [a1] "+r"(a1), [q] "+r"(row), [tp] "+r"(tp), [t0] "=&r"(t0),
                                   [t1] "=&r"(t1), [t2] "=&r"(t2), [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2),
                                   [w] "=&r"(w)
                                 : [dh] "r"(dh * 2)
                                 : "memory");
                sums[0] = a0;
                sums[1] = a1;
                continue;
            }
#pragma GCC unroll 8
            for (ky = 0; ky < kh; ky++, row += dh) {
#pragma GCC unroll 4
                for (j = 0; j < m; j++) {
                    const int32_t w = (int32_t)load32(row + 2 * j);
                    a0 = __smlad(w, ts[2 * m * ky + j], a0);
                    a1 = __smlad(w, ts[2 * m * ky + m + j], a1);
                }
            }
            sums[0] = a0;
            sums[1] = a1;
        }
        if (n & 1) {
            *sums++ = window_pairs(q, t, kh, dh, 2 * m, bias);
        }
    }
}

/* The tap pairs of rows_twos for the kh rows of kwe taps at t. */
static inline void tap_pairs(const int16_t *t, int32_t kh, int32_t kwe, int32_t *ts) {
    const int32_t m = kwe / 2;
    int32_t ky, j;
    for (ky = 0; ky < kh; ky++, t += kwe, ts += 2 * m) {
        for (j = 0; j < m; j++) {
            ts[j] = (int32_t)load32(t + 2 * j);
            ts[m + j] = (int32_t)((j > 0 ? (uint32_t)(uint16_t)t[2 * j - 1] : 0u) | ((uint32_t)(uint16_t)t[2 * j] << 16));
        }
    }
}

/* Output rows of a depthwise channel: sums[y * n + x] = bias + the window at column x * stride_w of plane rows
   y * stride_h + ky * dil_h (each pw long) from r, with taps t (rows of an even count, the padding tap zero). The
   usual windows get copies with their loops unrolled. */
OMPQC_HOT static void dw_rows(const int16_t *r, int32_t pw, const int16_t *t, const OMPQC_NS(conv_t) *p,
                              int32_t rows, int32_t bias, int32_t *sums) {
    const int32_t kw = p->k_w, kwe = (kw + 1) & ~1, dw = p->dil_w;
    if (dw == 1 && p->stride_w == 1 && (kw & 1) && kw <= 7 && p->k_h <= 7) {
        /* Two outputs per step; the square windows unrolled whole. */
        int32_t ts[7 * 8];
        tap_pairs(t, p->k_h, kwe, ts);
        if (p->k_h == 5 && kw == 5) {
            rows_twos(r, pw, t, ts, p, rows, bias, sums, 5, 3);
        } else if (p->k_h == 7 && kw == 7) {
            rows_twos(r, pw, t, ts, p, rows, bias, sums, 7, 4);
        } else {
            rows_twos(r, pw, t, ts, p, rows, bias, sums, p->k_h, kwe / 2);
        }
        return;
    }
    if (dw == 1) {
        /* Square 5x5 and 7x7 windows, unrolled whole; other windows by their row length. */
        if (p->k_h == 5 && kw == 5) {
            rows_pairs(r, pw, t, p, rows, bias, sums, 5, 6);
        } else if (p->k_h == 7 && kw == 7) {
            rows_pairs(r, pw, t, p, rows, bias, sums, 7, 8);
        } else if (kwe == 2) {
            rows_pairs(r, pw, t, p, rows, bias, sums, p->k_h, 2);
        } else if (kwe == 4) {
            rows_pairs(r, pw, t, p, rows, bias, sums, p->k_h, 4);
        } else {
            rows_pairs(r, pw, t, p, rows, bias, sums, p->k_h, kwe);
        }
        return;
    }
    plane_rows_by_tap(r, pw, t, kwe, p, rows, bias, sums);
}

#define plane_requantize requantize_row_dsp
#include "../depthwise.h"
