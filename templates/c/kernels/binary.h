/* What the elementwise kernels share: the 4-D broadcast, the shapes that run in order, and the add's constants. */
#ifndef OMPQC_BINARY_H
#define OMPQC_BINARY_H

#include "ompqc.h"

/* Visits the 4-D broadcast of a and b onto out in storage order: body sees ia, ib (the inputs' offsets) and n. */
#define OMPQC_BROADCAST(p, body) \
    do { \
        int32_t i0, i1, i2, i3, n = 0; \
        for (i0 = 0; i0 < (p)->dims[0]; i0++) \
            for (i1 = 0; i1 < (p)->dims[1]; i1++) \
                for (i2 = 0; i2 < (p)->dims[2]; i2++) \
                    for (i3 = 0; i3 < (p)->dims[3]; i3++, n++) { \
                        const int32_t ia = i0 * (p)->a_strides[0] + i1 * (p)->a_strides[1] + \
                                           i2 * (p)->a_strides[2] + i3 * (p)->a_strides[3]; \
                        const int32_t ib = i0 * (p)->b_strides[0] + i1 * (p)->b_strides[1] + \
                                           i2 * (p)->b_strides[2] + i3 * (p)->b_strides[3]; \
                        body; \
                    } \
    } while (0)

/* Whether both inputs have the output's shape (they are then read in order). */
__attribute__((unused)) static int same_shape(const OMPQC_NS(binary_t) *p) {
    int32_t a, stride = 1;
    for (a = 3; a >= 0; a--) {
        const int32_t s = p->dims[a] == 1 ? 0 : stride;
        if (p->a_strides[a] != s || p->b_strides[a] != s) {
            return 0;
        }
        stride *= p->dims[a];
    }
    return 1;
}

/* Whether input a has the output's shape and b one value per position of the last axis (a per-channel scale of a
   channels-last tensor), read again for each outer position. */
__attribute__((unused)) static int last_axis_broadcast(const OMPQC_NS(binary_t) *p) {
    int32_t a, stride = 1;
    for (a = 3; a >= 0; a--) {
        const int32_t s = p->dims[a] == 1 ? 0 : stride;
        if (p->a_strides[a] != s || p->b_strides[a] != (a == 3 ? s : 0)) {
            return 0;
        }
        stride *= p->dims[a];
    }
    return 1;
}

/* The add's constants of parameter block p as locals (the output stores may alias the parameter block). */
#define OMPQC_ADD_CONSTANTS(p) \
    const int32_t a_zp = (p)->a_zp, b_zp = (p)->b_zp, out_zp = (p)->out_zp, left = (p)->left_shift; \
    const int32_t a_mult = (p)->a_mult, a_shift = (p)->a_shift, b_mult = (p)->b_mult, b_shift = (p)->b_shift; \
    const int32_t out_mult = (p)->out_mult, out_shift = (p)->out_shift, lo = (p)->act_min, hi = (p)->act_max

#endif
