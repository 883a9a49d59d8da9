//! The model's interface as both generated languages expose it, computed once: buffer sizes, the input's and the
//! output's quantization, shapes and channels-last geometry, and every layer's weight width. The emitters only
//! spell it in their language.

use super::schedule::channels_pixels;
use super::Provenance;
use crate::ir::quant::{QGraph, QTensor};

/// One end of the model: the input or the output tensor.
pub struct End {
    pub size: usize,
    /// The ONNX model's (channels-first) shape, as `[1, 3, 32, 32]`.
    pub shape: String,
    pub rank: usize,
    pub scale: f32,
    pub zero_point: i32,
    pub pixels: usize,
    pub channels: usize,
}

impl End {
    fn of(t: &QTensor) -> End {
        let (channels, pixels) = channels_pixels(&t.shape);
        let dims: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
        End {
            size: t.elems(),
            shape: format!("[{}]", dims.join(", ")),
            rank: t.shape.len(),
            scale: t.q.scale,
            zero_point: t.q.zero_point,
            pixels,
            channels,
        }
    }
}

pub struct Interface<'a> {
    pub version: &'static str,
    pub provenance: &'a Provenance,
    pub input: End,
    pub output: End,
    pub arena_size: usize,
    /// (layer name, weight bits) of every layer with weights.
    pub layers: Vec<(&'a str, u8)>,
}

impl Interface<'_> {
    pub fn new<'a>(graph: &'a QGraph, arena_size: usize, provenance: &'a Provenance) -> Interface<'a> {
        Interface {
            version: env!("CARGO_PKG_VERSION"),
            provenance,
            input: End::of(graph.tensor(graph.input)),
            output: End::of(graph.tensor(graph.output)),
            arena_size,
            layers: graph.nodes.iter().filter_map(|n| n.op.weights().map(|w| (n.name.as_str(), w.bits))).collect(),
        }
    }
}
