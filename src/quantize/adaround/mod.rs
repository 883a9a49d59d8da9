//! AdaRound (Nagel et al. 2020): per weight, round down or up so that the layer's output on calibration data is
//! kept, instead of rounding to nearest. Layers below 8 bits are rounded one at a time in execution order, each
//! with its inputs in the quantized network (the layers before it already rounded) against the float network's
//! output as the target. For a linear layer that loss is quadratic in the weights, so it is written with the K x K
//! Gram matrices of the layer's inputs, computed once: an iteration then costs O(rows * K^2) whatever the size of
//! the calibration set, and the gradient is exact.
//!
//! Bias correction after the rounding is kept only for the output channels where, estimated without every fourth
//! calibration sample, it lowers the loss on those held-out samples (after learned rounding it often adds error).

mod solver;
mod statistics;

pub use solver::{round_rows, Settings};
pub use statistics::{statistics, Grams};

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use super::layer::{quantize_layer, LayerRows, Rounded};
use super::{quantize, QuantOptions};
use crate::data::Samples;
use crate::error::Result;
use crate::interp;
use crate::ir::pack::weight_range;
use crate::ir::{Graph, Node};
use crate::observe::Observations;

/// The calibration samples that estimate bias correction and those held out to judge it.
fn split(n: usize) -> (Vec<usize>, Vec<usize>) {
    (0..n).partition(|s| s % 4 != 3)
}

/// Rounds the weights of `node` (a conv or dense layer) to `bits` from its `n` input samples of logical shape
/// `shape` in the quantized (`xq`) and float (`xf`) networks. `s_in` and `mean` are what the quantizer is given
/// (the input scale and the layer's mean input patch for bias correction).
#[allow(clippy::too_many_arguments)]
pub fn round_layer(
    node: &Node,
    shape: &[usize],
    bits: u8,
    s_in: f64,
    mean: Option<&[f64]>,
    (xq, xf): (&[f32], &[f32]),
    n: usize,
    settings: &Settings,
) -> Rounded {
    let layer = LayerRows::of(&node.op).expect("a layer with weights");
    let k = layer.k;
    let nearest = quantize_layer(&layer, bits, s_in, None, None);
    let (fit, held_out) = split(n);
    let (fit, held_out) = (statistics(&node.op, shape, xq, xf, &fit), statistics(&node.op, shape, xq, xf, &held_out));
    let per_group = layer.rows / fit.len().max(1);
    let mut values = Vec::with_capacity(layer.rows * k);
    for (g, (a, b)) in fit.iter().zip(&held_out).enumerate() {
        // The rounding learns from every sample.
        let grams = Grams::pooled(a, b, (n - n / 4) as f32 / n.max(1) as f32);
        let rows = g * per_group..(g + 1) * per_group;
        let weights = &layer.weights[rows.start * k..rows.end * k];
        values.extend(round_rows(weights, &nearest.scales[rows], weight_range(bits), &grams, settings));
    }
    let mut rounded = Rounded { bits, values, bias_correction: vec![false; layer.rows] };
    if mean.is_none() || n < 4 {
        return rounded;
    }
    // Bias correction adds d = -E[(w~ - w)'xf] to a channel's output. Estimated on the fit samples alone, it
    // changes the held-out loss E[(e + d)^2] by d (2 E[e] + d), e being the channel's output error w~'xq - w'xf;
    // the quantizer's correction (from every sample) is kept where that is negative.
    for r in 0..layer.rows {
        let (a, b) = (&fit[r / per_group], &held_out[r / per_group]);
        let (w, q) = (&layer.weights[r * k..(r + 1) * k], &rounded.values[r * k..(r + 1) * k]);
        let scale = nearest.scales[r] as f64;
        let (mut d, mut e) = (0.0f64, 0.0f64);
        for j in 0..k {
            let (wq, wf) = (scale * q[j] as f64, w[j] as f64);
            d -= (wq - wf) * a.mean_f[j] as f64;
            e += wq * b.mean_q[j] as f64 - wf * b.mean_f[j] as f64;
        }
        rounded.bias_correction[r] = d * (2.0 * e + d) < 0.0;
    }
    rounded
}

/// Multiply-adds of the optimisation above which a layer is rounded to nearest: about a minute on two cores.
const MAX_WORK: f64 = 2e12;

/// Why a layer is too large to round with AdaRound here, if it is: its Gram matrices (fit, held-out and pooled
/// sets) would not fit in memory, or the optimisation would take too long.
pub fn too_large(node: &Node, settings: &Settings) -> Option<String> {
    let layer = LayerRows::of(&node.op)?;
    let groups = match &node.op {
        crate::ir::Op::Conv(c) => c.groups,
        _ => 1,
    } as u64;
    let (rows, k) = (layer.rows as u64, layer.k as u64);
    let bytes = crate::limits::array_bytes([groups, 6, k, k], 4);
    if let Some(why) = crate::limits::exceeds(bytes) {
        return Some(format!("its {groups} x 6 Gram matrices of {k} x {k} {why}"));
    }
    let work = rows as f64 * (k * k) as f64 * settings.iterations as f64;
    (work > MAX_WORK)
        .then(|| format!("{rows} rows of {k} weights need {work:.1e} multiply-adds (the limit is {MAX_WORK:.0e})"))
}

/// AdaRound for every conv and dense layer below 8 bits, in execution order, on the calibration samples `calib`.
/// Returns the rounding per layer name, for `QuantOptions::rounded`; `progress` gets a line per layer.
pub fn round_graph(
    graph: &Graph,
    obs: &Observations,
    calib: &Samples,
    options: &QuantOptions,
    settings: &Settings,
    progress: &dyn Fn(&str),
) -> Result<BTreeMap<String, Rounded>> {
    let wanted: Vec<usize> = (0..graph.nodes.len())
        .filter(|&ix| {
            let node = &graph.nodes[ix];
            LayerRows::of(&node.op).is_some() && options.bits.for_layer(&node.name) < 8
        })
        .collect();
    if wanted.is_empty() {
        return Ok(options.rounded.clone());
    }
    let inputs: Vec<usize> = wanted.iter().map(|&ix| graph.nodes[ix].inputs[0]).collect();
    let mut float: HashMap<usize, Vec<f32>> = HashMap::new();
    crate::exec::run_observed(graph, calib, &mut |t, v| {
        if inputs.contains(&t) {
            float.insert(t, v.to_vec());
        }
    })?;
    let mut options = options.clone();
    let mut qgraph = quantize(graph, obs, &options)?;
    let n = calib.n;
    let mut values: Vec<Option<Vec<i8>>> = vec![None; graph.tensors.len()];
    values[graph.input] = Some(interp::quantize_input(&qgraph, calib)?);
    let last = wanted.last().map_or(0, |&ix| ix + 1);
    for (ix, node) in graph.nodes.iter().enumerate().take(last) {
        if let Some(done) = wanted.iter().position(|&w| w == ix) {
            let started = Instant::now();
            let layer = format!("adaround {}/{}: '{}'", done + 1, wanted.len(), node.name);
            match too_large(node, settings) {
                Some(why) => progress(&format!("{layer} rounded to nearest: {why}")),
                None => {
                    let t = node.inputs[0];
                    let xq = interp::dequantize(&qgraph, t, values[t].as_deref().expect("computed before use"));
                    let bits = options.bits.for_layer(&node.name);
                    let s_in = qgraph.tensor(t).q.scale as f64;
                    let mean = obs.input_means[ix].as_deref().filter(|_| options.bias_correction);
                    let shape = &graph.tensor(t).shape;
                    let rounded = round_layer(node, shape, bits, s_in, mean, (&xq, &float[&t]), n, settings);
                    options.rounded.insert(node.name.clone(), rounded);
                    qgraph = quantize(graph, obs, &options)?;
                    progress(&format!("{layer} at {bits} bits, {:.1} s", started.elapsed().as_secs_f64()));
                }
            }
        }
        let ins: Vec<&[i8]> = node.inputs.iter().map(|&t| values[t].as_deref().expect("computed before use")).collect();
        values[node.output] = Some(interp::run_node(&qgraph, ix, &ins, n));
    }
    Ok(options.rounded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Clamp, Dense, Op};
    use crate::testing::values;

    #[test]
    fn bias_correction_stays_where_it_lowers_the_held_out_loss() {
        let (k, rows, n) = (16, 24, 40);
        // The quantized network's inputs carry noise and a per-feature offset, so that the rounding's error and the
        // correction interact.
        let (xf, noise) = (values(n * k, 11), values(n * k, 12));
        let xq: Vec<f32> = xf
            .iter()
            .zip(&noise)
            .enumerate()
            .map(|(i, (x, e))| x + 0.2 * e + 0.1 * (i % k) as f32 / k as f32)
            .collect();
        let weight = values(rows * k, 13);
        let op = Op::Dense(Dense { weight: weight.clone(), bias: vec![0.0; rows], k, n_out: rows, act: Clamp::NONE });
        let node = Node { name: "fc".into(), op, inputs: vec![0], output: 1 };
        let (fit, held_out) = split(n);
        // The quantizer's mean patch from the fit samples alone: its correction is then the one judged.
        let mean: Vec<f64> =
            (0..k).map(|j| fit.iter().map(|&s| xf[s * k + j] as f64).sum::<f64>() / fit.len() as f64).collect();
        let settings = Settings { iterations: 300, ..Settings::default() };
        let s_in = 1.0 / 64.0;
        let rounded = round_layer(&node, &[1, k], 2, s_in, Some(&mean), (&xq, &xf), n, &settings);
        let layer = LayerRows::of(&node.op).unwrap();
        let all = Rounded { bias_correction: vec![true; rows], ..rounded.clone() };
        let corrected = quantize_layer(&layer, 2, s_in, Some(&mean), Some(&all));
        for r in 0..rows {
            // The held-out loss of channel r, summed over the samples directly.
            let loss = |bias: f64| -> f64 {
                let dot = |w: &dyn Fn(usize) -> f64, x: &[f32], s: usize| -> f64 {
                    (0..k).map(|j| w(j) * x[s * k + j] as f64).sum()
                };
                let quantized = |j: usize| corrected.values[r * k + j] as f64 * corrected.scales[r] as f64;
                let float = |j: usize| weight[r * k + j] as f64;
                held_out.iter().map(|&s| (dot(&quantized, &xq, s) + bias - dot(&float, &xf, s)).powi(2)).sum()
            };
            let lowers = loss(corrected.bias[r]) < loss(0.0);
            assert_eq!(rounded.bias_correction[r], lowers, "channel {r}");
        }
        let kept = rounded.bias_correction.iter().filter(|&&c| c).count();
        assert!(kept > 0 && kept < rows, "{kept} of {rows} channels keep the correction: both cases should occur");
    }

    #[test]
    fn layers_too_large_to_learn_their_rounding_say_why() {
        let dense = |k: usize, n_out: usize| Node {
            name: "fc".into(),
            op: Op::Dense(Dense { weight: vec![0.0; k * n_out], bias: vec![0.0; n_out], k, n_out, act: Clamp::NONE }),
            inputs: vec![0],
            output: 1,
        };
        let settings = Settings::default();
        assert_eq!(too_large(&dense(576, 64), &settings), None);
        // 64 rows of 4096 weights: 64 * 4096^2 * 2000 = 2.1e12 multiply-adds.
        let why = too_large(&dense(4096, 64), &settings).unwrap();
        assert!(why.contains("64 rows of 4096 weights need 2.1e12 multiply-adds"), "{why}");
        let fewer = Settings { iterations: 1000, ..settings };
        assert_eq!(too_large(&dense(4096, 64), &fewer), None);
    }
}
