//! ompqc's float IR: a single-input, single-output graph of coarse ops in execution order.
//!
//! Shapes are ONNX's logical shapes with the batch pinned to 1 (NCHW for images); the layout of the generated
//! code is a later decision. Constant subgraphs are already folded, BatchNormalization is folded into the op
//! before it (or kept as an `Affine`), and clamping activations (ReLU, ReLU6, Clip) are fused into the op that
//! produces their input. Other nonlinearities stay `Unary` nodes: in integer form they are tables applied to a
//! quantized tensor, so they need a tensor of their own.

pub mod broadcast;
pub mod fixed_point;
pub mod given;
mod ops;
pub mod pack;
pub mod passes;
pub mod quant;
pub mod resample;

pub use ops::*;

pub type TensorId = usize;

#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// Logical shape, batch first and pinned to 1.
    pub shape: Vec<usize>,
}

impl TensorInfo {
    /// Elements of one sample.
    pub fn elems(&self) -> usize {
        self.shape.iter().product()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// The ONNX node name (or, where the source had none, its first output's name).
    pub name: String,
    pub op: Op,
    pub inputs: Vec<TensorId>,
    pub output: TensorId,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    pub tensors: Vec<TensorInfo>,
    /// Topologically sorted: the order the nodes run in.
    pub nodes: Vec<Node>,
    pub input: TensorId,
    pub output: TensorId,
    /// The quantization a QDQ model brings (`None` for a float model).
    pub given: Option<given::GivenQuant>,
}

impl Graph {
    pub fn tensor(&self, id: TensorId) -> &TensorInfo {
        &self.tensors[id]
    }

    pub fn input_shape(&self) -> &[usize] {
        &self.tensors[self.input].shape
    }

    pub fn output_shape(&self) -> &[usize] {
        &self.tensors[self.output].shape
    }

    /// The nodes reading tensor `id`.
    pub fn consumers(&self, id: TensorId) -> impl Iterator<Item = usize> + '_ {
        self.nodes.iter().enumerate().filter(move |(_, n)| n.inputs.contains(&id)).map(|(i, _)| i)
    }

    /// How many readers tensor `id` has, counting the graph output as one.
    pub fn use_count(&self, id: TensorId) -> usize {
        self.consumers(id).count() + usize::from(id == self.output)
    }

    /// Multiply-accumulates of one inference of node `ix`.
    pub fn macs(&self, ix: usize) -> u64 {
        let node = &self.nodes[ix];
        let out = self.tensor(node.output);
        match &node.op {
            Op::Conv(c) => out.elems() as u64 / c.c_out as u64 * c.weight.len() as u64,
            Op::Dense(d) => out.elems() as u64 * d.k as u64,
            _ => 0,
        }
    }

    pub fn total_macs(&self) -> u64 {
        (0..self.nodes.len()).map(|i| self.macs(i)).sum()
    }

    pub fn total_params(&self) -> usize {
        self.nodes.iter().map(|n| n.op.params()).sum()
    }
}
