/* Resampling (Resize, Upsample) through per-axis tap tables: for output row oy, taps_y pairs (input row, Q10
   weight) at ty[2 * (oy * taps_y + t)], the same for columns in tx. Each output is the zero point plus the Q20 sum of
   weighted inputs less the zero point, rounded half up: the interpreter's definition, bit for bit. */
#include "ompqc.h"

void OMPQC_NS(resize)(const OMPQC_NS(resize_t) *p, const int16_t *ty, const int16_t *tx, const int8_t *in,
                      int8_t *out) {
    const int32_t in_w = p->in_w, c = p->c, taps_y = p->taps_y, taps_x = p->taps_x, zp = p->zp;
    int32_t oy, ox, ch, i, j;
    for (oy = 0; oy < p->out_h; oy++) {
        const int16_t *row_taps = ty + 2 * oy * taps_y;
        for (ox = 0; ox < p->out_w; ox++) {
            const int16_t *col_taps = tx + 2 * ox * taps_x;
            int8_t *y = out + (oy * p->out_w + ox) * c;
            for (ch = 0; ch < c; ch++) {
                int32_t acc = 0;
                for (i = 0; i < taps_y; i++) {
                    const int8_t *row = in + row_taps[2 * i] * in_w * c + ch;
                    int32_t sum = 0;
                    for (j = 0; j < taps_x; j++) {
                        sum += col_taps[2 * j + 1] * (row[col_taps[2 * j] * c] - zp);
                    }
                    acc += row_taps[2 * i + 1] * sum;
                }
                y[ch] = (int8_t)clamp(zp + ((acc + (1 << 19)) >> 20), -128, 127);
            }
        }
    }
}
