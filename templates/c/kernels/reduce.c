/* A mean (rounded half away from zero), maximum or minimum (`kind` 0, 1, 2) of `outer` blocks of `len` elements
   `inner` apart, to `inner` outputs each; the output keeps the input's quantization. */
#include "ompqc.h"

void OMPQC_NS(reduce)(const OMPQC_NS(reduce_t) *p, const int8_t *in, int8_t *out) {
    const int32_t outer = p->outer, len = p->len, inner = p->inner, kind = p->kind;
    int32_t o, j, i;
    for (o = 0; o < outer; o++) {
        for (j = 0; j < inner; j++) {
            const int8_t *x = in + o * len * inner + j;
            int32_t acc = kind == 0 ? 0 : kind == 1 ? -128 : 127;
            for (i = 0; i < len; i++) {
                const int32_t v = x[i * inner];
                acc = kind == 0 ? acc + v : kind == 1 ? (v > acc ? v : acc) : (v < acc ? v : acc);
            }
            if (kind == 0) {
                acc = acc >= 0 ? (acc + len / 2) / len : (acc - len / 2) / len;
            }
            out[o * inner + j] = clamp(acc, -128, 127);
        }
    }
}
