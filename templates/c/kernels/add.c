/* Elementwise adds, portable C (the reference among the C kernels): add.h's scalar add. */
#include "binary.h"
#include "ompqc.h"

/* acc + round(t * m / 2^32), rounding half up: the accumulation inside the 64-bit sum (one SMLAL where the ISA has
   it). */
static inline int32_t high_mul_acc(int32_t t, int32_t m, int32_t acc) {
    return (int32_t)(((int64_t)t * m + (int64_t)((uint64_t)(uint32_t)acc << 32) + ((int64_t)1 << 31)) >> 32);
}

static inline int8_t clamp_full(int32_t v) {
    return clamp(v, -128, 127);
}

#define OMPQC_SCALAR_ADD
#include "add.h"
