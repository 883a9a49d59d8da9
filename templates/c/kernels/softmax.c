/* Softmax from a table of exponentials of the input differences (exp_table[d] for max - x = d) and `len` int32 of
   scratch. */
#include "ompqc.h"

void OMPQC_NS(softmax)(const OMPQC_NS(softmax_t) *p, const int8_t *in, int8_t *out, const int32_t *exp_table,
                       int32_t *scratch) {
    const int32_t outer = p->outer, len = p->len, inner = p->inner;
    int32_t o, j, i;
    for (o = 0; o < outer; o++) {
        for (j = 0; j < inner; j++) {
            const int8_t *x = in + o * len * inner + j;
            int8_t *y = out + o * len * inner + j;
            int32_t max = -128;
            int64_t sum = 0;
            for (i = 0; i < len; i++) {
                max = x[i * inner] > max ? x[i * inner] : max;
            }
            for (i = 0; i < len; i++) {
                scratch[i] = exp_table[max - x[i * inner]];
                sum += scratch[i];
            }
            for (i = 0; i < len; i++) {
                const int64_t prob = ((int64_t)scratch[i] * 256 + sum / 2) / sum;
                y[i * inner] = clamp((int32_t)(prob - 128), -128, 127);
            }
        }
    }
}
