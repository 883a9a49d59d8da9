//! The integer reference interpreter: the one definition of ompqc's numbers. Generated C and Rust must equal it
//! byte for byte. Straightforward loops over channels-last int8 tensors, one kernel per op family serving every
//! weight width (weights are unpacked from the same packed rows the emitters store).

mod kernels;

use crate::data::Samples;
use crate::error::{Error, Result};
use crate::ir::quant::{Layout, QGraph};
use crate::ir::TensorId;

/// Quantizes float model inputs (logical layout, as in the .npy) to the int8 storage layout of the input tensor.
pub fn quantize_input(graph: &QGraph, samples: &Samples) -> Result<Vec<i8>> {
    let input = graph.tensor(graph.input);
    if samples.sample_shape != input.shape {
        return Err(Error::input(format!(
            "inputs of shape {:?} do not fit the model input {:?}",
            samples.sample_shape, input.shape
        )));
    }
    let mut out = Vec::with_capacity(samples.data.len());
    for i in 0..samples.n {
        let q: Vec<i8> = samples.sample(i).iter().map(|&x| input.q.quantize(x)).collect();
        out.extend(Layout::to_storage(&q, &input.shape));
    }
    Ok(out)
}

/// Dequantizes samples of tensor `id` from storage to logical order.
pub fn dequantize(graph: &QGraph, id: TensorId, data: &[i8]) -> Vec<f32> {
    let t = graph.tensor(id);
    let len = t.elems();
    data.chunks(len).flat_map(|s| Layout::to_logical(s, &t.shape)).map(|q| t.q.dequantize(q)).collect()
}

/// Runs `n` samples (storage order, sample-major) and returns the output tensor's samples; each core takes a
/// share of the samples through the whole graph.
pub fn run(graph: &QGraph, input: &[i8], n: usize) -> Vec<i8> {
    let len = graph.tensor(graph.input).elems();
    crate::parallel::split_samples(n, |range| {
        run_observed(graph, &input[range.start * len..range.end * len], range.len(), &mut |_, _| {})
    })
    .concat()
}

/// Runs node `ix` alone on `n` samples of its inputs (storage order).
pub fn run_node(graph: &QGraph, ix: usize, ins: &[&[i8]], n: usize) -> Vec<i8> {
    let node = &graph.nodes[ix];
    let mut out = vec![0i8; n * graph.tensor(node.output).elems()];
    kernels::compute(graph, node, ins, n, &mut out);
    out
}

/// Runs the graph, calling `observe(tensor, values)` for the input and each node output as it is computed.
pub fn run_observed(graph: &QGraph, input: &[i8], n: usize, observe: &mut dyn FnMut(TensorId, &[i8])) -> Vec<i8> {
    assert_eq!(input.len(), n * graph.tensor(graph.input).elems(), "input size");
    let mut last_use = vec![0; graph.tensors.len()];
    for (ix, node) in graph.nodes.iter().enumerate() {
        node.inputs.iter().for_each(|&t| last_use[t] = ix);
    }
    let mut values: Vec<Option<Vec<i8>>> = vec![None; graph.tensors.len()];
    observe(graph.input, input);
    values[graph.input] = Some(input.to_vec());
    for (ix, node) in graph.nodes.iter().enumerate() {
        let ins: Vec<&[i8]> = node.inputs.iter().map(|&t| values[t].as_deref().expect("computed before use")).collect();
        let mut out = vec![0i8; n * graph.tensor(node.output).elems()];
        kernels::compute(graph, node, &ins, n, &mut out);
        observe(node.output, &out);
        values[node.output] = Some(out);
        for &t in &node.inputs {
            if last_use[t] == ix && t != graph.output {
                values[t] = None;
            }
        }
    }
    values[graph.output].take().expect("the output is computed")
}
