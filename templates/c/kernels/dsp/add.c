/* Elementwise adds on the Arm DSP extension: add.h's scalar add, each rounded high multiply one SMMLAR that also adds
   the next shift's rounding half, and a clamp to the int8 range one SSAT. */
#include "../binary.h"
#include "../ompqc.h"
#include "dsp.h"

static inline int8_t clamp_full(int32_t v) {
    return (int8_t)__ssat(v, 8);
}

#define OMPQC_SCALAR_ADD
#include "../add.h"
