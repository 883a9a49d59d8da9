/* Log-softmax with output scale 16/256 and zero point 127: 127 - round((d step + ln_sum) / 2^16) for d = max - x,
   where ln_sum (ln of the sum of exp_table[d] over 2^16, in output steps times 2^16) comes from the sum's leading
   bit (times ln2) and log_table at the sum's next 8 bits. */
#include "ompqc.h"

void OMPQC_NS(log_softmax)(const OMPQC_NS(log_softmax_t) *p, const int8_t *in, int8_t *out,
                           const int32_t *exp_table, const int32_t *log_table) {
    const int32_t outer = p->outer, len = p->len, inner = p->inner;
    int32_t o, j, i;
    for (o = 0; o < outer; o++) {
        for (j = 0; j < inner; j++) {
            const int8_t *x = in + o * len * inner + j;
            int8_t *y = out + o * len * inner + j;
            int32_t max = -128, e = 0;
            int64_t sum = 0, ln_sum;
            uint64_t fraction;
            for (i = 0; i < len; i++) {
                max = x[i * inner] > max ? x[i * inner] : max;
            }
            for (i = 0; i < len; i++) {
                sum += exp_table[max - x[i * inner]];
            }
            while ((sum >> (e + 1)) != 0) {
                e++;
            }
            fraction = (((uint64_t)sum << (63 - e)) >> 55) & 255;
            ln_sum = (int64_t)(e - 16) * p->ln2 + log_table[fraction];
            for (i = 0; i < len; i++) {
                const int64_t v = (int64_t)(max - x[i * inner]) * p->step + ln_sum;
                y[i * inner] = clamp((int32_t)(127 - ((v + (1 << 15)) >> 16)), -128, 127);
            }
        }
    }
}
