//! Float execution of the IR on a batch: the import's check against tract, the feature extractor of the search,
//! and the float reference that quantization is measured against.

mod conv;
pub(crate) use conv::valid_range;
mod elementwise;
pub(crate) mod gemm;
mod pool;

use crate::data::Samples;
use crate::error::{Error, Result};
use crate::ir::given::fake_quantize;
use crate::ir::{row_major_strides, strided_offsets, Graph, Op, TensorId};

/// The outputs of a run: `n` samples of the graph output, sample-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Outputs {
    pub n: usize,
    pub sample_len: usize,
    pub data: Vec<f32>,
}

impl Outputs {
    pub fn sample(&self, i: usize) -> &[f32] {
        &self.data[i * self.sample_len..(i + 1) * self.sample_len]
    }

    /// Index of the largest value of each sample (first on ties).
    pub fn top1(&self) -> Vec<usize> {
        (0..self.n).map(|i| argmax(self.sample(i))).collect()
    }
}

pub fn argmax(v: &[f32]) -> usize {
    v.iter().enumerate().fold(0, |best, (i, &x)| if x > v[best] { i } else { best })
}

/// Runs the graph on every sample, each core taking a share of the samples through the whole graph (so a
/// sample's tensors stay in its core's caches).
pub fn run(graph: &Graph, input: &Samples) -> Result<Outputs> {
    let len = input.sample_len();
    let parts = crate::parallel::split_samples(input.n, |range| {
        let part = Samples {
            n: range.len(),
            sample_shape: input.sample_shape.clone(),
            data: input.data[range.start * len..range.end * len].to_vec(),
        };
        run_observed(graph, &part, &mut |_, _| {})
    });
    let mut data = Vec::new();
    for part in parts {
        data.extend(part?.data);
    }
    Ok(Outputs { n: input.n, sample_len: graph.tensor(graph.output).elems(), data })
}

/// Runs the graph, calling `observe(tensor, values)` with the input and then each node's output for the whole
/// batch (sample-major) as soon as it is computed. Tensors are freed after their last use.
pub fn run_observed(graph: &Graph, input: &Samples, observe: &mut dyn FnMut(TensorId, &[f32])) -> Result<Outputs> {
    if input.sample_shape != graph.input_shape() {
        return Err(Error::input(format!(
            "inputs of shape {:?} do not fit the model input {:?}",
            input.sample_shape,
            graph.input_shape()
        )));
    }
    let n = input.n;
    let last_use = last_uses(graph);
    let given = graph.given_params();
    let mut values: Vec<Option<Vec<f32>>> = vec![None; graph.tensors.len()];
    let mut data = input.data.clone();
    fake_quantize(given[graph.input], &mut data);
    observe(graph.input, &data);
    values[graph.input] = Some(data);
    for (ix, node) in graph.nodes.iter().enumerate() {
        let out_len = graph.tensor(node.output).elems();
        let shapes: Vec<&[usize]> = node.inputs.iter().map(|&t| graph.tensor(t).shape.as_slice()).collect();
        let out_shape = graph.tensor(node.output).shape.as_slice();
        let result = if node.op == Op::Reshape && last_use[node.inputs[0]] == ix && node.inputs[0] != graph.output {
            values[node.inputs[0]].take().expect("inputs are computed before use")
        } else {
            let ins: Vec<&[f32]> =
                node.inputs.iter().map(|&t| values[t].as_deref().expect("inputs are computed before use")).collect();
            let mut out = vec![0.0f32; n * out_len];
            compute(&node.op, &ins, &shapes, out_shape, n, &mut out);
            fake_quantize(given[node.output], &mut out);
            out
        };
        observe(node.output, &result);
        values[node.output] = Some(result);
        for &t in &node.inputs {
            if last_use[t] == ix && t != graph.output {
                values[t] = None;
            }
        }
    }
    let data = values[graph.output].take().ok_or_else(|| Error::internal("the graph output was never computed"))?;
    Ok(Outputs { n, sample_len: graph.tensor(graph.output).elems(), data })
}

/// Every tensor's values on the batch (the input included), kept for `run_suffix`.
pub fn run_keep_all(graph: &Graph, input: &Samples) -> Result<Vec<Vec<f32>>> {
    let mut values = vec![Vec::new(); graph.tensors.len()];
    run_observed(graph, input, &mut |t, v| values[t] = v.to_vec())?;
    Ok(values)
}

/// The graph output on a batch of `n` samples when node `from` computes `op` instead of its own op. Tensors
/// computed before `from` are read from `stored` (from `run_keep_all` on the same batch), so only the nodes from
/// `from` on run again.
pub fn run_suffix(graph: &Graph, stored: &[Vec<f32>], n: usize, from: usize, op: &Op) -> Vec<f32> {
    let given = graph.given_params();
    let mut fresh: Vec<Option<Vec<f32>>> = vec![None; graph.tensors.len()];
    for (ix, node) in graph.nodes.iter().enumerate().skip(from) {
        let ins: Vec<&[f32]> =
            node.inputs.iter().map(|&t| fresh[t].as_deref().unwrap_or(stored[t].as_slice())).collect();
        let shapes: Vec<&[usize]> = node.inputs.iter().map(|&t| graph.tensor(t).shape.as_slice()).collect();
        let mut out = vec![0.0f32; n * graph.tensor(node.output).elems()];
        let op = if ix == from { op } else { &node.op };
        compute(op, &ins, &shapes, &graph.tensor(node.output).shape, n, &mut out);
        fake_quantize(given[node.output], &mut out);
        fresh[node.output] = Some(out);
    }
    fresh[graph.output].take().unwrap_or_else(|| stored[graph.output].clone())
}

/// For each tensor, the index of the last node reading it.
fn last_uses(graph: &Graph) -> Vec<usize> {
    let mut last = vec![0; graph.tensors.len()];
    for (ix, node) in graph.nodes.iter().enumerate() {
        for &t in &node.inputs {
            last[t] = ix;
        }
    }
    last
}

/// One op on a batch: `ins[i]` holds `n` samples of shape `shapes[i]`, `out` n samples of `out_shape`.
fn compute(op: &Op, ins: &[&[f32]], shapes: &[&[usize]], out_shape: &[usize], n: usize, out: &mut [f32]) {
    match op {
        Op::Conv(c) => conv::conv(c, ins[0], shapes[0], out_shape, n, out),
        Op::Dense(d) => conv::dense(d, ins[0], out),
        Op::Affine(a) => elementwise::affine(a, ins[0], out_shape, out),
        Op::Add { act } => elementwise::binary(ins, shapes, out_shape, n, out, |a, b| act.apply(a + b)),
        Op::Mul { act } => elementwise::binary(ins, shapes, out_shape, n, out, |a, b| act.apply(a * b)),
        Op::Unary(f) => out.iter_mut().zip(ins[0]).for_each(|(o, &x)| *o = f.apply(x)),
        Op::MaxPool(p) => pool::pool(p, true, ins[0], shapes[0], out_shape, out),
        Op::AvgPool(p) => pool::pool(p, false, ins[0], shapes[0], out_shape, out),
        Op::GlobalAvgPool => pool::global_average(ins[0], shapes[0], n, out),
        Op::Pad { pads, value } => pool::pad(*pads, *value, ins[0], shapes[0], out_shape, out),
        Op::Concat { axis } => elementwise::concat(*axis, ins, shapes, n, out),
        Op::Reshape => out.copy_from_slice(ins[0]),
        Op::Softmax { axis } => elementwise::softmax(*axis, ins[0], out_shape, out),
        Op::LogSoftmax { axis } => elementwise::log_softmax(*axis, ins[0], out_shape, out),
        Op::Resize(r) => pool::resize(r, ins[0], shapes[0], out),
        Op::Normalize(norm) => elementwise::normalize(norm, ins[0], shapes[0], out),
        Op::Lrn(l) => elementwise::lrn(l, ins[0], shapes[0], out),
        Op::Reduce { kind, axes } => elementwise::reduce(*kind, axes, ins[0], shapes[0], out),
        Op::View(v) => {
            let (base, strides) = v.strides(&row_major_strides(shapes[0]));
            let offsets = strided_offsets(out_shape, base, &strides);
            let (in_len, out_len) = (shapes[0].iter().product::<usize>(), offsets.len());
            for (x, y) in ins[0].chunks(in_len).zip(out.chunks_mut(out_len)) {
                y.iter_mut().zip(&offsets).for_each(|(o, &i)| *o = x[i]);
            }
        }
    }
}

/// (channels, height, width) of a rank-3 ([1, C, L]: height 1) or rank-4 tensor.
pub(crate) fn chw(shape: &[usize]) -> (usize, usize, usize) {
    match shape {
        [_, c, w] => (*c, 1, *w),
        [_, c, h, w] => (*c, *h, *w),
        _ => panic!("spatial op on a tensor of shape {shape:?}; the importer only builds rank 3 and 4"),
    }
}
