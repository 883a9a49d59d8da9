/* A block of scalar dot products, included once per block shape (scalar_dot.h) after defining OMPQC_BLOCK_NAME
   and OMPQC_BLOCK_PIXELS(X, c), X(p, c) for each pixel p; it defines NAME_w8, _w4 and _w2 (OMPQC_PER_WIDTH):
   acc[p * R + c] = column cols[p] . row rows[c] over k inputs, R = OMPQC_DOT_ROWS. Rows are packed as
   docs/SEMANTICS.md says: each byte of a 32-bit word holds field f of weights f, 8 / bits + f, ..., so word n's byte
   i field f weighs input 32 / bits * n + i * 8 / bits + f. The block's sums are named scalars, s_p_c: GCC keeps an
   array of them in memory through the passes that order the loop's loads, and the loop spills. No include guard:
   each inclusion is another shape. */
#include "ompqc.h"

#define OMPQC_BLOCK_AT_(name) name##_at
#define OMPQC_BLOCK_AT(name) OMPQC_BLOCK_AT_(name)

OMPQC_INLINE void OMPQC_BLOCK_AT(OMPQC_BLOCK_NAME)(const col_t *const *cols, const uint8_t *const *rows, uint32_t k,
                                                   int32_t *acc, int bits) {
    const uint32_t group = 32u / (uint32_t)bits, per = 8u / (uint32_t)bits;
    uint32_t n, f, i, t;
#define OMPQC_PIXEL_START(p, c) const col_t *x##p = cols[p];
#define OMPQC_SUM_START(p, c) int32_t s##p##_##c = 0;
#define OMPQC_PIXEL_SUMS_START(p, c) OMPQC_EACH_ROW_OF(OMPQC_SUM_START, p)
#define OMPQC_ROW_START(p, c) const uint8_t *r##c = rows[c];
    OMPQC_BLOCK_PIXELS(OMPQC_PIXEL_START, 0)
    OMPQC_BLOCK_PIXELS(OMPQC_PIXEL_SUMS_START, 0)
    OMPQC_EACH_ROW_OF(OMPQC_ROW_START, 0)
    /* Two words a pass: the pointers' increments are a fifth of a word's instructions. */
#pragma GCC unroll 2
    for (n = k / group; n > 0; n--) {
        /* Below 8 bits, cores that load unaligned words in one instruction take each row's word at once and
           extract its fields from it; the others a byte at a time. Each byte's fields in turn: the pixels' inputs,
           then each row's weight against them. */
#define OMPQC_ROW_WORD(p, c) \
    uint32_t w##c = 0; \
    if (bits < 8 && OMPQC_WORD_FIELDS) { \
        memcpy(&w##c, r##c, 4); \
    }
        OMPQC_EACH_ROW_OF(OMPQC_ROW_WORD, 0)
#pragma GCC unroll 4
        for (i = 0; i < 4; i++) {
#pragma GCC unroll 4
            for (f = 0; f < per; f++) {
#define OMPQC_PIXEL_INPUT(p, c) const int32_t v##p = x##p[i * per + f];
#define OMPQC_MAC(p, c) s##p##_##c += v##p * u;
#define OMPQC_ROW_MACS(p, c) \
    { \
        const int32_t u = field_of(r##c, w##c, i, f, bits); \
        OMPQC_BLOCK_PIXELS(OMPQC_MAC, c) \
    }
                OMPQC_BLOCK_PIXELS(OMPQC_PIXEL_INPUT, 0)
                OMPQC_EACH_ROW_OF(OMPQC_ROW_MACS, 0)
            }
        }
#define OMPQC_ROW_NEXT(p, c) r##c += 4;
#define OMPQC_PIXEL_NEXT(p, c) x##p += group;
        OMPQC_EACH_ROW_OF(OMPQC_ROW_NEXT, 0)
        OMPQC_BLOCK_PIXELS(OMPQC_PIXEL_NEXT, 0)
    }
    /* The inputs after the last whole weight word, each weight read on its own. */
    for (t = 0; t < k % group; t++) {
#define OMPQC_PIXEL_REST(p, c) const int32_t v##p = x##p[t];
#define OMPQC_ROW_REST(p, c) \
    { \
        const int32_t u = weight(r##c, (int32_t)t, bits); \
        OMPQC_BLOCK_PIXELS(OMPQC_MAC, c) \
    }
        OMPQC_BLOCK_PIXELS(OMPQC_PIXEL_REST, 0)
        OMPQC_EACH_ROW_OF(OMPQC_ROW_REST, 0)
    }
#define OMPQC_SUM_END(p, c) acc[p * OMPQC_DOT_ROWS + c] = s##p##_##c;
#define OMPQC_PIXEL_END(p, c) OMPQC_EACH_ROW_OF(OMPQC_SUM_END, p)
    OMPQC_BLOCK_PIXELS(OMPQC_PIXEL_END, 0)
#undef OMPQC_PIXEL_START
#undef OMPQC_SUM_START
#undef OMPQC_PIXEL_SUMS_START
#undef OMPQC_ROW_START
#undef OMPQC_ROW_WORD
#undef OMPQC_PIXEL_INPUT
#undef OMPQC_MAC
#undef OMPQC_ROW_MACS
#undef OMPQC_ROW_NEXT
#undef OMPQC_PIXEL_NEXT
#undef OMPQC_PIXEL_REST
#undef OMPQC_ROW_REST
#undef OMPQC_SUM_END
#undef OMPQC_PIXEL_END
}

OMPQC_PER_WIDTH(OMPQC_HOT, OMPQC_BLOCK_NAME,
                (const col_t *const *cols, const uint8_t *const *rows, uint32_t k, int32_t *acc),
                (cols, rows, k, acc))

#undef OMPQC_BLOCK_AT
#undef OMPQC_BLOCK_AT_
#undef OMPQC_BLOCK_NAME
#undef OMPQC_BLOCK_PIXELS
