/* The byte copy and fill of the column gather (columns.h), by the C library: the portable and DSP variants. */
#ifndef OMPQC_BYTES_H
#define OMPQC_BYTES_H

#include "ompqc.h"

static void copy_bytes(int8_t *dst, const int8_t *src, int32_t n) {
    memcpy(dst, src, (size_t)n);
}

static void fill_bytes(int8_t *dst, int32_t v, int32_t n) {
    memset(dst, v, (size_t)n);
}

#endif
