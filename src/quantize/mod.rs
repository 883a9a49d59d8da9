//! Float IR + observations -> integer IR (docs/SEMANTICS.md). Node i and tensor t of the integer graph are node i
//! and tensor t of the float graph, so float and integer results can be compared layer by layer.

pub mod adaround;
mod bits;
mod layer;
mod weights;

pub use bits::{load_bits_file, parse_bits, WeightBits};
pub use layer::{fake_quantize, quantize_layer, LayerRows, QuantizedLayer, Rounded};

use crate::error::{Error, Result};
use crate::ir::fixed_point::Multiplier;
use crate::ir::pack::{weight_range, PackedWeights};
use crate::ir::quant::{
    fixed_output_params, Layout, QAdd, QConv, QDense, QGraph, QMul, QNode, QNormalize, QOp, QParams, QResize, QTaps,
    QTensor, RESIZE_WEIGHT_BITS,
};
use crate::ir::resample::AxisTaps;
use crate::ir::{Affine, Clamp, Conv, Dense, Graph, Node, Normalize, Op, Window};
use crate::observe::Observations;

#[derive(Clone, Debug)]
pub struct QuantOptions {
    pub bits: WeightBits,
    /// Fold the expected output shift caused by weight rounding into each channel's bias.
    pub bias_correction: bool,
    /// Per layer name: its weights rounded elsewhere (AdaRound), at the scales this quantizer chooses.
    pub rounded: std::collections::BTreeMap<String, Rounded>,
}

/// How weights below 8 bits are rounded.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Rounding {
    /// To the nearest level of the MSE-clipped grid.
    #[default]
    Nearest,
    /// Learned on the calibration data (`adaround`).
    AdaRound(adaround::Settings),
}

impl Rounding {
    pub fn name(&self) -> &'static str {
        match self {
            Rounding::Nearest => "nearest",
            Rounding::AdaRound(_) => "adaround",
        }
    }

    /// `options` with its layers below 8 bits rounded this way on the calibration samples `calib`; `progress` gets
    /// a line per layer rounded.
    pub fn apply(
        &self,
        graph: &Graph,
        obs: &Observations,
        calib: &crate::data::Samples,
        options: QuantOptions,
        progress: &dyn Fn(&str),
    ) -> Result<QuantOptions> {
        Ok(match self {
            Rounding::Nearest => options,
            Rounding::AdaRound(settings) => {
                let rounded = adaround::round_graph(graph, obs, calib, &options, settings, progress)?;
                QuantOptions { rounded, ..options }
            }
        })
    }
}

impl Default for QuantOptions {
    fn default() -> Self {
        QuantOptions { bits: WeightBits::uniform(8), bias_correction: true, rounded: Default::default() }
    }
}

impl QParams {
    /// Asymmetric int8 parameters covering [lo, hi] (widened to include 0).
    pub fn from_range(lo: f32, hi: f32) -> QParams {
        let (lo, hi) = (lo.min(0.0) as f64, hi.max(0.0) as f64);
        if hi - lo < 1e-12 {
            return QParams { scale: 1.0 / 256.0, zero_point: 0 };
        }
        let scale = (hi - lo) / 255.0;
        let zero_point = (-128.0 - lo / scale).round().clamp(-128.0, 127.0) as i32;
        QParams { scale: scale as f32, zero_point }
    }
}

/// round(2^16 exp(-s d)) for the input differences d = max - x of a softmax whose input scale is `s`.
fn exp_table(s: f32) -> Vec<i32> {
    (0..256).map(|d| (65536.0 * (-(s as f64) * d as f64).exp()).round() as i32).collect()
}

pub fn quantize(graph: &Graph, obs: &Observations, options: &QuantOptions) -> Result<QGraph> {
    let params = if graph.keeps_given() { given_tensor_params(graph)? } else { observed_tensor_params(graph, obs)? };
    let tensors = graph
        .tensors
        .iter()
        .zip(&params)
        .map(|(t, &q)| QTensor { name: t.name.clone(), shape: t.shape.clone(), q })
        .collect();
    let nodes = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(ix, node)| {
            let mean = obs.input_means.get(ix).and_then(|m| m.as_deref());
            let ctx = Lowering { graph, node, params: &params, mean, options };
            Ok(QNode { name: node.name.clone(), op: ctx.lower()?, inputs: node.inputs.clone(), output: node.output })
        })
        .collect::<Result<_>>()?;
    Ok(QGraph { tensors, nodes, input: graph.input, output: graph.output })
}

/// Each tensor's parameters from the calibration ranges, which must be finite.
fn observed_tensor_params(graph: &Graph, obs: &Observations) -> Result<Vec<QParams>> {
    let finite = |t: usize| obs.ranges[t].0.is_finite() && obs.ranges[t].1.is_finite();
    if !finite(graph.input) {
        return Err(Error::input("the calibration inputs hold NaN or infinite values"));
    }
    if let Some(node) = graph.nodes.iter().find(|n| !finite(n.output)) {
        return Err(Error::input(format!(
            "layer '{}' ({}): its output on the calibration data is NaN or infinite (the float model overflows)",
            node.name,
            node.op.kind()
        )));
    }
    Ok(tensor_params(graph, obs))
}

/// Each tensor's parameters as a QDQ model gives them; a tensor it does not quantize takes those the op producing
/// it fixes (value-preserving ops, softmax), or is an error.
fn given_tensor_params(graph: &Graph) -> Result<Vec<QParams>> {
    let given = graph.given_params();
    let missing = |t: usize, what: String| {
        Error::input(format!(
            "tensor '{}' ({what}) is not quantized in the model (no QuantizeLinear): ompqc keeps a QDQ model's own \
             scales; re-quantize it with --requantize and --calib",
            graph.tensors[t].name
        ))
    };
    let mut params: Vec<Option<QParams>> = given.clone();
    if params[graph.input].is_none() {
        return Err(missing(graph.input, "the model input".into()));
    }
    for node in &graph.nodes {
        let q = given[node.output].or(fixed_output_params(&node.op, params[node.inputs[0]]));
        params[node.output] =
            Some(q.ok_or_else(|| missing(node.output, format!("output of '{}' ({})", node.name, node.op.kind())))?);
    }
    Ok(params.into_iter().map(|q| q.unwrap_or(QParams { scale: 1.0, zero_point: 0 })).collect())
}

/// Each tensor's parameters: from its observed range, except where the op keeps its input's (pools, pads,
/// reshapes: they move values without changing them) and for softmax outputs.
fn tensor_params(graph: &Graph, obs: &Observations) -> Vec<QParams> {
    let from_obs = |t: usize| QParams::from_range(obs.ranges[t].0, obs.ranges[t].1);
    let mut params: Vec<QParams> = (0..graph.tensors.len()).map(from_obs).collect();
    for node in &graph.nodes {
        if let Some(q) = fixed_output_params(&node.op, Some(params[node.inputs[0]])) {
            params[node.output] = q;
        }
    }
    params
}

/// The integer bounds of a fused clamp on an output with parameters `q`.
fn act_bounds(act: Clamp, q: QParams) -> (i32, i32) {
    let bound = |v: f32, default: i32| {
        if v.is_finite() {
            ((v / q.scale).round() as i64 + q.zero_point as i64).clamp(-128, 127) as i32
        } else {
            default
        }
    };
    (bound(act.min, -128), bound(act.max, 127))
}

/// A 256-entry table mapping each int8 input to f's quantized output; where f is undefined (NaN: a logarithm of
/// a negative input), to the output's zero point.
fn table(f: impl Fn(f32) -> f32, q_in: QParams, q_out: QParams) -> Vec<i8> {
    let defined = |y: f32| if y.is_nan() { 0.0 } else { y };
    (-128..=127).map(|q| q_out.quantize(defined(f(q_in.dequantize(q as i8))))).collect()
}

/// The output offset a channel gives every sum within `spread` of its bias, when it is one value: a dead channel,
/// whose weights are near zero and whose output is its bias alone. With a right shift the requantization never
/// decreases as the sum grows, so the two ends agreeing proves it. Offsets beyond 256 clamp alike for every zero
/// point, so the offset is kept within that.
fn constant_output(m: Multiplier, bias: i64, spread: i64) -> Option<i32> {
    let end = |x: i64| m.apply(x as i32).clamp(-256, 256);
    (m.shift <= 0 && end(bias - spread) == end(bias + spread)).then(|| end(bias))
}

/// A constant channel's requantization: one half, against a sum that is the bias 2c alone (its weights zeroed), gives
/// c exactly and keeps every kernel's short requantization open to the layer.
const HALF: Multiplier = Multiplier { m0: 1 << 30, shift: 0 };

struct Lowering<'a> {
    graph: &'a Graph,
    node: &'a Node,
    params: &'a [QParams],
    mean: Option<&'a [f64]>,
    options: &'a QuantOptions,
}

impl Lowering<'_> {
    fn q_in(&self, i: usize) -> QParams {
        self.params[self.node.inputs[i]]
    }

    fn q_out(&self) -> QParams {
        self.params[self.node.output]
    }

    fn rank(&self, i: usize) -> usize {
        self.graph.tensor(self.node.inputs[i]).shape.len()
    }

    fn error(&self, msg: impl std::fmt::Display) -> Error {
        Error::input(format!("layer '{}' ({}): {msg}", self.node.name, self.node.op.kind()))
    }

    /// The fixed-point form of a ratio of scales, or an error when it has none (weights or activations that are
    /// not finite, or scales too far apart).
    fn multiplier(&self, m: f64) -> Result<Multiplier> {
        Multiplier::from_real(m).ok_or_else(|| {
            self.error(format!(
                "a scale ratio of {m:e} has no fixed-point multiplier (it must be finite and below 2^31)"
            ))
        })
    }

    fn lower(&self) -> Result<QOp> {
        let (q_in, q_out) = (self.q_in(0), self.q_out());
        Ok(match &self.node.op {
            Op::Conv(c) => QOp::Conv(self.conv(c, self.options.bits.for_layer(&self.node.name))?),
            Op::Dense(d) => QOp::Dense(self.dense(d, self.options.bits.for_layer(&self.node.name))?),
            Op::Affine(a) => self.affine(a)?,
            Op::Add { act } => {
                self.same_rank()?;
                let (s1, s2, so) = (q_in.scale as f64, self.q_in(1).scale as f64, q_out.scale as f64);
                let left_shift = 20;
                let twice_max = 2.0 * s1.max(s2);
                let (act_min, act_max) = act_bounds(*act, q_out);
                QOp::Add(QAdd {
                    left_shift,
                    input_multipliers: [self.multiplier(s1 / twice_max)?, self.multiplier(s2 / twice_max)?],
                    output_multiplier: self.multiplier(twice_max / ((1 << left_shift) as f64 * so))?,
                    act_min,
                    act_max,
                })
            }
            Op::Mul { act } => {
                self.same_rank()?;
                let m = q_in.scale as f64 * self.q_in(1).scale as f64 / q_out.scale as f64;
                let (act_min, act_max) = act_bounds(*act, q_out);
                QOp::Mul(QMul { output_multiplier: self.multiplier(m)?, act_min, act_max })
            }
            Op::Unary(f) => QOp::Table(table(|x| f.apply(x), q_in, q_out)),
            Op::MaxPool(p) => QOp::MaxPool(p.clone()),
            Op::AvgPool(p) => QOp::AvgPool(p.clone()),
            Op::GlobalAvgPool => QOp::GlobalAvgPool,
            Op::Pad { pads, value } => QOp::Pad { pads: *pads, value: q_in.quantize(*value) },
            Op::Concat { axis } => QOp::Concat {
                axis: *axis,
                requant: (0..self.node.inputs.len())
                    .map(|i| self.q_in(i))
                    .map(|q| (q != q_out).then(|| self.multiplier(q.scale as f64 / q_out.scale as f64)).transpose())
                    .collect::<Result<_>>()?,
            },
            Op::Reshape => QOp::Reshape,
            Op::Softmax { axis } => QOp::Softmax { axis: *axis, exp_table: exp_table(q_in.scale) },
            Op::LogSoftmax { axis } => {
                let unit = 16.0 * 65536.0;
                let step = (unit * q_in.scale as f64).round();
                if step >= i32::MAX as f64 {
                    return Err(self.error(format!("an input scale of {} is too large for log-softmax", q_in.scale)));
                }
                QOp::LogSoftmax {
                    axis: *axis,
                    exp_table: exp_table(q_in.scale),
                    step: step as i32,
                    // ln of the sum's mantissa, at the middle of each 1/256 interval.
                    log_table: (0..256)
                        .map(|k| (unit * (1.0 + (k as f64 + 0.5) / 256.0).ln()).round() as i32)
                        .collect(),
                }
            }
            Op::Normalize(n) => QOp::Normalize(self.normalize(n)?),
            Op::Lrn(_) => {
                return Err(self.error(
                    "LRN runs in float only (predict, eval's float side): it has no integer kernel, as in TFLite Micro",
                ))
            }
            Op::Reduce { kind, axes } => {
                let (in_shape, out_shape) =
                    (&self.graph.tensor(self.node.inputs[0]).shape, &self.graph.tensor(self.node.output).shape);
                if in_shape.len() > 4 || Layout::reduced_blocks(in_shape, axes, out_shape).is_none() {
                    return Err(self.error(format!(
                        "a reduction over axes {axes:?} of {in_shape:?} to {out_shape:?} has no integer kernel (the axes \
                         must be consecutive in channels-last storage)"
                    )));
                }
                QOp::Reduce { kind: *kind, axes: axes.clone() }
            }
            Op::View(v) => {
                if self.rank(0) > 4 {
                    return Err(self.error("a view of a tensor of rank above 4 has no integer kernel"));
                }
                QOp::View(v.clone())
            }
            Op::Resize(r) => {
                let ((y, y_sum), (x, x_sum)) = (self.taps(&r.y)?, self.taps(&r.x)?);
                // |in - zp| <= 255 times both axes' largest sums of weight magnitudes bounds every int32 sum
                // (and the rounding term after it).
                if 255 * y_sum * x_sum + (1 << (2 * RESIZE_WEIGHT_BITS - 1)) >= 1 << 31 {
                    return Err(self.error("the resampling weights are too large for the int32 sums"));
                }
                QOp::Resize(QResize { y, x })
            }
        })
    }

    /// A normalization's epsilon in the integer sums' units and its scale and shift over the output scale in Q16,
    /// per channel or per element of the block in storage order.
    fn normalize(&self, n: &Normalize) -> Result<QNormalize> {
        let shape = &self.graph.tensor(self.node.inputs[0]).shape;
        if shape.len() > 4 {
            return Err(self.error("a normalization of a tensor of rank above 4 has no integer kernel"));
        }
        let (_, len, _) = Layout::normalized_blocks(shape, n.axis);
        let (s_in, s_out) = (self.q_in(0).scale as f64, self.q_out().scale as f64);
        let epsilon = (len as f64).powi(2) * n.epsilon as f64 / (s_in * s_in);
        if epsilon.is_nan() || epsilon >= (1u64 << 62) as f64 {
            return Err(self.error(format!("epsilon {} is too large for the integer sums", n.epsilon)));
        }
        let q16 = |v: &[f32]| -> Result<Vec<i32>> {
            v.iter()
                .map(|&x| {
                    let q = (x as f64 / s_out * 65536.0).round();
                    if q.abs() > i32::MAX as f64 {
                        return Err(self.error(format!("a scale or shift of {x} is too large for the output scale")));
                    }
                    Ok(q as i32)
                })
                .collect()
        };
        let (mut gains, mut offsets) = (q16(&n.scale)?, q16(&n.shift)?);
        if !n.per_channel && n.axis <= 1 && shape.len() >= 3 {
            // The block is the whole sample: its storage order is channels last.
            let sample = &shape[1..];
            let block = [&[1], sample].concat();
            gains = Layout::to_storage(&gains, &block);
            offsets = Layout::to_storage(&offsets, &block);
        }
        Ok(QNormalize { axis: n.axis, epsilon: epsilon.round() as i64, gains, offsets, per_channel: n.per_channel })
    }

    /// An axis's taps in Q10 (each position and weight must fit an int16), and its largest sum of weight
    /// magnitudes for one output position.
    fn taps(&self, t: &AxisTaps) -> Result<(QTaps, i64)> {
        let one = (1 << RESIZE_WEIGHT_BITS) as f64;
        let mut entries = Vec::with_capacity(2 * t.index.len());
        let mut worst = 0i64;
        for o in 0..t.out_len() {
            let mut magnitude = 0i64;
            for (i, w) in t.of(o) {
                let q = (w * one).round();
                if i > i16::MAX as usize || q.abs() > i16::MAX as f64 {
                    return Err(self.error(format!("input position {i} or weight {w} does not fit the int16 taps")));
                }
                entries.extend([i as i16, q as i16]);
                magnitude += (q as i64).abs();
            }
            worst = worst.max(magnitude);
        }
        Ok((QTaps { taps: t.taps, entries }, worst))
    }

    fn same_rank(&self) -> Result<()> {
        let out = self.graph.tensor(self.node.output).shape.len();
        if self.rank(0) != out || self.rank(1) != out {
            return Err(self.error("broadcasting between tensors of different ranks has no integer kernel"));
        }
        Ok(())
    }

    /// Packed weights, int32 biases and multipliers of a layer, after proving its accumulator cannot overflow.
    fn weighted(&self, layer: &LayerRows, bits: u8) -> Result<(PackedWeights, Vec<i32>, Vec<Multiplier>)> {
        if !(2..=8).contains(&bits) {
            return Err(self.error(format!("{bits}-bit weights: widths 2 to 8 are supported")));
        }
        let (q_in, q_out) = (self.q_in(0), self.q_out());
        let s_in = q_in.scale as f64;
        // A per-channel affine's one weight per channel is exact at 8 bits whatever its scale: QDQ models keep it.
        let mut q = if self.graph.keeps_given() && !matches!(self.node.op, Op::Affine(_)) {
            self.given_layer(layer, bits)?
        } else {
            let mean = self.mean.filter(|_| self.options.bias_correction);
            let rounded = self.options.rounded.get(&self.node.name).filter(|r| r.bits == bits);
            quantize_layer(layer, bits, s_in, mean, rounded)
        };
        let (rows, k) = (layer.rows, layer.k);
        let max_input = (127 - q_in.zero_point).max(q_in.zero_point + 128) as f64;
        let mut biases = Vec::with_capacity(rows);
        let mut multipliers = Vec::with_capacity(rows);
        for r in 0..rows {
            let scale = q.scales[r] as f64;
            let bias_q = (q.bias[r] / (s_in * scale)).round();
            let weight_sum: i64 = q.values[r * k..(r + 1) * k].iter().map(|&v| (v as i64).abs()).sum();
            let bound = weight_sum as f64 * max_input + bias_q.abs();
            if bound.is_nan() || bound > i32::MAX as f64 {
                return Err(self.error(format!(
                    "the int32 accumulator of output channel {r} could overflow (bound {bound:.0} for K = {k} at \
                     {bits} bits); this layer cannot be compiled"
                )));
            }
            let multiplier = self.multiplier(s_in * scale / q_out.scale as f64)?;
            // A constant channel's bias (huge when its weights are all near zero) and shift would narrow the kernels'
            // bounds: it is stored as the constant it gives.
            if let Some(c) = constant_output(multiplier, bias_q as i64, weight_sum * max_input as i64) {
                q.values[r * k..(r + 1) * k].fill(0);
                biases.push(2 * c);
                multipliers.push(HALF);
            } else {
                biases.push(bias_q as i32);
                multipliers.push(multiplier);
            }
        }
        Ok((PackedWeights::pack(&q.values, rows, k, bits), biases, multipliers))
    }

    /// A QDQ model's own integer weights: the float weights are those integers times their scales, so each divides
    /// back exactly.
    fn given_layer(&self, layer: &LayerRows, bits: u8) -> Result<QuantizedLayer> {
        let given = self.graph.given.as_ref().and_then(|g| g.layers.get(&self.node.name)).ok_or_else(|| {
            self.error(
                "the model gives float weights for this layer, not quantized ones: ompqc keeps a QDQ model's own \
                 quantization; re-quantize it with --requantize and --calib",
            )
        })?;
        if given.bits != bits {
            return Err(self.error(format!("the model quantizes it at {} bits, not {bits}", given.bits)));
        }
        let (lo, hi) = weight_range(bits);
        let k = layer.k;
        let mut values = Vec::with_capacity(layer.rows * k);
        for r in 0..layer.rows {
            let scale = given.scale(r);
            for &w in &layer.weights[r * k..(r + 1) * k] {
                let v = w as f64 / scale as f64;
                let q = v.round();
                if (v - q).abs() > 1e-3 || q < lo as f64 || q > hi as f64 {
                    return Err(self.error(format!(
                        "its weights are no longer the model's {bits}-bit integers times their scales (an operation \
                         folded into them at import, such as a BatchNormalization after the QDQ weights)"
                    )));
                }
                values.push(q as i8);
            }
        }
        let scales = (0..layer.rows).map(|r| given.scale(r)).collect();
        Ok(QuantizedLayer { values, scales, bias: layer.bias.iter().map(|&b| b as f64).collect() })
    }

    fn conv(&self, c: &Conv, bits: u8) -> Result<QConv> {
        let (weights, bias, multipliers) = self.weighted(&LayerRows::conv(c), bits)?;
        let (act_min, act_max) = act_bounds(c.act, self.q_out());
        Ok(QConv {
            weights,
            bias,
            multipliers,
            c_in: c.c_in,
            c_out: c.c_out,
            groups: c.groups,
            window: c.window,
            act_min,
            act_max,
        })
    }

    fn dense(&self, d: &Dense, bits: u8) -> Result<QDense> {
        if self.rank(0) != 2 {
            return Err(self.error("a dense layer over a tensor of rank > 2 has no integer kernel"));
        }
        let (weights, bias, multipliers) = self.weighted(&LayerRows::dense(d), bits)?;
        let (act_min, act_max) = act_bounds(d.act, self.q_out());
        Ok(QDense { weights, bias, multipliers, act_min, act_max })
    }

    /// A per-tensor affine is a table; a per-channel one is a 1x1 depthwise convolution with 8-bit weights (each
    /// channel's one weight is exactly 127 steps of its scale).
    fn affine(&self, a: &Affine) -> Result<QOp> {
        let (q_in, q_out) = (self.q_in(0), self.q_out());
        if a.scale.len() == 1 {
            let f = |x: f32| a.act.apply(x * a.scale[0] + a.shift[0]);
            return Ok(QOp::Table(table(f, q_in, q_out)));
        }
        if a.axis != 1 || !(2..=4).contains(&self.rank(0)) {
            return Err(self.error(format!("a per-channel affine along axis {} has no integer kernel", a.axis)));
        }
        let channels = a.scale.len();
        let conv = Conv {
            weight: a.scale.clone(),
            bias: a.shift.clone(),
            c_in: channels,
            c_out: channels,
            groups: channels,
            window: Window::POINT,
            act: a.act,
        };
        Ok(QOp::Conv(self.conv(&conv, 8)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_whose_sums_all_requantize_alike_is_constant() {
        let m = Multiplier { m0: 1 << 30, shift: -20 };
        // m halves x (rounding) and divides by 2^20 (rounding again): sums up to 2^20 - 2 give 0, 2^20 - 1 gives 1.
        assert_eq!(constant_output(m, 0, (1 << 20) - 2), Some(0));
        assert_eq!(constant_output(m, 0, (1 << 20) - 1), None);
        // Around a bias of 3 * 2^21 every sum within 2^20 - 2 gives 3; within 2^20 + 1 the top end passes 3.5 * 2^21 (4).
        assert_eq!(constant_output(m, 3 << 21, (1 << 20) - 2), Some(3));
        assert_eq!(constant_output(m, 3 << 21, (1 << 20) + 1), None);
        // Checked against every sum of a small range.
        let small = Multiplier { m0: 1 << 30, shift: -3 };
        for bias in -40i64..40 {
            for spread in 0..12 {
                let all: Vec<i32> = (bias - spread..=bias + spread).map(|x| small.apply(x as i32)).collect();
                let alike = all.iter().all(|&v| v == all[0]);
                assert_eq!(constant_output(small, bias, spread), alike.then_some(all[0]), "{bias} +- {spread}");
            }
        }
        // Offsets beyond 256 clamp alike; left shifts are never taken.
        assert_eq!(constant_output(Multiplier { m0: 1 << 30, shift: 0 }, 4000, 100), Some(256));
        assert_eq!(constant_output(Multiplier { m0: 1 << 30, shift: 1 }, 0, 0), None);
        // The stored form gives the constant back from the bias 2c alone.
        for c in [-256, -3, 0, 1, 256] {
            assert_eq!(HALF.apply(2 * c), c);
        }
    }
}
