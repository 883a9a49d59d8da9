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
use crate::quantize::{adaround, fake_quantize, Rounding};

/// errors[l][w]: the output error with only layer `layers[l]` at `widths[w]` bits, its weights rounded as they
/// will be (learned rounding then sees float inputs; `progress` gets a line per layer).
#[allow(clippy::too_many_arguments)]
pub fn measure(
    graph: &Graph,
    obs: &Observations,
    samples: &Samples,
    layers: &[usize],
    widths: &[u8],
    bias_correction: bool,
    rounding: &Rounding,
    progress: &dyn Fn(&str),
) -> Result<Vec<Vec<f64>>> {
    let task = Task::of(graph);
    let stored = exec::run_keep_all(graph, samples)?;
    let reference = &stored[graph.output];
    Ok(layers
        .iter()
        .enumerate()
        .map(|(i, &ix)| {
            let started = std::time::Instant::now();
            let node = &graph.nodes[ix];
            let (lo, hi) = obs.ranges[node.inputs[0]];
            let s_in = QParams::from_range(lo, hi).scale as f64;
            let mean = obs.input_means[ix].as_deref().filter(|_| bias_correction);
            let errors = widths
                .iter()
                .map(|&bits| {
                    let rounded = match rounding {
                        Rounding::AdaRound(settings) if bits < 8 && adaround::too_large(node, settings).is_none() => {
                            let x = &stored[node.inputs[0]];
                            let shape = &graph.tensor(node.inputs[0]).shape;
                            Some(adaround::round_layer(node, shape, bits, s_in, mean, (x, x), samples.n, settings))
                        }
                        _ => None,
                    };
                    let op = fake_quantize(&node.op, bits, s_in, mean, rounded.as_ref())
                        .expect("searchable layers have weights");
                    let out = exec::run_suffix(graph, &stored, samples.n, ix, &op);
                    output_error(graph, task, reference, &out)
                })
                .collect();
            if matches!(rounding, Rounding::AdaRound(_)) {
                let seconds = started.elapsed().as_secs_f64();
                progress(&format!(
                    "sensitivity {}/{}: '{}' at {widths:?} bits, {seconds:.1} s",
                    i + 1,
                    layers.len(),
                    node.name
                ));
            }
            errors
        })
        .collect())
}
