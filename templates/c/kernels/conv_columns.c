/* One-group convolutions, portable C (the reference among the C kernels): columns of int8, each dot product block
   two or three columns against two or four weight rows (scalar_dot.h). */
#include "ompqc.h"

typedef int8_t col_t;

#include "bytes.h"
#include "columns.h"
#include "scalar_dot.h"

/* The column of output pixel `px`: int8, as gathered. */
OMPQC_INLINE const col_t *column(const OMPQC_NS(conv_t) *p, const int8_t *in, int32_t px, uint8_t *col, int in_place,
                                 int bits) {
    (void)bits;
    return int8_column(p, in, px, col, in_place);
}

#define OMPQC_COLUMN_PAIR
#include "conv_pair.h"
#include "conv_columns.h"
