/* Generated from src/emit/params.rs (a unit test checks it; OMPQC_BLESS=1 cargo test rewrites it): the
   parameter block of every kernel, named through OMPQC_NS. A model's NAME_kernels.h declares the same. */
#ifndef OMPQC_PARAMS_H
#define OMPQC_PARAMS_H

#include <stdint.h>

/* Convolution of any group count; weights one packed row per output channel, ordered [ky][kx][ci]; short_requant is 1 when the kernels may requantize in the short form, 2 when they may in its form with left shifts (docs/SEMANTICS.md). */
typedef struct {
    int32_t in_h;
    int32_t in_w;
    int32_t in_c;
    int32_t out_h;
    int32_t out_w;
    int32_t out_c;
    int32_t groups;
    int32_t k_h;
    int32_t k_w;
    int32_t stride_h;
    int32_t stride_w;
    int32_t dil_h;
    int32_t dil_w;
    int32_t pad_t;
    int32_t pad_l;
    int32_t in_zp;
    int32_t out_zp;
    int32_t act_min;
    int32_t act_max;
    int32_t row_bytes;
    int32_t short_requant;
    const uint8_t *weights;
    const int32_t *bias;
    const int32_t *mult;
    const int8_t *shift;
} OMPQC_NS(conv_t);

/* Fully connected layer: n_out rows of k packed weights. */
typedef struct {
    int32_t k;
    int32_t n_out;
    int32_t in_zp;
    int32_t out_zp;
    int32_t act_min;
    int32_t act_max;
    int32_t row_bytes;
    const uint8_t *weights;
    const int32_t *bias;
    const int32_t *mult;
    const int8_t *shift;
} OMPQC_NS(dense_t);

/* Elementwise add or multiply broadcast over 4 storage dimensions (stride 0 = broadcast). */
typedef struct {
    int32_t dims[4];
    int32_t a_strides[4];
    int32_t b_strides[4];
    int32_t a_zp;
    int32_t b_zp;
    int32_t out_zp;
    int32_t act_min;
    int32_t act_max;
    int32_t left_shift;
    int32_t a_mult;
    int32_t a_shift;
    int32_t b_mult;
    int32_t b_shift;
    int32_t out_mult;
    int32_t out_shift;
} OMPQC_NS(binary_t);

/* Max or average pooling over a window (padding is not read; count_include_pad counts it). */
typedef struct {
    int32_t in_h;
    int32_t in_w;
    int32_t c;
    int32_t out_h;
    int32_t out_w;
    int32_t k_h;
    int32_t k_w;
    int32_t stride_h;
    int32_t stride_w;
    int32_t dil_h;
    int32_t dil_w;
    int32_t pad_t;
    int32_t pad_l;
    int32_t pad_b;
    int32_t pad_r;
    int32_t count_include_pad;
    int32_t in_zp;
} OMPQC_NS(pool_t);

/* Average of every pixel of each channel. */
typedef struct {
    int32_t pixels;
    int32_t c;
} OMPQC_NS(global_pool_t);

/* Constant padding of a channels-last image: the input at (pad_t, pad_l) of an out_h x out_w image of value. */
typedef struct {
    int32_t in_h;
    int32_t in_w;
    int32_t c;
    int32_t out_h;
    int32_t out_w;
    int32_t pad_t;
    int32_t pad_l;
    int32_t value;
} OMPQC_NS(pad_t);

/* One input of a concatenation: `outer` blocks of `block` bytes written at `offset` of every `out_block`, requantized when `requant` is 1. */
typedef struct {
    int32_t offset;
    int32_t outer;
    int32_t block;
    int32_t out_block;
    int32_t requant;
    int32_t mult;
    int32_t shift;
    int32_t in_zp;
    int32_t out_zp;
} OMPQC_NS(concat_t);

/* A rows x cols matrix written transposed. */
typedef struct {
    int32_t rows;
    int32_t cols;
} OMPQC_NS(transpose_t);

/* Softmax over `len` elements `inner` apart, `outer` times. */
typedef struct {
    int32_t outer;
    int32_t len;
    int32_t inner;
} OMPQC_NS(softmax_t);

/* Log-softmax over `len` elements `inner` apart, `outer` times: `step` (16 s_in 2^16) per input step below the maximum, `ln2` (16 * 2^16 ln 2) per power of two of the sum of exponentials. */
typedef struct {
    int32_t outer;
    int32_t len;
    int32_t inner;
    int32_t step;
    int32_t ln2;
} OMPQC_NS(log_softmax_t);

/* Resampling of an in_h x in_w x c tensor to out_h x out_w through `taps_y` and `taps_x` taps per output row and column (position and Q10 weight pairs), around zero point `zp`. */
typedef struct {
    int32_t in_h;
    int32_t in_w;
    int32_t c;
    int32_t out_h;
    int32_t out_w;
    int32_t taps_y;
    int32_t taps_x;
    int32_t zp;
} OMPQC_NS(resize_t);

/* A strided window of a tensor: output element (i0, i1, i2, i3) of `dims` (row-major) reads the input at offset + the sum of i_a * strides[a] (strides may be negative). */
typedef struct {
    int32_t dims[4];
    int32_t offset;
    int32_t strides[4];
} OMPQC_NS(slice_t);

/* Layer or instance normalization of `outer` blocks of `len` elements `inner` apart: gains and offsets per channel (`per_channel` 1) or per element of the block; epsilon = eps_hi * 2^30 + eps_lo. */
typedef struct {
    int32_t outer;
    int32_t len;
    int32_t inner;
    int32_t per_channel;
    int32_t in_zp;
    int32_t out_zp;
    int32_t eps_hi;
    int32_t eps_lo;
} OMPQC_NS(normalize_t);

/* A reduction of `outer` blocks of `len` elements `inner` apart to `inner` outputs each: `kind` 0 a mean (rounded half away from zero), 1 the maximum, 2 the minimum. */
typedef struct {
    int32_t outer;
    int32_t len;
    int32_t inner;
    int32_t kind;
} OMPQC_NS(reduce_t);

/* A window of rows copied between a tensor and its tile (patch-based execution): `rows` rows of `row_bytes`, read from `src_offset` every `src_stride` bytes and written from `dst_offset` every `dst_stride` bytes. */
typedef struct {
    int32_t rows;
    int32_t row_bytes;
    int32_t src_offset;
    int32_t src_stride;
    int32_t dst_offset;
    int32_t dst_stride;
} OMPQC_NS(window_t);

/* A convolution kernel, as the fused add takes it. */
typedef void (*OMPQC_NS(conv_fn))(const OMPQC_NS(conv_t) *p, const int8_t *in, int8_t *out, uint8_t *scratch);

#endif
