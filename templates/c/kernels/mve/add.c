/* Elementwise adds on Helium: four elements per vector, the last predicated to the elements left. */
#include "../binary.h"
#include "../ompqc.h"
#include "mve.h"

/* The add of n elements of inputs with the output's shape (out may be a or b). */
OMPQC_HOT static void add_run(const OMPQC_NS(binary_t) *p, const int8_t *a, const int8_t *b, int8_t *out, int32_t n) {
    OMPQC_ADD_CONSTANTS(p);
    for (; n > 0; n -= 4, a += 4, b += 4, out += 4) {
        const mve_pred16_t q = vctp32q((uint32_t)n);
        const int32x4_t xa = requantize_n(vshlq_r_s32(vsubq_n_s32(vldrbq_z_s32(a, q), a_zp), left), a_mult, a_shift);
        const int32x4_t xb = requantize_n(vshlq_r_s32(vsubq_n_s32(vldrbq_z_s32(b, q), b_zp), left), b_mult, b_shift);
        const int32x4_t y = vaddq_n_s32(requantize_n(vaddq_s32(xa, xb), out_mult, out_shift), out_zp);
        vstrbq_p_s32(out, vminq_s32(vmaxq_s32(y, vdupq_n_s32(lo)), vdupq_n_s32(hi)), q);
    }
}

#include "../add.h"
