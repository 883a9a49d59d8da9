//! How far one model's outputs are from another's: KL divergence of the class probabilities for classifiers, mean
//! squared error for regression models.

use crate::ir::{Graph, Op};

/// How output errors are measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// KL divergence of the class probabilities.
    Classification,
    /// Mean squared error of the outputs.
    Regression,
}

impl Task {
    /// A model whose output has its input's shape (an autoencoder) regresses; any other classifies.
    pub fn of(graph: &Graph) -> Task {
        if graph.output_shape() == graph.input_shape() {
            Task::Regression
        } else {
            Task::Classification
        }
    }
}

/// Class probabilities of each sample: the outputs themselves after a final softmax, else their softmax.
fn probabilities(graph: &Graph, outputs: &[f32]) -> Vec<f64> {
    let len = graph.tensor(graph.output).elems();
    let ends_in_softmax = graph.nodes.last().is_some_and(|n| matches!(n.op, Op::Softmax { .. }));
    outputs
        .chunks(len)
        .flat_map(|o| {
            if ends_in_softmax {
                return o.iter().map(|&p| p as f64).collect::<Vec<_>>();
            }
            let max = o.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let e: Vec<f64> = o.iter().map(|&v| (v as f64 - max).exp()).collect();
            let sum: f64 = e.iter().sum();
            e.into_iter().map(|v| v / sum).collect()
        })
        .collect()
}

/// The mean output error of `outputs` against `reference` (both sample-major graph outputs).
pub fn output_error(graph: &Graph, task: Task, reference: &[f32], outputs: &[f32]) -> f64 {
    let len = graph.tensor(graph.output).elems();
    let n = (reference.len() / len).max(1) as f64;
    match task {
        Task::Regression => {
            reference.iter().zip(outputs).map(|(a, b)| (*a as f64 - *b as f64).powi(2)).sum::<f64>() / (n * len as f64)
        }
        Task::Classification => {
            let (p, q) = (probabilities(graph, reference), probabilities(graph, outputs));
            let eps = 1e-12;
            p.iter().zip(&q).map(|(p, q)| if *p > 0.0 { p * ((p + eps) / (q + eps)).ln() } else { 0.0 }).sum::<f64>()
                / n
        }
    }
}
