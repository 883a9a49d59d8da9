/* The definitions every ompqc kernel file shares: the namespace, the parameter blocks, the requantization and the
   weight formats. Their numbers are those of ompqc's reference interpreter, bit for bit (docs/SEMANTICS.md). */
#ifndef OMPQC_H
#define OMPQC_H

#include <stdint.h>
#include <string.h>

/* The prefix of every external name: a generated model defines it as its own name (so that several models link
   into one program); a kernel file compiled alone gets ompqc_. */
#ifndef OMPQC_NS
#define OMPQC_NS(name) ompqc_##name
#endif

#include "ompqc_params.h"

/* Inner loops: out of line (inlined into their callers' loops, their accumulators spill) and, with GCC, without the
   pre-allocation scheduler (it hoists loads until the accumulators spill). On RISC-V the register allocator also
   takes the function as one region: allocated loop by loop, the portable 3 x 4 dot product block spills a dozen
   values a pass (on Arm one region spills more elsewhere). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__riscv)
#define OMPQC_HOT __attribute__((noinline, optimize("no-schedule-insns", "ira-region=one")))
#elif defined(__GNUC__) && !defined(__clang__)
#define OMPQC_HOT __attribute__((noinline, optimize("no-schedule-insns")))
#else
#define OMPQC_HOT __attribute__((noinline))
#endif

/* Copy and fill loops that GCC must not turn back into C library calls (the embedded C libraries' small-footprint
   copies go a byte at a time). */
#if defined(__GNUC__) && !defined(__clang__)
#define OMPQC_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define OMPQC_NO_LIBCALL
#endif

/* A generic body, inlined into each width's copy so that the width is a constant there. */
#define OMPQC_INLINE static inline __attribute__((always_inline))

/* name##_w8, name##_w4 and name##_w2: out-of-line copies (with `attributes`) of the always-inline name##_at at each
   weight width, returning `type` (OMPQC_PER_WIDTH: void); OMPQC_AT_WIDTH(name, bits) is the copy for a constant
   `bits`. The compiler drops the unused ones. */
#define OMPQC_ARGS(...) __VA_ARGS__
#define OMPQC_COPY_AT(attributes, type, ret, name, params, args, bits) \
    attributes __attribute__((unused)) static type name##_w##bits params { ret name##_at(OMPQC_ARGS args, bits); }
#define OMPQC_COPIES(attributes, type, ret, name, params, args) \
    OMPQC_COPY_AT(attributes, type, ret, name, params, args, 8) \
    OMPQC_COPY_AT(attributes, type, ret, name, params, args, 4) \
    OMPQC_COPY_AT(attributes, type, ret, name, params, args, 2)
#define OMPQC_PER_WIDTH(attributes, name, params, args) OMPQC_COPIES(attributes, void, , name, params, args)
#define OMPQC_PER_WIDTH_RETURNING(attributes, type, name, params, args) \
    OMPQC_COPIES(attributes, type, return, name, params, args)
#define OMPQC_AT_WIDTH(name, bits) ((bits) == 8 ? name##_w8 : (bits) == 4 ? name##_w4 : name##_w2)

/* The weight widths each convolution and dense file defines its kernels for (name_w8, ...): a generated model
   defines the lists to the widths it runs; a file compiled alone defines every width. */
#define OMPQC_ALL_WIDTHS(X) X(8) X(4) X(2)

/* A file holding several kernels used independently (add and conv_add, say) defines them static and exports those
   its list names (OMPQC_ADD_KERNELS(OMPQC_EXPORT)), through its OMPQC_EXPORT_name macros; a generated model
   defines the list to the kernels it runs, a file compiled alone exports them all. */
#define OMPQC_EXPORT(kernel) OMPQC_EXPORT_##kernel

/* gemmlowp's SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT: x * m0 * 2^(shift - 31), rounded. m0 is 0
   or in [2^30, 2^31), so the product never saturates, and adding 2^30 before the arithmetic shift rounds exactly as
   gemmlowp's sign-dependent nudge with a truncating division does. */
static inline int32_t requantize(int32_t x, int32_t m0, int32_t shift) {
    const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const int64_t ab = (int64_t)(int32_t)((uint32_t)x << left) * m0;
    const int32_t high = (int32_t)((ab + ((int64_t)1 << 30)) >> 31);
    const int32_t mask = (int32_t)((1u << right) - 1u), remainder = high & mask, threshold = (mask >> 1) + (high < 0);
    return (high >> right) + (remainder > threshold);
}

/* Kernel indices [r[0], r[1]) whose input o * stride + k * dil - pad lies in [0, len). */
static inline void taps(int32_t o, int32_t stride, int32_t dil, int32_t pad, int32_t k, int32_t len, int32_t *r) {
    const int32_t base = o * stride - pad;
    r[0] = 0;
    r[1] = k;
    while (r[0] < r[1] && base + r[0] * dil < 0) {
        r[0]++;
    }
    while (r[1] > r[0] && base + (r[1] - 1) * dil >= len) {
        r[1]--;
    }
}

static inline int8_t clamp(int32_t v, int32_t lo, int32_t hi) {
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* The `bits`-wide field at bit `lo` of `w`, sign-extended (one signed bit-field extract where the ISA has it). */
#define OMPQC_FIELD(w, lo, bits) ((int32_t)((uint32_t)(w) << (32 - (lo) - (bits))) >> (32 - (bits)))

/* Cores that load unaligned words in one instruction (ARMv7-M and later) read a sub-byte row a word at a time and
   extract each field from the word; the others read it a byte at a time. */
#ifdef __ARM_FEATURE_UNALIGNED
#define OMPQC_WORD_FIELDS 1
#else
#define OMPQC_WORD_FIELDS 0
#endif

/* Field f of byte i of a row's word at r, sign-extended: at 8 bits byte i itself; below, from the word w loaded
   from r where OMPQC_WORD_FIELDS, else from byte i loaded sign-extended (its top field is then one arithmetic
   shift). */
OMPQC_INLINE int32_t field_of(const uint8_t *r, uint32_t w, uint32_t i, uint32_t f, int bits) {
    const uint32_t at = f * (uint32_t)bits;
    const int32_t b = ((const int8_t *)r)[i];
    if (bits == 8) {
        return b;
    }
    if (OMPQC_WORD_FIELDS) {
        return OMPQC_FIELD(w, 8 * i + at, bits);
    }
    return at + (uint32_t)bits == 8 ? b >> (8 - bits) : OMPQC_FIELD(b, at, bits);
}

/* Weight j of a row of `bits`-wide weights: at 8 bits one int8 per byte (a single sign-extending load), else field
   j at bit bits * j, low bits first (j mod 8 / bits selects the field of byte j * bits / 8), sign-extended. */
OMPQC_INLINE int32_t weight(const uint8_t *row, int32_t j, int bits) {
    const int32_t log_per_byte = bits == 4 ? 1 : 2, log_bits = bits == 4 ? 2 : 1;
    const uint32_t mask = (1u << bits) - 1u, sign = 1u << (bits - 1);
    if (bits == 8) {
        return (int32_t)((const int8_t *)row)[j];
    }
    return (int32_t)((((uint32_t)row[j >> log_per_byte] >> (((uint32_t)j & ((1u << log_per_byte) - 1u)) << log_bits)) &
                      mask) ^ sign) - (int32_t)sign;
}

#endif
