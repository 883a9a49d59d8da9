/* Elementwise adds, portable C (the reference among the C kernels): add.h's scalar add. */
#include "binary.h"
#include "ompqc.h"
#include "short_requant.h"

static inline int8_t clamp_full(int32_t v) {
    return clamp(v, -128, 127);
}

#define OMPQC_SCALAR_ADD
#include "add.h"
