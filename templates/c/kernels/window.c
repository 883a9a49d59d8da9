/* Rows of a window copied between a tensor and its tile (patch-based execution). */
#include "ompqc.h"

void OMPQC_NS(copy_window)(const OMPQC_NS(window_t) *p, const int8_t *in, int8_t *out) {
    int32_t r;
    for (r = 0; r < p->rows; r++) {
        memcpy(out + p->dst_offset + r * p->dst_stride, in + p->src_offset + r * p->src_stride, (size_t)p->row_bytes);
    }
}
