/* Dense (fully connected) layers on Helium: the input less its zero point as int16 once, four weight rows per pass,
   eight inputs of each row per VMLADAV (a row's bytes widened by the load; below 8 bits its fields moved to the top of
   their int16 lanes and back down, against the inputs VLD2 and VLD4 deinterleave in the same order). */
#include "../ompqc.h"
#include "mve.h"

#include "../dense_dot.h"

/* The input less its zero point into the scratch (2 * k bytes), eight a step; the sums start from 0. */
OMPQC_INLINE const int16_t *dense_input(const OMPQC_NS(dense_t) *p, const int8_t *in, uint8_t *scratch, int32_t *start,
                                        int bits) {
    int16_t *x = (int16_t *)scratch;
    int32_t j;
    (void)bits;
    *start = 0;
    for (j = 0; j < p->k; j += 8) {
        const mve_pred16_t q = vctp16q((uint32_t)(p->k - j));
        vstrhq_p_s16(x + j, vsubq_n_s16(vldrbq_z_s16(in + j, q), (int16_t)p->in_zp), q);
    }
    return x;
}

/* Field f of the `bits`-wide fields in each int16 lane of b (a weight byte sign-extended), sign-extended: moved to
   the top of the lane, then arithmetically down (the shifts take immediates: one case per field). */
OMPQC_INLINE int16x8_t field16(int16x8_t b, int bits, uint32_t f) {
    if (bits == 4) {
        return f == 0 ? vshrq_n_s16(vshlq_n_s16(b, 12), 12) : vshrq_n_s16(b, 4);
    }
    switch (f) {
    case 0:
        return vshrq_n_s16(vshlq_n_s16(b, 14), 14);
    case 1:
        return vshrq_n_s16(vshlq_n_s16(b, 12), 14);
    case 2:
        return vshrq_n_s16(vshlq_n_s16(b, 10), 14);
    default:
        return vshrq_n_s16(b, 6);
    }
}

/* a plus row r's 8 bytes (8 * 8 / bits weights) times their inputs: at 8 bits x[0], else the inputs of field f in
   x[f] (byte i's field f weighs input i * 8 / bits + f). */
OMPQC_INLINE int32_t row_dot(int32_t a, const uint8_t *r, const int16x8_t *x, int bits) {
    const int16x8_t b = vldrbq_s16((const int8_t *)r);
    if (bits == 8) {
        return vmladavaq_s16(a, x[0], b);
    }
    a = vmladavaq_s16(a, x[0], field16(b, bits, 0));
    a = vmladavaq_s16(a, x[1], field16(b, bits, 1));
    if (bits == 2) {
        a = vmladavaq_s16(a, x[2], field16(b, bits, 2));
        a = vmladavaq_s16(a, x[3], field16(b, bits, 3));
    }
    return a;
}

/* acc[i] = start + x . row i over k inputs, for four rows: 8 bytes of each row a step (8 * 8 / bits inputs, loaded
   once for the four), the inputs after the last whole step one at a time. */
OMPQC_INLINE void dot1x4_at(const int16_t *x, const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3,
                            uint32_t k, int32_t start, int32_t *acc, int bits) {
    const uint32_t step = 64u / (uint32_t)bits;
    int32_t a0 = start, a1 = start, a2 = start, a3 = start;
    uint32_t n;
    for (n = k / step; n > 0; n--, r0 += 8, r1 += 8, r2 += 8, r3 += 8, x += step) {
        int16x8_t v[4];
        if (bits == 8) {
            v[0] = vldrhq_s16(x);
        } else if (bits == 4) {
            const int16x8x2_t d = vld2q_s16(x);
            v[0] = d.val[0];
            v[1] = d.val[1];
        } else {
            const int16x8x4_t d = vld4q_s16(x);
            v[0] = d.val[0];
            v[1] = d.val[1];
            v[2] = d.val[2];
            v[3] = d.val[3];
        }
        a0 = row_dot(a0, r0, v, bits);
        a1 = row_dot(a1, r1, v, bits);
        a2 = row_dot(a2, r2, v, bits);
        a3 = row_dot(a3, r3, v, bits);
    }
    dot1x4_end(x, r0, r1, r2, r3, k % step, a0, a1, a2, a3, acc, bits);
}
OMPQC_PER_WIDTH(OMPQC_HOT, dot1x4,
                (const int16_t *x, const uint8_t *r0, const uint8_t *r1, const uint8_t *r2, const uint8_t *r3,
                 uint32_t k, int32_t start, int32_t *acc),
                (x, r0, r1, r2, r3, k, start, acc))

#define dense_out dense_out_portable

#include "../dense.h"
