//! The integer IR: what the quantizer produces, the interpreter defines the numbers of, and the emitters lower.
//!
//! Every tensor is int8 with one (scale, zero point). Shapes are the float IR's logical shapes (NCHW); storage is
//! channels last (NHWC, or NLC for 1-D): see `Layout`. Weights are packed (docs/SEMANTICS.md) with rows in the
//! order the kernels read them: [kernel_y][kernel_x][input channel of the group].

use super::{row_major_strides, Pool, ReduceKind, TensorId, View, Window};
use crate::ir::fixed_point::Multiplier;
use crate::ir::pack::PackedWeights;

/// real = scale * (q - zero_point), q in [-128, 127].
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QParams {
    pub scale: f32,
    pub zero_point: i32,
}

impl QParams {
    pub fn quantize(&self, x: f32) -> i8 {
        ((x / self.scale).round() + self.zero_point as f32).clamp(-128.0, 127.0) as i8
    }

    pub fn dequantize(&self, q: i8) -> f32 {
        self.scale * (q as i32 - self.zero_point) as f32
    }
}

/// The output parameters every softmax gets (TFLite's convention).
pub const SOFTMAX_OUTPUT: QParams = QParams { scale: 1.0 / 256.0, zero_point: -128 };

/// The output parameters every log-softmax gets (TFLite's convention): [-16, 0] in steps of 1/16.
pub const LOG_SOFTMAX_OUTPUT: QParams = QParams { scale: 16.0 / 256.0, zero_point: 127 };

/// The parameters an op's integer kernel gives its output whatever the tensor's range: `input`, its input's, for
/// ops that move values without rescaling them (`Op::keeps_params`); TFLite's fixed ones for softmax and
/// log-softmax; `None` for ops whose output scale is free.
pub fn fixed_output_params(op: &super::Op, input: Option<QParams>) -> Option<QParams> {
    match op {
        super::Op::Softmax { .. } => Some(SOFTMAX_OUTPUT),
        super::Op::LogSoftmax { .. } => Some(LOG_SOFTMAX_OUTPUT),
        _ if op.keeps_params() => input,
        _ => None,
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub q: QParams,
}

impl QTensor {
    pub fn elems(&self) -> usize {
        self.shape.iter().product()
    }
}

/// Convolution (and per-channel affine, as a 1x1 depthwise convolution).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QConv {
    /// c_out rows of kernel_h * kernel_w * c_in / groups, ordered [ky][kx][ci].
    pub weights: PackedWeights,
    pub bias: Vec<i32>,
    /// Per output channel: s_in * s_w[c] / s_out.
    pub multipliers: Vec<Multiplier>,
    pub c_in: usize,
    pub c_out: usize,
    pub groups: usize,
    pub window: Window,
    pub act_min: i32,
    pub act_max: i32,
}

impl QConv {
    /// Whether it is a depthwise 3x3 convolution without dilation (one input and one output channel per group).
    pub fn is_depthwise_3x3(&self) -> bool {
        let w = &self.window;
        self.groups == self.c_in && self.groups == self.c_out && w.kernel == [3, 3] && w.dilations == [1, 1]
    }
}

/// Fully connected over the last axis of a [1, K] tensor.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QDense {
    /// n_out rows of k.
    pub weights: PackedWeights,
    pub bias: Vec<i32>,
    pub multipliers: Vec<Multiplier>,
    pub act_min: i32,
    pub act_max: i32,
}

/// TFLite's int8 ADD: both inputs scaled to a common fixed-point scale after a left shift, summed, requantized.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QAdd {
    pub left_shift: i32,
    pub input_multipliers: [Multiplier; 2],
    pub output_multiplier: Multiplier,
    pub act_min: i32,
    pub act_max: i32,
}

/// TFLite's int8 MUL: the product of the zero-point-corrected inputs, requantized.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QMul {
    pub output_multiplier: Multiplier,
    pub act_min: i32,
    pub act_max: i32,
}

/// 16 * 2^16 * ln 2: a log-softmax's logarithm per power of two of its sum, in its output's steps times 2^16.
pub const LOG_SOFTMAX_LN2: i32 = 726_817;

/// The fraction bits of a resampling weight.
pub const RESIZE_WEIGHT_BITS: u32 = 10;

/// One axis's resampling taps in integers: for output position o and tap t, `entries[2 (o taps + t)]` is the input
/// position and the next entry its weight in Q10.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QTaps {
    pub taps: usize,
    pub entries: Vec<i16>,
}

impl QTaps {
    pub fn out_len(&self) -> usize {
        self.entries.len() / (2 * self.taps)
    }

    /// Output position `o`'s (input position, weight) pairs.
    pub fn of(&self, o: usize) -> impl Iterator<Item = (usize, i32)> + '_ {
        self.entries[2 * o * self.taps..2 * (o + 1) * self.taps].chunks(2).map(|p| (p[0] as usize, p[1] as i32))
    }
}

/// Resampling with the input's parameters: out = zp + floor((sum_y w_y sum_x w_x (in - zp) + 2^19) / 2^20),
/// clamped to int8.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QResize {
    pub y: QTaps,
    pub x: QTaps,
}

/// Layer or instance normalization in integers (docs/SEMANTICS.md): per normalized block, with v = q - zp_in, the
/// sums S1 of v and S2 of v^2 over its n elements, x_hat = (n v - S1) / sqrt(n S2 - S1^2 + epsilon) to 12 fraction
/// bits (the square root from an exact integer square root of a 30-bit normalization of its argument), then
/// out = zp_out + round((x_hat * gain + offset * 2^12) / 2^28).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QNormalize {
    pub axis: usize,
    /// n^2 epsilon / s_in^2: the float epsilon in the units of n S2 - S1^2.
    pub epsilon: i64,
    /// round(scale / s_out * 2^16), per channel or per element of the block in storage order.
    pub gains: Vec<i32>,
    /// round(shift / s_out * 2^16), likewise.
    pub offsets: Vec<i32>,
    pub per_channel: bool,
}

/// Fraction bits of a normalized value.
pub const NORM_FRACTION_BITS: u32 = 12;

/// round(a / b) for b > 0, halves away from zero.
pub fn div_round(a: i64, b: i64) -> i64 {
    if a >= 0 {
        (a + b / 2) / b
    } else {
        -((-a + b / 2) / b)
    }
}

/// round(d * 2^12 / sqrt(x)) for x >= 0 as integers do it: x shifted by an even count into [2^28, 2^30), its exact
/// integer square root r (in [2^14, 2^15)), then d * 2^12 divided by r times the shift's half; 0 when x is 0.
pub fn normalized(d: i64, x: i64) -> i64 {
    if x <= 0 {
        return 0;
    }
    let (mut x, mut e) = (x, 0i64);
    while x >= 1 << 30 {
        x >>= 2;
        e += 1;
    }
    while x < 1 << 28 {
        x <<= 2;
        e -= 1;
    }
    let r = (x as u64).isqrt() as i64;
    if e >= 0 {
        div_round(d << NORM_FRACTION_BITS, r << e)
    } else {
        div_round(d << (NORM_FRACTION_BITS as i64 - e), r)
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum QOp {
    Conv(QConv),
    Dense(QDense),
    Add(QAdd),
    Mul(QMul),
    /// out = table[in + 128]: every elementwise nonlinearity and per-tensor affine.
    Table(Vec<i8>),
    /// Output parameters equal the input's.
    MaxPool(Pool),
    /// Output parameters equal the input's: a rounded division of the window sum.
    AvgPool(Pool),
    /// Mean over the spatial axes, output parameters equal to the input's.
    GlobalAvgPool,
    /// Constant spatial padding with a quantized value; output parameters equal the input's.
    Pad {
        pads: [usize; 4],
        value: i8,
    },
    /// Each input requantized to the output parameters (`None`: already equal).
    Concat {
        axis: usize,
        requant: Vec<Option<Multiplier>>,
    },
    /// The same elements in the new logical shape (a permutation in storage when the layout changes).
    Reshape,
    /// Output scale 1/256, zero point -128. `exp_table[d]` = round(2^16 * exp(-s_in * d)) for d = max - x.
    Softmax {
        axis: usize,
        exp_table: Vec<i32>,
    },
    /// Output scale 16/256, zero point 127 (TFLite's convention): out = 127 - round((d step + ln_sum) / 2^16) for
    /// d = max - x, where step = 16 s_in 2^16 and ln_sum = 16 * 2^16 ln(sum exp_table[d] / 2^16), the logarithm from
    /// the sum's leading bit (times `LOG_SOFTMAX_LN2`) and `log_table` at the next 8 bits.
    LogSoftmax {
        axis: usize,
        exp_table: Vec<i32>,
        step: i32,
        log_table: Vec<i32>,
    },
    Resize(QResize),
    Normalize(QNormalize),
    /// A mean (rounded half away from zero), max or min over logical `axes`; output parameters equal the input's.
    Reduce {
        kind: ReduceKind,
        axes: Vec<usize>,
    },
    /// The float op's strided view (logical axes); output parameters equal the input's.
    View(View),
}

impl QOp {
    pub fn kind(&self) -> &'static str {
        match self {
            QOp::Conv(c) if c.groups > 1 && c.groups == c.c_in && c.c_in == c.c_out => "DepthwiseConv",
            QOp::Conv(c) if c.groups > 1 => "GroupConv",
            QOp::Conv(_) => "Conv",
            QOp::Dense(_) => "Dense",
            QOp::Add(_) => "Add",
            QOp::Mul(_) => "Mul",
            QOp::Table(_) => "Table",
            QOp::MaxPool(_) => "MaxPool",
            QOp::AvgPool(_) => "AvgPool",
            QOp::GlobalAvgPool => "GlobalAvgPool",
            QOp::Pad { .. } => "Pad",
            QOp::Concat { .. } => "Concat",
            QOp::Reshape => "Reshape",
            QOp::Softmax { .. } => "Softmax",
            QOp::LogSoftmax { .. } => "LogSoftmax",
            QOp::Resize(_) => "Resize",
            QOp::View(v) if v.is_slice() => "Slice",
            QOp::View(_) => "Transpose",
            QOp::Normalize(n) if n.per_channel => "InstanceNorm",
            QOp::Normalize(_) => "LayerNorm",
            QOp::Reduce { .. } => "Reduce",
        }
    }

    /// The packed weights, for ops that have them.
    pub fn weights(&self) -> Option<&PackedWeights> {
        match self {
            QOp::Conv(c) => Some(&c.weights),
            QOp::Dense(d) => Some(&d.weights),
            _ => None,
        }
    }

    /// Flash bytes of all constants: packed weights plus the per-channel int32 bias, int32 multiplier and int8
    /// shift (docs/SEMANTICS.md), or the table.
    pub fn constant_bytes(&self) -> usize {
        use crate::ir::pack::{channel_constant_bytes, weight_bytes};
        match self {
            QOp::Conv(QConv { weights: w, .. }) | QOp::Dense(QDense { weights: w, .. }) => {
                weight_bytes(w.rows, w.k, w.bits) + channel_constant_bytes(w.rows)
            }
            QOp::Table(t) => t.len(),
            QOp::Softmax { exp_table, .. } => exp_table.len() * 4,
            QOp::Resize(r) => (r.y.entries.len() + r.x.entries.len()) * 2,
            QOp::LogSoftmax { exp_table, log_table, .. } => (exp_table.len() + log_table.len()) * 4,
            QOp::Normalize(n) => (n.gains.len() + n.offsets.len()) * 4,
            _ => 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QNode {
    pub name: String,
    pub op: QOp,
    pub inputs: Vec<TensorId>,
    pub output: TensorId,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QGraph {
    pub tensors: Vec<QTensor>,
    pub nodes: Vec<QNode>,
    pub input: TensorId,
    pub output: TensorId,
}

impl QGraph {
    pub fn tensor(&self, id: TensorId) -> &QTensor {
        &self.tensors[id]
    }

    pub fn input_params(&self) -> QParams {
        self.tensors[self.input].q
    }

    pub fn output_params(&self) -> QParams {
        self.tensors[self.output].q
    }

    /// Multiply-accumulates of one inference.
    pub fn macs(&self) -> u64 {
        (0..self.nodes.len()).map(|ix| self.node_macs(ix)).sum()
    }

    /// Multiply-accumulates of node `ix`.
    pub fn node_macs(&self, ix: usize) -> u64 {
        let node = &self.nodes[ix];
        match &node.op {
            QOp::Conv(c) => (self.tensor(node.output).elems() * c.weights.k) as u64,
            QOp::Dense(d) => (d.weights.rows * d.weights.k) as u64,
            _ => 0,
        }
    }
}

/// Channels-last storage of a logical NCHW-style shape: axis 1 moves to the end for rank >= 3.
#[derive(Clone, Copy, Debug)]
pub struct Layout;

impl Layout {
    /// (height, width, channels) as the kernels see a rank-2 to rank-4 tensor.
    pub fn hwc(shape: &[usize]) -> (usize, usize, usize) {
        match shape {
            [_, c] => (1, 1, *c),
            [_, c, w] => (1, *w, *c),
            [_, c, h, w] => (*h, *w, *c),
            _ => (1, 1, shape.iter().product()),
        }
    }

    /// The storage position of logical axis `a` in a tensor of rank `rank`.
    pub fn storage_axis(a: usize, rank: usize) -> usize {
        match a {
            _ if rank < 3 => a,
            1 => rank - 1,
            0 => 0,
            a => a - 1,
        }
    }

    /// The storage shape (channels last).
    pub fn storage_shape(shape: &[usize]) -> Vec<usize> {
        let mut s = shape.to_vec();
        if s.len() >= 3 {
            let c = s.remove(1);
            s.push(c);
        }
        s
    }

    /// For each storage index, the logical (row-major) index of the same element, for one sample.
    pub fn storage_to_logical(shape: &[usize]) -> Vec<usize> {
        let len: usize = shape.iter().product();
        if shape.len() < 3 || shape[1] == 1 || shape[2..].iter().product::<usize>() == 1 {
            return (0..len).collect();
        }
        let (c, plane) = (shape[1], shape[2..].iter().product::<usize>());
        (0..len).map(|s| (s % c) * plane + s / c).collect()
    }

    /// A normalization over the logical axes from `axis` on as storage loops: `outer` blocks of `len` elements
    /// `inner` apart (the channels when the block is spatial, else 1).
    pub fn normalized_blocks(shape: &[usize], axis: usize) -> (usize, usize, usize) {
        let s = Self::storage_shape(shape);
        let rank = s.len();
        if rank < 3 || axis <= 1 {
            let block: usize = shape[axis.max(1)..].iter().product();
            return (shape.iter().product::<usize>() / block, block, 1);
        }
        let outer = s[..axis - 1].iter().product();
        (outer, s[axis - 1..rank - 1].iter().product(), s[rank - 1])
    }

    /// A reduction over logical `axes` as storage loops: `outer` blocks of `len` elements, each `inner` apart,
    /// reduced to `inner` outputs, the outputs in the output's storage order. None when the reduced axes are not
    /// one run of storage or the output's storage order is not the kept axes' (no kernel reads that).
    pub fn reduced_blocks(in_shape: &[usize], axes: &[usize], out_shape: &[usize]) -> Option<(usize, usize, usize)> {
        let (rank, out_rank) = (in_shape.len(), out_shape.len());
        let s = Self::storage_shape(in_shape);
        let mut at: Vec<usize> = axes.iter().map(|&a| Self::storage_axis(a, rank)).collect();
        at.sort_unstable();
        let (first, last) = (*at.first()?, *at.last()?);
        if last - first + 1 != at.len() {
            return None;
        }
        // The kept axes (of size above 1) in input storage order, and in output storage order.
        let storage_order = |r: usize| -> Vec<usize> {
            let mut order: Vec<usize> = (0..r).collect();
            order.sort_by_key(|&a| Self::storage_axis(a, r));
            order
        };
        let kept: Vec<usize> = (0..rank).filter(|a| !axes.contains(a)).collect();
        let from_input: Vec<usize> =
            storage_order(rank).into_iter().filter(|a| kept.contains(a) && in_shape[*a] > 1).collect();
        let as_input = |b: usize| if out_rank == rank { b } else { kept[b] };
        let from_output: Vec<usize> =
            storage_order(out_rank).into_iter().filter(|&b| out_shape[b] > 1).map(as_input).collect();
        (from_input == from_output)
            .then(|| (s[..first].iter().product(), s[first..=last].iter().product(), s[last + 1..].iter().product()))
    }

    /// A view as a strided copy in storage order: the output's storage dimensions, the offset of its first
    /// element and the input step along each of them.
    pub fn storage_view(view: &View, in_shape: &[usize], out_shape: &[usize]) -> (Vec<usize>, isize, Vec<isize>) {
        let storage = row_major_strides(&Self::storage_shape(in_shape));
        let rank = in_shape.len();
        // Each logical input axis's stride in storage.
        let in_strides: Vec<usize> = (0..rank).map(|c| storage[Self::storage_axis(c, rank)]).collect();
        let (base, logical) = view.strides(&in_strides);
        let mut strides = vec![0; out_shape.len()];
        for (a, &s) in logical.iter().enumerate() {
            strides[Self::storage_axis(a, out_shape.len())] = s;
        }
        (Self::storage_shape(out_shape), base, strides)
    }

    /// Reorders one sample from logical to storage order.
    pub fn to_storage<T: Copy>(logical: &[T], shape: &[usize]) -> Vec<T> {
        Self::storage_to_logical(shape).iter().map(|&l| logical[l]).collect()
    }

    /// Reorders one sample from storage to logical order.
    pub fn to_logical<T: Copy + Default>(storage: &[T], shape: &[usize]) -> Vec<T> {
        let mut out = vec![T::default(); storage.len()];
        for (s, l) in Self::storage_to_logical(shape).into_iter().enumerate() {
            out[l] = storage[s];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_softmax_ln2_constant_is_16_times_2_to_16_ln_2() {
        assert_eq!(LOG_SOFTMAX_LN2, (16.0 * 65536.0 * std::f64::consts::LN_2).round() as i32);
    }

    #[test]
    fn channels_last_round_trip() {
        let shape = [1, 3, 2, 2];
        let logical: Vec<i32> = (0..12).collect();
        let storage = Layout::to_storage(&logical, &shape);
        assert_eq!(storage[..6], [0, 4, 8, 1, 5, 9]);
        assert_eq!(Layout::to_logical(&storage, &shape), logical);
        assert_eq!(Layout::storage_shape(&shape), [1, 2, 2, 3]);
        assert_eq!((Layout::storage_axis(1, 4), Layout::storage_axis(2, 4), Layout::storage_axis(1, 2)), (3, 1, 1));
    }

    #[test]
    fn quantize_rounds_and_saturates() {
        let q = QParams { scale: 0.5, zero_point: -10 };
        assert_eq!((q.quantize(1.2), q.quantize(-1.0), q.quantize(1000.0), q.quantize(-1000.0)), (-8, -12, 127, -128));
        assert_eq!(q.dequantize(-8), 1.0);
    }
}
