//! The weights of a conv or dense layer as its kernel reads them, and their quantization: the one place where
//! weights are rounded, shared by the integer lowering and by the float simulation of a quantized layer that the
//! sensitivity measurement runs.

use super::weights::{quantize_rows, requantize_row};
use crate::ir::{Conv, Dense, Op};

/// Rows of k float weights in kernel order (a conv's rows are [ky][kx][ci], channels last) and their biases.
pub struct LayerRows {
    pub rows: usize,
    pub k: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    /// For a conv: (input channels per group, output channels per group, kernel positions).
    conv: Option<(usize, usize, usize)>,
}

impl LayerRows {
    pub fn of(op: &Op) -> Option<LayerRows> {
        match op {
            Op::Conv(c) => Some(Self::conv(c)),
            Op::Dense(d) => Some(Self::dense(d)),
            _ => None,
        }
    }

    pub fn conv(c: &Conv) -> LayerRows {
        let taps = c.window.kernel[0] * c.window.kernel[1];
        let cin_g = c.c_in / c.groups;
        let k = taps * cin_g;
        let mut weights = vec![0.0f32; c.c_out * k];
        for o in 0..c.c_out {
            for ci in 0..cin_g {
                for t in 0..taps {
                    weights[o * k + t * cin_g + ci] = c.weight[(o * cin_g + ci) * taps + t];
                }
            }
        }
        LayerRows { rows: c.c_out, k, weights, bias: c.bias.clone(), conv: Some((cin_g, c.c_out / c.groups, taps)) }
    }

    pub fn dense(d: &Dense) -> LayerRows {
        LayerRows { rows: d.n_out, k: d.k, weights: d.weight.clone(), bias: d.bias.clone(), conv: None }
    }

    /// Where weight j of row r sits in the layer's mean input patch (see `observe`).
    fn mean_index(&self, r: usize, j: usize) -> usize {
        match self.conv {
            Some((cin_g, cout_g, taps)) => ((r / cout_g) * cin_g + j % cin_g) * taps + j / cin_g,
            None => j,
        }
    }

    /// Back to the op's own weight order (inverse of `conv`/`dense`).
    fn into_op(self, template: &Op) -> Op {
        match (template, self.conv) {
            (Op::Conv(c), Some((cin_g, _, taps))) => {
                let mut weight = vec![0.0f32; c.weight.len()];
                for o in 0..c.c_out {
                    for ci in 0..cin_g {
                        for t in 0..taps {
                            weight[(o * cin_g + ci) * taps + t] = self.weights[o * self.k + t * cin_g + ci];
                        }
                    }
                }
                Op::Conv(Conv { weight, bias: self.bias, ..c.clone() })
            }
            (Op::Dense(d), None) => Op::Dense(Dense { weight: self.weights, bias: self.bias, ..d.clone() }),
            _ => unreachable!("rows come from the same op"),
        }
    }
}

/// One layer's learned rounding: its integer weights, at the scales the quantizer chooses, and per output channel
/// whether the quantizer's bias correction applies.
#[derive(Clone, Debug, PartialEq)]
pub struct Rounded {
    pub bits: u8,
    pub values: Vec<i8>,
    pub bias_correction: Vec<bool>,
}

/// Quantized rows: real weight ~= scales[r] * values[r][j]; `bias` is the float bias after bias correction.
pub struct QuantizedLayer {
    pub values: Vec<i8>,
    pub scales: Vec<f32>,
    pub bias: Vec<f64>,
}

/// Rounds a layer's weights to `bits` with per-channel MSE clipping. `s_in` is the input's quantization scale: a
/// channel whose bias could not be represented in int32 at its weight scale gets a wider scale. With `mean` (the
/// layer's mean input patch on the calibration set), the expected output shift caused by the rounding is removed
/// from each bias. `rounded` replaces the nearest values (and says where bias correction applies).
pub fn quantize_layer(
    layer: &LayerRows,
    bits: u8,
    s_in: f64,
    mean: Option<&[f64]>,
    rounded: Option<&Rounded>,
) -> QuantizedLayer {
    let k = layer.k;
    let mut q = quantize_rows(&layer.weights, layer.rows, k, bits);
    let mut bias = Vec::with_capacity(layer.rows);
    for r in 0..layer.rows {
        let row = &layer.weights[r * k..(r + 1) * k];
        // Tiny weights with a real bias: widen the scale until the bias fits in int32 with headroom (the weights
        // then round to the few levels they carry).
        let floor = (layer.bias[r] as f64).abs() / (s_in * (1u64 << 30) as f64);
        if (q.scales[r] as f64) < floor {
            q.scales[r] = floor as f32;
            requantize_row(&mut q.values[r * k..(r + 1) * k], row, q.scales[r], bits);
        }
        if let Some(rounded) = rounded {
            q.values[r * k..(r + 1) * k].copy_from_slice(&rounded.values[r * k..(r + 1) * k]);
        }
        let (values, scale) = (&q.values[r * k..(r + 1) * k], q.scales[r] as f64);
        let correct = rounded.is_none_or(|rounded| rounded.bias_correction[r]);
        let shift: f64 = mean.filter(|_| correct).map_or(0.0, |mean| {
            (0..k).map(|j| (values[j] as f64 * scale - row[j] as f64) * mean[layer.mean_index(r, j)]).sum()
        });
        bias.push(layer.bias[r] as f64 - shift);
    }
    QuantizedLayer { values: q.values, scales: q.scales, bias }
}

/// The float op computing what the quantized layer computes with float activations: dequantized weights and the
/// corrected bias. `None` for ops without weights.
pub fn fake_quantize(op: &Op, bits: u8, s_in: f64, mean: Option<&[f64]>, rounded: Option<&Rounded>) -> Option<Op> {
    let mut layer = LayerRows::of(op)?;
    let q = quantize_layer(&layer, bits, s_in, mean, rounded);
    for (r, row) in layer.weights.chunks_mut(layer.k.max(1)).enumerate() {
        row.iter_mut().zip(&q.values[r * layer.k..]).for_each(|(w, &v)| *w = v as f32 * q.scales[r]);
    }
    layer.bias = q.bias.iter().map(|&b| b as f32).collect();
    Some(layer.into_op(op))
}
