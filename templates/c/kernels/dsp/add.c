/* Elementwise adds on the Arm DSP extension: add.h's scalar add, each rounded high multiply one SMMLAR that also adds
   the next shift's rounding half, and a clamp to the int8 range one SSAT. */
#include "../binary.h"
#include "../ompqc.h"
#include "dsp.h"

static inline int32_t high_mul_acc(int32_t t, int32_t m, int32_t acc) {
    int32_t r;
    __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(t), "r"(m), "r"(acc));
    return r;
}

static inline int8_t clamp_full(int32_t v) {
    return (int8_t)__ssat(v, 8);
}

#define OMPQC_SCALAR_ADD
#include "../add.h"
