/* A matrix written transposed. */
#include "ompqc.h"

void OMPQC_NS(transpose)(const OMPQC_NS(transpose_t) *p, const int8_t *in, int8_t *out) {
    const int32_t rows = p->rows, cols = p->cols;
    int32_t r, c;
    for (r = 0; r < rows; r++) {
        for (c = 0; c < cols; c++) {
            out[c * rows + r] = in[r * cols + c];
        }
    }
}
