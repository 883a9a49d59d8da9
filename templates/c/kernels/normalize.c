/* Layer and instance normalization in integers (the interpreter's definition, docs/SEMANTICS.md): per block of `len`
   elements `inner` apart, with v = q - in_zp, S1 = sum v and S2 = sum v^2 over the block's n elements,
   x_hat = (n v - S1) / sqrt(n S2 - S1^2 + epsilon) to 12 fraction bits, then out = out_zp + round((x_hat gain +
   offset 2^12) / 2^28), gain and offset per channel or per element of the block. */
#include "ompqc.h"

/* round(a / b) for b > 0, halves away from zero. */
static int64_t div_round(int64_t a, int64_t b) {
    return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

/* The exact integer square root of x. */
static uint32_t isqrt(uint32_t x) {
    uint32_t root = 0, bit = (uint32_t)1 << 30;
    while (bit > x) {
        bit >>= 2;
    }
    while (bit != 0) {
        if (x >= root + bit) {
            x -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return root;
}

/* round(d * 2^12 / sqrt(x)): x shifted by an even count into [2^28, 2^30), its integer square root, the shift's
   half applied to it; 0 when x is 0. */
static int64_t normalized(int64_t d, int64_t x) {
    int32_t e = 0;
    int64_t r;
    if (x <= 0) {
        return 0;
    }
    while (x >= ((int64_t)1 << 30)) {
        x >>= 2;
        e++;
    }
    while (x < ((int64_t)1 << 28)) {
        x <<= 2;
        e--;
    }
    r = isqrt((uint32_t)x);
    return e >= 0 ? div_round(d * 4096, r << e) : div_round(d * ((int64_t)4096 << -e), r);
}

void OMPQC_NS(normalize)(const OMPQC_NS(normalize_t) *p, const int8_t *in, int8_t *out, const int32_t *gains,
                         const int32_t *offsets) {
    const int32_t outer = p->outer, len = p->len, inner = p->inner;
    const int64_t n = len, epsilon = ((int64_t)p->eps_hi << 30) + p->eps_lo;
    int32_t o, j, i;
    for (o = 0; o < outer; o++) {
        for (j = 0; j < inner; j++) {
            const int8_t *x = in + o * len * inner + j;
            int8_t *y = out + o * len * inner + j;
            int64_t s1 = 0, s2 = 0, var;
            for (i = 0; i < len; i++) {
                const int64_t v = x[i * inner] - p->in_zp;
                s1 += v;
                s2 += v * v;
            }
            var = n * s2 - s1 * s1 + epsilon;
            for (i = 0; i < len; i++) {
                const int32_t k = p->per_channel ? j : i;
                const int64_t z = normalized(n * (x[i * inner] - p->in_zp) - s1, var);
                const int64_t acc = z * gains[k] + (int64_t)offsets[k] * 4096;
                const int64_t q = p->out_zp + ((acc + ((int64_t)1 << 27)) >> 28);
                y[i * inner] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
            }
        }
    }
}
