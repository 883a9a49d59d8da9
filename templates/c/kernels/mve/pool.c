/* Average and global average pooling on Helium: four channels' window sums per vector. */
#include "../ompqc.h"
#include "mve.h"

#define POOL_LANES 4

static void window_sums(const int8_t *x0, int32_t rows, int32_t cols, int32_t row, int32_t step, int32_t left,
                        int32_t *s) {
    const mve_pred16_t q = vctp32q((uint32_t)left);
    int32x4_t sum = vdupq_n_s32(0);
    int32_t ky, kx;
    for (ky = 0; ky < rows; ky++, x0 += row) {
        const int8_t *x = x0;
        for (kx = 0; kx < cols; kx++, x += step) {
            sum = vaddq_s32(sum, vldrbq_z_s32(x, q));
        }
    }
    vstrwq_s32(s, sum);
}

#include "../pool.h"
