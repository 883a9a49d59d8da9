/* The byte copy and fill of the column gather (columns.h) on the portable path: a word at a time where both ends
   are word-aligned (cores without unaligned access fault on the others), else a byte at a time. */
#ifndef OMPQC_BYTES_H
#define OMPQC_BYTES_H

#include "ompqc.h"

OMPQC_NO_LIBCALL static void copy_bytes(int8_t *dst, const int8_t *src, int32_t n) {
    if ((((uintptr_t)dst | (uintptr_t)src) & 3u) == 0) {
        for (; n >= 4; n -= 4, dst += 4, src += 4) {
            memcpy(__builtin_assume_aligned(dst, 4), __builtin_assume_aligned(src, 4), 4);
        }
    }
    for (; n > 0; n--) {
        *dst++ = *src++;
    }
}

OMPQC_NO_LIBCALL static void fill_bytes(int8_t *dst, int32_t v, int32_t n) {
    const uint32_t w = ((uint32_t)v & 0xFFu) * 0x01010101u;
    if (((uintptr_t)dst & 3u) == 0) {
        for (; n >= 4; n -= 4, dst += 4) {
            memcpy(__builtin_assume_aligned(dst, 4), &w, 4);
        }
    }
    for (; n > 0; n--) {
        *dst++ = (int8_t)v;
    }
}

#endif
