//! Measured sensitivity: for each layer and width, how far the network's output moves on the calibration samples
//! when only that layer's weights are quantized (float activations everywhere). Each measurement reruns only the
//! layers from the perturbed one on.

use crate::data::Samples;
use crate::error::Result;
use crate::exec;
use crate::ir::quant::QParams;
use crate::ir::Graph;
use crate::measure::{output_error, Task};
use crate::observe::Observations;
use crate::quantize::fake_quantize;

/// errors[l][w]: the output error with only layer `layers[l]` at `widths[w]` bits.
pub fn measure(
    graph: &Graph,
    obs: &Observations,
    samples: &Samples,
    layers: &[usize],
    widths: &[u8],
    bias_correction: bool,
) -> Result<Vec<Vec<f64>>> {
    let task = Task::of(graph);
    let stored = exec::run_keep_all(graph, samples)?;
    let reference = &stored[graph.output];
    Ok(layers
        .iter()
        .map(|&ix| {
            let node = &graph.nodes[ix];
            let (lo, hi) = obs.ranges[node.inputs[0]];
            let s_in = QParams::from_range(lo, hi).scale as f64;
            let mean = obs.input_means[ix].as_deref().filter(|_| bias_correction);
            widths
                .iter()
                .map(|&bits| {
                    let op = fake_quantize(&node.op, bits, s_in, mean).expect("searchable layers have weights");
                    let out = exec::run_suffix(graph, &stored, samples.n, ix, &op);
                    output_error(graph, task, reference, &out)
                })
                .collect()
        })
        .collect())
}
