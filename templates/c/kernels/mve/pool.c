/* Average and global average pooling on Helium: eight channels' window sums per pass, in two vectors of four int32
   lanes (a predicate only where fewer than eight channels are left). */
#include "../ompqc.h"
#include "mve.h"

#define POOL_LANES 8

OMPQC_INLINE void window_sums_at(const int8_t *x0, int32_t rows, int32_t cols, int32_t row, int32_t step,
                                 int32_t left, int32_t *s, int whole) {
    const mve_pred16_t q0 = vctp32q((uint32_t)left), q1 = vctp32q((uint32_t)(left > 4 ? left - 4 : 0));
    int32x4_t a = vdupq_n_s32(0), b = vdupq_n_s32(0);
    int32_t ky, kx;
    for (ky = 0; ky < rows; ky++, x0 += row) {
        const int8_t *x = x0;
        for (kx = 0; kx < cols; kx++, x += step) {
            a = vaddq_s32(a, whole ? vldrbq_s32(x) : vldrbq_z_s32(x, q0));
            b = vaddq_s32(b, whole ? vldrbq_s32(x + 4) : vldrbq_z_s32(x + 4, q1));
        }
    }
    vstrwq_s32(s, a);
    vstrwq_s32(s + 4, b);
}

static void window_sums(const int8_t *x0, int32_t rows, int32_t cols, int32_t row, int32_t step, int32_t left,
                        int32_t *s) {
    if (left >= POOL_LANES) {
        window_sums_at(x0, rows, cols, row, step, left, s, 1);
    } else {
        window_sums_at(x0, rows, cols, row, step, left, s, 0);
    }
}

#include "../pool.h"
