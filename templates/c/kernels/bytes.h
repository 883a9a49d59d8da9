/* The byte copy and fill of the column gather (columns.h), a word at a time where the words may move: where the
   including variant defines OMPQC_UNALIGNED_WORDS (cores that load and store unaligned words in one instruction),
   always; else where both ends are word-aligned (cores without unaligned access fault on the others). The rest goes
   a byte at a time. */
#ifndef OMPQC_BYTES_H
#define OMPQC_BYTES_H

#include "ompqc.h"

#ifdef OMPQC_UNALIGNED_WORDS
#define OMPQC_WORDS_MOVE(dst, src) 1
#define OMPQC_MOVE_WORD(dst, src) memcpy(dst, src, 4)
#else
#define OMPQC_WORDS_MOVE(dst, src) ((((uintptr_t)(dst) | (uintptr_t)(src)) & 3u) == 0)
#define OMPQC_MOVE_WORD(dst, src) memcpy(__builtin_assume_aligned(dst, 4), __builtin_assume_aligned(src, 4), 4)
#endif

/* Inline where the caller has the same options (columns()): a first layer's window rows are a few words (3 x 3 x 3:
   9 bytes), where a call costs as much as the copy. */
OMPQC_NO_LIBCALL static inline void copy_bytes(int8_t *dst, const int8_t *src, int32_t n) {
    if (OMPQC_WORDS_MOVE(dst, src)) {
        /* Unrolled: the loop's test and increments are most of a word's instructions. */
#pragma GCC unroll 4
        for (; n >= 4; n -= 4, dst += 4, src += 4) {
            OMPQC_MOVE_WORD(dst, src);
        }
    }
    for (; n > 0; n--) {
        *dst++ = *src++;
    }
}

OMPQC_NO_LIBCALL static void fill_bytes(int8_t *dst, int32_t v, int32_t n) {
    const uint32_t w = ((uint32_t)v & 0xFFu) * 0x01010101u;
    if (OMPQC_WORDS_MOVE(dst, &w)) {
        for (; n >= 4; n -= 4, dst += 4) {
            OMPQC_MOVE_WORD(dst, &w);
        }
    }
    for (; n > 0; n--) {
        *dst++ = (int8_t)v;
    }
}

#endif
