/* Elementwise functions as 256-entry tables (indexed by the input + 128). */
#include "ompqc.h"

void OMPQC_NS(table)(const int8_t *table, const int8_t *in, int8_t *out, int32_t n) {
    int32_t i;
    for (i = 0; i < n; i++) {
        out[i] = table[(int32_t)in[i] + 128];
    }
}
