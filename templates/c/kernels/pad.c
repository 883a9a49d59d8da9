/* Constant padding of a channels-last image. */
#include "ompqc.h"

void OMPQC_NS(pad)(const OMPQC_NS(pad_t) *p, const int8_t *in, int8_t *out) {
    const int32_t c = p->c, in_w = p->in_w, out_w = p->out_w;
    int32_t y;
    memset(out, p->value, (size_t)(p->out_h * out_w * c));
    for (y = 0; y < p->in_h; y++) {
        memcpy(out + ((y + p->pad_t) * out_w + p->pad_l) * c, in + y * in_w * c, (size_t)(in_w * c));
    }
}
