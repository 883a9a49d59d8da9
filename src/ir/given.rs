//! Quantization a model brings with it: a QDQ ONNX model (QuantizeLinear / DequantizeLinear around each layer)
//! carries its activations' scales and zero points and its layers' integer weights. The import keeps them here,
//! beside the float graph whose weights are the dequantized integers, so the quantizer can reproduce them exactly
//! and the float executor can evaluate the QDQ graph as onnxruntime does.

use std::collections::BTreeMap;

use super::quant::QParams;

/// How reports name widths and weights a QDQ model brings (as the allocator and the rounding).
pub const GIVEN: &str = "qdq";

/// The quantization of a QDQ model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GivenQuant {
    /// Per tensor name: the int8 parameters the model quantizes it with (uint8 ones shifted by -128).
    pub tensors: BTreeMap<String, QParams>,
    /// Per weighted layer (node name): the width and scales of its integer weights.
    pub layers: BTreeMap<String, GivenWeights>,
    /// Whether the quantizer keeps the model's own scales and weights (false under `--requantize`: the QDQ graph
    /// is then only the float model, evaluated with its quantize-dequantize steps).
    pub keep: bool,
}

/// A layer's weights as the model quantized them: real weight = scale * integer, symmetric.
#[derive(Clone, Debug, PartialEq)]
pub struct GivenWeights {
    pub bits: u8,
    /// One per output channel, or one for the whole layer.
    pub scales: Vec<f32>,
}

impl GivenWeights {
    pub fn scale(&self, row: usize) -> f32 {
        if self.scales.len() == 1 {
            self.scales[0]
        } else {
            self.scales[row]
        }
    }
}

impl QParams {
    /// x through QuantizeLinear and DequantizeLinear in float, as onnxruntime computes it (ties to even).
    pub fn fake_quantize(&self, x: f32) -> f32 {
        let q = ((x / self.scale).round_ties_even() + self.zero_point as f32).clamp(-128.0, 127.0);
        (q - self.zero_point as f32) * self.scale
    }
}

impl super::Graph {
    /// Per tensor: the parameters the model quantizes it with, if it is a QDQ model and does.
    pub fn given_params(&self) -> Vec<Option<QParams>> {
        let given = self.given.as_ref();
        self.tensors.iter().map(|t| given.and_then(|g| g.tensors.get(&t.name)).copied()).collect()
    }

    /// Whether the quantizer keeps the model's own quantization.
    pub fn keeps_given(&self) -> bool {
        self.given.as_ref().is_some_and(|g| g.keep)
    }
}

/// `values` through the quantize-dequantize steps of `q`, if any.
pub fn fake_quantize(q: Option<QParams>, values: &mut [f32]) {
    if let Some(q) = q {
        values.iter_mut().for_each(|v| *v = q.fake_quantize(*v));
    }
}
