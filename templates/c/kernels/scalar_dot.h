/* The portable variant's blocks of scalar dot products: columns of two pixels (or three) against OMPQC_DOT_ROWS weight rows, each made by dot_block.h. The including file defines the column element
   col_t. */
#ifndef OMPQC_SCALAR_DOT_H
#define OMPQC_SCALAR_DOT_H

#include "ompqc.h"

/* Weight rows (output channels) a block takes, and OMPQC_TRIPLES_AT(bits), whether a layer at that width takes
   three pixels a block (their int8 columns fit the scratch the plan gives two columns laid out for int16).
   RISC-V's 31 registers hold a block of 3 pixels x 4 rows with their pointers. Arm's 13 hold 2x2 in C (a wider
   block spills); on ARMv7-M (the portable file runs on those without the DSP extension: cortex-m3) an assembly loop
   takes 3 x 2 at 8 bits (dot_triple_arm). OMPQC_EACH_ROW_OF(X, p) is X(p, c) for each row c. */
#ifdef __riscv
#define OMPQC_DOT_ROWS 4
#define OMPQC_EACH_ROW_OF(X, p) X(p, 0) X(p, 1) X(p, 2) X(p, 3)
#define OMPQC_TRIPLES_AT(bits) 1
#else
#define OMPQC_DOT_ROWS 2
#define OMPQC_EACH_ROW_OF(X, p) X(p, 0) X(p, 1)
#if defined(__thumb2__) && defined(__OPTIMIZE__) && defined(__GNUC__) && !defined(__clang__)
/* Optimized builds only: the loop takes all 14 registers, and without optimization r7 is the frame pointer. */
#define OMPQC_TRIPLES_AT(bits) ((bits) == 8)
#define OMPQC_TRIPLE_ASM
#endif
#endif

#define OMPQC_BLOCK_NAME dot_pair
#define OMPQC_BLOCK_PIXELS(X, c) X(0, c) X(1, c)
#include "dot_block.h"

#if defined(OMPQC_TRIPLES_AT) && !defined(OMPQC_TRIPLE_ASM)
#define OMPQC_BLOCK_NAME dot_triple
#define OMPQC_BLOCK_PIXELS(X, c) X(0, c) X(1, c) X(2, c)
#include "dot_block.h"
#endif

#ifdef OMPQC_TRIPLE_ASM
/* One input of dot_triple_arm's loop: both rows' weights, then each pixel's input against them. */
#define OMPQC_TRIPLE_STEP \
    "ldrsb %[u0], [%[r0]], #1\n\t" \
    "ldrsb %[u1], [%[r1]], #1\n\t" \
    "ldrsb %[v], [%[x0]], #1\n\t" \
    "mla %[s00], %[v], %[u0], %[s00]\n\t" \
    "mla %[s01], %[v], %[u1], %[s01]\n\t" \
    "ldrsb %[v], [%[x1]], #1\n\t" \
    "mla %[s10], %[v], %[u0], %[s10]\n\t" \
    "mla %[s11], %[v], %[u1], %[s11]\n\t" \
    "ldrsb %[v], [%[x2]], #1\n\t" \
    "mla %[s20], %[v], %[u0], %[s20]\n\t" \
    "mla %[s21], %[v], %[u1], %[s21]\n\t"

/* dot_triple at 8 bits on ARMv7-M: eight inputs a pass in assembly, 11 instructions an input for 6 MACs (GCC's C
   block of 3 x 2 spills), its 14 values in all 14 registers and the loop's end on the stack; the rest in C. */
OMPQC_HOT static void dot_triple_arm(const col_t *const *cols, const uint8_t *const *rows, uint32_t k, int32_t *acc) {
    const int8_t *x0 = cols[0], *x1 = cols[1], *x2 = cols[2];
    const int8_t *r0 = (const int8_t *)rows[0], *r1 = (const int8_t *)rows[1];
    const int8_t *const end = x0 + (k & ~7u);
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0;
    uint32_t t;
    if (x0 != end) {
        int32_t u0, u1, v;
        __asm__ volatile("1:\n\t" OMPQC_TRIPLE_STEP OMPQC_TRIPLE_STEP OMPQC_TRIPLE_STEP OMPQC_TRIPLE_STEP
                             OMPQC_TRIPLE_STEP OMPQC_TRIPLE_STEP OMPQC_TRIPLE_STEP OMPQC_TRIPLE_STEP
                         "ldr %[v], %[end]\n\t"
                         "cmp %[x0], %[v]\n\t"
                         "bne 1b\n\t"
                         : [s00] "+r"(s00), [s01] "+r"(s01), [s10] "+r"(s10), [s11] "+r"(s11), [s20] "+r"(s20),
                           [s21] "+r"(s21), [x0] "+r"(x0), [x1] "+r"(x1), [x2] "+r"(x2), [r0] "+r"(r0),
                           [r1] "+r"(r1), [u0] "=&r"(u0), [u1] "=&r"(u1), [v] "=&r"(v)
                         : [end] "m"(end)
                         : "cc", "memory");
    }
    for (t = 0; t < (k & 7u); t++) {
        const int32_t u0 = r0[t], u1 = r1[t];
        s00 += x0[t] * u0;
        s01 += x0[t] * u1;
        s10 += x1[t] * u0;
        s11 += x1[t] * u1;
        s20 += x2[t] * u0;
        s21 += x2[t] * u1;
    }
    acc[0] = s00;
    acc[1] = s01;
    acc[2] = s10;
    acc[3] = s11;
    acc[4] = s20;
    acc[5] = s21;
}
#endif

#endif
