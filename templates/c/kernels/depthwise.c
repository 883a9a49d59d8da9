/* Depthwise convolutions other than 3x3 without dilation, portable C (the reference among the C kernels). */
#include "ompqc.h"
#include "plane.h"

/* Output rows of a depthwise channel (plane.h's tap by tap; taps in rows of an even count). */
OMPQC_HOT static void dw_rows(const int16_t *r, int32_t pw, const int16_t *t, const OMPQC_NS(conv_t) *p,
                              int32_t rows, int32_t bias, int32_t *sums) {
    plane_rows_by_tap(r, pw, t, (p->k_w + 1) & ~1, p, rows, bias, sums);
}

#define plane_requantize requantize_row
#include "depthwise.h"
