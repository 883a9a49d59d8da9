/* One input of a concatenation, requantized to the output's scale when they differ. */
#include "ompqc.h"

void OMPQC_NS(concat_part)(const OMPQC_NS(concat_t) *p, const int8_t *in, int8_t *out) {
    const int32_t block = p->block, out_block = p->out_block, mult = p->mult, shift = p->shift;
    const int32_t in_zp = p->in_zp, out_zp = p->out_zp;
    int32_t o, i;
    out += p->offset;
    for (o = 0; o < p->outer; o++) {
        if (!p->requant) {
            memcpy(out + o * out_block, in + o * block, (size_t)block);
            continue;
        }
        for (i = 0; i < block; i++) {
            out[o * out_block + i] = clamp(out_zp + requantize((int32_t)in[o * block + i] - in_zp, mult, shift), -128, 127);
        }
    }
}
