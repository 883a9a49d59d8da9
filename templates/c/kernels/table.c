/* Elementwise functions as 256-entry tables (indexed by the input + 128). */
#include "ompqc.h"

void OMPQC_NS(table)(const int8_t *table, const int8_t *in, int8_t *out, int32_t n) {
    /* Indexed by the signed input from the table's middle: one load each. */
    const int8_t *middle = table + 128;
    int32_t i;
    /* Four elements a pass: the loop's own instructions are most of one element's. */
#pragma GCC unroll 4
    for (i = 0; i < n; i++) {
        out[i] = middle[in[i]];
    }
}
