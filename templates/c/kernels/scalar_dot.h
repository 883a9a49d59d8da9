/* The portable variant's blocks of scalar dot products: columns of two pixels (on RISC-V three) against OMPQC_DOT_ROWS weight rows, each made by dot_block.h. The including file defines the column element
   col_t. */
#ifndef OMPQC_SCALAR_DOT_H
#define OMPQC_SCALAR_DOT_H

#include "ompqc.h"

/* Weight rows (output channels) a block takes: RISC-V's 31 registers hold a block of 3 pixels x 4 rows with their
   pointers; Arm's 13 hold 2x2 (a wider block spills). OMPQC_EACH_ROW_OF(X, p) is X(p, c) for each row c.
   OMPQC_TRIPLES: three pixels a block (their int8 columns fit the scratch the plan gives two columns laid out for
   int16). */
#ifdef __riscv
#define OMPQC_DOT_ROWS 4
#define OMPQC_EACH_ROW_OF(X, p) X(p, 0) X(p, 1) X(p, 2) X(p, 3)
#define OMPQC_TRIPLES
#else
#define OMPQC_DOT_ROWS 2
#define OMPQC_EACH_ROW_OF(X, p) X(p, 0) X(p, 1)
#endif

#define OMPQC_BLOCK_NAME dot_pair
#define OMPQC_BLOCK_PIXELS(X, c) X(0, c) X(1, c)
#include "dot_block.h"

#ifdef OMPQC_TRIPLES
#define OMPQC_BLOCK_NAME dot_triple
#define OMPQC_BLOCK_PIXELS(X, c) X(0, c) X(1, c) X(2, c)
#include "dot_block.h"
#endif

#endif
