//! How far the integer model is from the float one: top-1 against labels and against float, the output SQNR, and
//! the SQNR of every layer's output (integer network from the quantized input vs float network from the float
//! input), so a user sees where accuracy is lost.

mod divergence;

pub use divergence::{output_error, Task};
use serde::Serialize;

use crate::data::Samples;
use crate::error::Result;
use crate::exec::{self, argmax};
use crate::interp;
use crate::ir::quant::QGraph;
use crate::ir::Graph;

/// Samples per chunk: each chunk keeps every layer's float output in memory at once.
const CHUNK: usize = 32;

#[derive(Clone, Debug, Serialize)]
pub struct LayerError {
    pub name: String,
    pub op: String,
    /// dB; `None` when the layer's output is exact.
    pub sqnr_db: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub samples: usize,
    pub float_top1: Option<f64>,
    pub quant_top1: Option<f64>,
    /// The fraction of samples whose integer top-1 equals the float top-1.
    pub agreement: f64,
    pub output_sqnr_db: Option<f64>,
    pub layers: Vec<LayerError>,
    /// Float and dequantized integer outputs (logical layout), sample-major.
    #[serde(skip)]
    pub float_outputs: Vec<f32>,
    #[serde(skip)]
    pub quant_outputs: Vec<f32>,
}

/// Signal and noise energies, accumulated.
#[derive(Clone, Copy, Default)]
struct Energy {
    signal: f64,
    noise: f64,
}

impl Energy {
    fn add(&mut self, float: &[f32], quant: &[f32]) {
        for (f, q) in float.iter().zip(quant) {
            self.signal += (*f as f64).powi(2);
            self.noise += (*f as f64 - *q as f64).powi(2);
        }
    }

    fn sqnr_db(&self) -> Option<f64> {
        (self.noise > 0.0).then(|| 10.0 * (self.signal.max(f64::MIN_POSITIVE) / self.noise).log10())
    }
}

/// How close an integer model is to float on some samples: top-1 agreement and the mean output error (KL of the
/// class probabilities, or MSE for regression).
#[derive(Clone, Copy, Debug, Serialize, serde::Deserialize)]
pub struct Score {
    pub agreement: f64,
    pub divergence: f64,
}

pub fn score(graph: &Graph, qgraph: &QGraph, samples: &Samples) -> Result<Score> {
    let float = exec::run(graph, samples)?;
    let input = interp::quantize_input(qgraph, samples)?;
    let quant = interp::dequantize(qgraph, qgraph.output, &interp::run(qgraph, &input, samples.n));
    let len = float.sample_len;
    let agree = float.data.chunks(len).zip(quant.chunks(len)).filter(|(f, q)| argmax(f) == argmax(q)).count();
    Ok(Score {
        agreement: agree as f64 / samples.n.max(1) as f64,
        divergence: output_error(graph, Task::of(graph), &float.data, &quant),
    })
}

pub fn compare(graph: &Graph, qgraph: &QGraph, test: &Samples, labels: Option<&[i64]>) -> Result<Comparison> {
    let mut layers = vec![Energy::default(); graph.nodes.len()];
    let mut output = Energy::default();
    let (mut float_outputs, mut quant_outputs) = (Vec::new(), Vec::new());
    let node_of_tensor: Vec<Option<usize>> =
        (0..graph.tensors.len()).map(|t| graph.nodes.iter().position(|n| n.output == t)).collect();
    for start in (0..test.n).step_by(CHUNK) {
        let n = CHUNK.min(test.n - start);
        let len = test.sample_len();
        let chunk = Samples {
            n,
            sample_shape: test.sample_shape.clone(),
            data: test.data[start * len..(start + n) * len].to_vec(),
        };
        let mut float_values: Vec<Option<Vec<f32>>> = vec![None; graph.tensors.len()];
        let float = exec::run_observed(graph, &chunk, &mut |t, v| {
            if node_of_tensor[t].is_some() {
                float_values[t] = Some(v.to_vec());
            }
        })?;
        let input = interp::quantize_input(qgraph, &chunk)?;
        let quant = interp::run_observed(qgraph, &input, n, &mut |t, v| {
            if let (Some(ix), Some(f)) = (node_of_tensor[t], float_values[t].as_deref()) {
                layers[ix].add(f, &interp::dequantize(qgraph, t, v));
            }
        });
        let quant = interp::dequantize(qgraph, qgraph.output, &quant);
        output.add(&float.data, &quant);
        float_outputs.extend_from_slice(&float.data);
        quant_outputs.extend(quant);
    }
    let sample_len = graph.tensor(graph.output).elems();
    let float_top1: Vec<usize> = float_outputs.chunks(sample_len).map(argmax).collect();
    let quant_top1: Vec<usize> = quant_outputs.chunks(sample_len).map(argmax).collect();
    let accuracy = |pred: &[usize]| {
        labels.map(|l| pred.iter().zip(l).filter(|(p, y)| **p as i64 == **y).count() as f64 / test.n.max(1) as f64)
    };
    let agree = float_top1.iter().zip(&quant_top1).filter(|(a, b)| a == b).count();
    Ok(Comparison {
        samples: test.n,
        float_top1: accuracy(&float_top1),
        quant_top1: accuracy(&quant_top1),
        agreement: agree as f64 / test.n.max(1) as f64,
        output_sqnr_db: output.sqnr_db(),
        layers: graph
            .nodes
            .iter()
            .zip(&layers)
            .map(|(n, e)| LayerError { name: n.name.clone(), op: n.op.kind().to_string(), sqnr_db: e.sqnr_db() })
            .collect(),
        float_outputs,
        quant_outputs,
    })
}
