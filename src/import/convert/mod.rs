//! One ONNX node -> one IR op, following the ONNX operator specification for each op type.
//! Folding (BatchNormalization into convolutions, pads into convolutions, clamps into producers) is not done
//! here but in `ir::passes`, so every rule stays local.

use tract_onnx::pb;

mod conv_transpose;
mod layers;
mod norm;
mod resize;
mod slice;
mod tensors;

use conv_transpose::conv_transpose;
use layers::{batch_norm, conv, gemm, matmul};
use norm::{instance_norm, layer_norm, lrn};
use resize::resize;
use slice::{slice, split};
use tensors::{
    arithmetic, cast, clip, concat, global_average_pool, global_max_pool, pad, pool, reduce, reshape, softmax,
    transpose, unary,
};

use super::facts::Facts;
use super::Value;
use crate::ir::{Affine, Clamp, MathFn, Op, ReduceKind, UnaryFn, Window};

pub enum Converted {
    /// The IR op and the indices of the node inputs that are its activation inputs, in order.
    Op(Op, Vec<usize>),
    /// Several IR ops computing the node, in order; the last one's output is the node's.
    Chain(Vec<Step>),
    /// One op per node output, each reading node input `usize` (Split).
    Outputs(Vec<Op>, usize),
    /// The output is input `i` unchanged (Identity, Dropout, float-to-float Cast).
    Alias(usize),
}

/// One op of a chain: what it reads, and (except the last, whose shape is the node's output's) its output shape and
/// the suffix naming it after the node ("NODE/suffix").
pub struct Step {
    pub op: Op,
    pub inputs: Vec<Source>,
    pub shape: Vec<usize>,
    pub suffix: &'static str,
}

impl Step {
    /// The chain's last op, which produces the node's output.
    pub fn last(op: Op, inputs: Vec<Source>) -> Step {
        Step { op, inputs, shape: vec![], suffix: "" }
    }
}

/// Where a chain's op reads an input: a node input (an activation), or an earlier op's output.
#[derive(Clone, Copy)]
pub enum Source {
    Input(usize),
    Step(usize),
}

pub enum Skip {
    /// ompqc cannot compile this node, for this reason.
    Unsupported(String),
    /// An input comes from a node that was not converted; that node is reported instead.
    Upstream,
    /// ompqc has no such operator (reported even downstream of another failure).
    UnknownOp,
}

pub type Conversion = Result<Converted, Skip>;

pub struct Ctx<'a> {
    pub node: &'a pb::NodeProto,
    pub facts: &'a Facts,
    pub opset: i64,
    pub inputs: &'a [Option<Value>],
}

fn unsupported<T>(reason: impl Into<String>) -> Result<T, Skip> {
    Err(Skip::Unsupported(reason.into()))
}

pub fn convert(ctx: &Ctx) -> Conversion {
    match ctx.node.op_type.as_str() {
        "Conv" => conv(ctx),
        "ConvTranspose" => conv_transpose(ctx),
        "Gemm" => gemm(ctx),
        "MatMul" => matmul(ctx),
        "BatchNormalization" => batch_norm(ctx),
        "Add" | "Sub" | "Mul" | "Div" => arithmetic(ctx),
        "Relu" => unary(ctx, UnaryFn::Clamp(Clamp::RELU)),
        "Clip" => clip(ctx),
        "LeakyRelu" => unary(ctx, UnaryFn::LeakyRelu { alpha: ctx.attr_f("alpha").unwrap_or(0.01) }),
        "Sigmoid" => unary(ctx, UnaryFn::Sigmoid),
        "Tanh" => unary(ctx, UnaryFn::Tanh),
        "HardSigmoid" => unary(
            ctx,
            UnaryFn::HardSigmoid { alpha: ctx.attr_f("alpha").unwrap_or(0.2), beta: ctx.attr_f("beta").unwrap_or(0.5) },
        ),
        "HardSwish" => unary(ctx, UnaryFn::HardSwish),
        "Elu" => unary(ctx, UnaryFn::Elu { alpha: ctx.attr_f("alpha").unwrap_or(1.0) }),
        "Selu" => unary(
            ctx,
            UnaryFn::Selu {
                alpha: ctx.attr_f("alpha").unwrap_or(1.673_263_2),
                gamma: ctx.attr_f("gamma").unwrap_or(1.050_701),
            },
        ),
        "Celu" => unary(ctx, UnaryFn::Celu { alpha: ctx.attr_f("alpha").unwrap_or(1.0) }),
        "Softplus" => unary(ctx, UnaryFn::Softplus),
        "Softsign" => unary(ctx, UnaryFn::Softsign),
        "Gelu" => gelu(ctx),
        "Mish" => unary(ctx, UnaryFn::Mish),
        "ThresholdedRelu" => unary(ctx, UnaryFn::ThresholdedRelu { alpha: ctx.attr_f("alpha").unwrap_or(1.0) }),
        "PRelu" => prelu(ctx),
        "Swish" => unary(ctx, UnaryFn::Swish { alpha: ctx.attr_f("alpha").unwrap_or(1.0) }),
        "Shrink" => unary(
            ctx,
            UnaryFn::Shrink { lambd: ctx.attr_f("lambd").unwrap_or(0.5), bias: ctx.attr_f("bias").unwrap_or(0.0) },
        ),
        "Sum" => sum(ctx),
        "Pow" => pow(ctx),
        "Max" | "Min" | "Mean" => one_input(ctx),
        "MaxPool" => pool(ctx, true),
        "AveragePool" => pool(ctx, false),
        "GlobalAveragePool" => global_average_pool(ctx),
        "GlobalMaxPool" => global_max_pool(ctx),
        "ReduceMean" => reduce(ctx, ReduceKind::Mean),
        "ReduceMax" => reduce(ctx, ReduceKind::Max),
        "ReduceMin" => reduce(ctx, ReduceKind::Min),
        "Flatten" | "Reshape" | "Squeeze" | "Unsqueeze" => reshape(ctx),
        "Transpose" => transpose(ctx),
        "Concat" => concat(ctx),
        "Pad" => pad(ctx),
        "Softmax" => softmax(ctx, false),
        "LogSoftmax" => softmax(ctx, true),
        "Resize" | "Upsample" => resize(ctx),
        "Slice" => slice(ctx),
        "LayerNormalization" => layer_norm(ctx),
        "InstanceNormalization" => instance_norm(ctx),
        "LRN" => lrn(ctx),
        "Split" => split(ctx),
        "Identity" => Ok(Converted::Alias(ctx.activation(0)?)),
        "Dropout" => dropout(ctx),
        "Cast" => cast(ctx),
        op => match MathFn::from_onnx(op) {
            Some(f) => unary(ctx, UnaryFn::Math(f)),
            None => Err(Skip::UnknownOp),
        },
    }
}

impl Ctx<'_> {
    fn input_name(&self, i: usize) -> Option<&str> {
        self.node.input.get(i).map(|s| s.as_str()).filter(|s| !s.is_empty())
    }

    /// Input `i`, which must be an activation.
    fn activation(&self, i: usize) -> Result<usize, Skip> {
        match self.inputs.get(i) {
            Some(Some(Value::Tensor(_))) => Ok(i),
            Some(Some(Value::Failed)) => Err(Skip::Upstream),
            Some(Some(_)) => unsupported(format!("input {i} is a constant where ompqc expects the running tensor")),
            _ => unsupported(format!("input {i} is missing")),
        }
    }

    fn is_const(&self, i: usize) -> bool {
        matches!(self.inputs.get(i), Some(Some(Value::Const)))
    }

    /// Input `i` as a float constant, with its shape.
    fn const_f32(&self, i: usize, what: &str) -> Result<(Vec<usize>, Vec<f32>), Skip> {
        let name = self.input_name(i).ok_or_else(|| Skip::Unsupported(format!("{what} is missing")))?;
        if !self.is_const(i) {
            return unsupported(format!("{what} '{name}' must be a constant"));
        }
        self.facts.const_f32(name).ok_or_else(|| Skip::Unsupported(format!("{what} '{name}' is not numeric")))
    }

    /// Optional input `i` as integers; `None` when absent.
    fn const_ints(&self, i: usize, what: &str) -> Result<Option<Vec<i64>>, Skip> {
        let Some(name) = self.input_name(i) else {
            return Ok(None);
        };
        if !self.is_const(i) {
            return unsupported(format!("{what} '{name}' must be a constant"));
        }
        self.facts.const_i64(name).map(Some).ok_or_else(|| Skip::Unsupported(format!("{what} '{name}' is not integer")))
    }

    fn shape_of(&self, name: &str) -> Result<Vec<usize>, Skip> {
        let shape = self.facts.shape(name).ok_or_else(|| {
            Skip::Unsupported(format!("the shape of '{name}' could not be inferred{}", self.facts.why()))
        })?;
        if shape.contains(&0) {
            return unsupported(format!("'{name}' has an empty shape {shape:?}"));
        }
        Ok(shape)
    }

    fn in_shape(&self, i: usize) -> Result<Vec<usize>, Skip> {
        self.shape_of(self.input_name(i).unwrap_or(""))
    }

    /// The shape of an image op's input, which must hold one image: the kernels index [1, C, H, W]. A leading axis
    /// above 1 inside the graph (time folded into the batch, as TimeDistributed layers export) is refused.
    fn image_shape(&self, i: usize) -> Result<Vec<usize>, Skip> {
        let shape = self.in_shape(i)?;
        match shape.first() {
            Some(&n) if n != 1 => unsupported(format!(
                "input of shape {shape:?} holds {n} images along its leading axis; image ops run one (a Reshape \
                 folding another axis into the batch before them is not supported)"
            )),
            _ => Ok(shape),
        }
    }

    fn out_shape(&self) -> Result<Vec<usize>, Skip> {
        self.shape_of(&self.node.output[0])
    }

    fn attr(&self, name: &str) -> Option<&pb::AttributeProto> {
        self.node.attribute.iter().find(|a| a.name == name)
    }

    fn attr_i(&self, name: &str) -> Option<i64> {
        self.attr(name).map(|a| a.i)
    }

    fn attr_f(&self, name: &str) -> Option<f32> {
        self.attr(name).map(|a| a.f)
    }

    fn attr_ints(&self, name: &str) -> Option<Vec<i64>> {
        self.attr(name).map(|a| a.ints.clone())
    }

    fn attr_s(&self, name: &str) -> Option<String> {
        self.attr(name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }

    /// A list attribute of non-negative values of length `n`, or `default` when absent.
    fn attr_dims(&self, name: &str, n: usize, default: usize) -> Result<Vec<usize>, Skip> {
        match self.attr_ints(name) {
            None => Ok(vec![default; n]),
            Some(v) if v.len() == n && v.iter().all(|&x| x >= 0) => Ok(v.iter().map(|&x| x as usize).collect()),
            Some(v) => unsupported(format!("attribute {name} = {v:?} does not fit {n} spatial axes")),
        }
    }
}

/// Sum of one input is that input; of two, an Add (of activations, or with a constant); more are refused.
fn sum(ctx: &Ctx) -> Conversion {
    match ctx.inputs.len() {
        1 => Ok(Converted::Alias(ctx.activation(0)?)),
        2 => arithmetic(ctx),
        n => unsupported(format!("a Sum of {n} inputs is not supported (of one or two is)")),
    }
}

/// Max, Min and Mean of one input are that input; of more (elementwise between activations) they are refused.
fn one_input(ctx: &Ctx) -> Conversion {
    match ctx.inputs.len() {
        1 => Ok(Converted::Alias(ctx.activation(0)?)),
        n => unsupported(format!("{} of {n} inputs is not supported (of one is)", ctx.node.op_type)),
    }
}

/// Pow of an activation by one constant exponent (a table in the integer model); other forms are refused.
fn pow(ctx: &Ctx) -> Conversion {
    let (shape, e) = ctx.const_f32(1, "the exponent")?;
    match e.first() {
        Some(&exponent) if e.iter().all(|&v| v == exponent) => unary(ctx, UnaryFn::Pow { exponent }),
        _ => unsupported(format!("an exponent of shape {shape:?} that varies is not supported (one exponent is)")),
    }
}

fn gelu(ctx: &Ctx) -> Conversion {
    match ctx.attr_s("approximate").as_deref().unwrap_or("none") {
        "none" => unary(ctx, UnaryFn::Gelu { tanh: false }),
        "tanh" => unary(ctx, UnaryFn::Gelu { tanh: true }),
        other => unsupported(format!("approximate = {other} is not an ONNX value")),
    }
}

/// PRelu with one slope for every element is a leaky ReLU (a table in the integer model); with a slope per channel
/// it is max(x, 0) + slope * min(x, 0): two clamps, a per-channel scale and an add.
fn prelu(ctx: &Ctx) -> Conversion {
    let (shape, slope) = ctx.const_f32(1, "the slope")?;
    let x = ctx.activation(0)?;
    match slope.first() {
        Some(&alpha) if slope.iter().all(|&s| s == alpha) => return unary(ctx, UnaryFn::LeakyRelu { alpha }),
        None => return unsupported("the slope is empty"),
        _ => {}
    }
    let x_shape = ctx.in_shape(0)?;
    let axis = tensors::broadcast_axis(&shape, x_shape.len())?;
    let Some(axis) = axis.filter(|&a| slope.len() == x_shape[a]) else {
        return unsupported(format!("a slope of shape {shape:?} does not broadcast onto {x_shape:?}"));
    };
    let clamp = |max: f32, min: f32| Op::Unary(UnaryFn::Clamp(Clamp { min, max }));
    let zeros = vec![0.0; slope.len()];
    let scale = Op::Affine(Affine { scale: slope, shift: zeros, axis, act: Clamp::NONE });
    let step = |op, inputs, suffix| Step { op, inputs, shape: x_shape.clone(), suffix };
    Ok(Converted::Chain(vec![
        step(clamp(0.0, f32::NEG_INFINITY), vec![Source::Input(x)], "negative"),
        step(scale, vec![Source::Step(0)], "scaled"),
        step(clamp(f32::INFINITY, 0.0), vec![Source::Input(x)], "positive"),
        Step::last(Op::Add { act: Clamp::NONE }, vec![Source::Step(2), Source::Step(1)]),
    ]))
}

/// Dropout is the identity at inference; a model exported in training mode is refused, not silently run otherwise.
fn dropout(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    if ctx.attr_i("is_test") == Some(0) {
        return unsupported("is_test = 0 (training mode): export the model for inference");
    }
    if ctx.input_name(2).is_some() {
        match ctx.const_ints(2, "training_mode") {
            Ok(Some(v)) if v.iter().all(|&t| t == 0) => {}
            Ok(_) => return unsupported("training_mode is true: export the model for inference"),
            Err(_) => return unsupported("training_mode is not a constant false: export the model for inference"),
        }
    }
    Ok(Converted::Alias(x))
}

/// Normalises an ONNX axis (possibly negative) against a rank.
fn axis(a: i64, rank: usize) -> Result<usize, Skip> {
    let r = rank as i64;
    if a < -r || a >= r {
        return unsupported(format!("axis {a} is out of range for rank {rank}"));
    }
    Ok(((a + r) % r) as usize)
}

/// The largest kernel, stride, dilation or pad accepted: far beyond any real model, and small enough that window
/// arithmetic on tensor sizes (bounded by the memory check) cannot overflow.
const MAX_WINDOW: usize = 1 << 16;

/// Spatial window geometry shared by Conv and the pools: kernel, strides, dilations and [top, left, bottom, right]
/// pads, as 2-D (a 1-D op gets a height of 1), with auto_pad resolved against the inferred shapes.
fn window(ctx: &Ctx, kernel: &[usize]) -> Result<Window, Skip> {
    let n = kernel.len();
    if !(1..=2).contains(&n) {
        return unsupported(format!("{n}-D windows are not supported (1-D and 2-D are)"));
    }
    if kernel.contains(&0) {
        return unsupported(format!("kernel {kernel:?} has an empty axis"));
    }
    let strides = ctx.attr_dims("strides", n, 1)?;
    let dilations = ctx.attr_dims("dilations", n, 1)?;
    if strides.contains(&0) || dilations.contains(&0) {
        return unsupported("strides and dilations must be positive");
    }
    let too_big = |v: &[usize]| v.iter().any(|&x| x > MAX_WINDOW);
    if too_big(kernel) || too_big(&strides) || too_big(&dilations) {
        return unsupported(format!("kernel, strides and dilations above {MAX_WINDOW} are not supported"));
    }
    let input = ctx.image_shape(0)?;
    let output = ctx.out_shape()?;
    if input.len() != n + 2 || output.len() != n + 2 {
        return unsupported(format!("expects a rank-{} input, got shape {input:?}", n + 2));
    }
    let auto_pad = ctx.attr_s("auto_pad").unwrap_or_default();
    let mut begin = vec![0; n];
    let mut end = vec![0; n];
    match auto_pad.as_str() {
        "" | "NOTSET" => {
            if ctx.attr_ints("pads").is_some() {
                let p = ctx.attr_dims("pads", 2 * n, 0)?;
                begin.copy_from_slice(&p[..n]);
                end.copy_from_slice(&p[n..]);
            }
        }
        "VALID" => {}
        "SAME_UPPER" | "SAME_LOWER" => {
            for a in 0..n {
                let span = (kernel[a] - 1) * dilations[a] + 1;
                let total = (output[a + 2].saturating_sub(1) * strides[a] + span).saturating_sub(input[a + 2]);
                let small = total / 2;
                (begin[a], end[a]) =
                    if auto_pad == "SAME_UPPER" { (small, total - small) } else { (total - small, small) };
            }
        }
        other => return unsupported(format!("auto_pad {other} is not an ONNX value")),
    }
    if too_big(&begin) || too_big(&end) {
        return unsupported(format!("pads above {MAX_WINDOW} are not supported"));
    }
    for a in 0..n {
        // The output size tract inferred must be the window's (rounded down, or up for ceil_mode pools).
        let span = (kernel[a] - 1) * dilations[a] + 1;
        let padded = input[a + 2] + begin[a] + end[a];
        let fits = padded >= span
            && [(padded - span) / strides[a] + 1, (padded - span).div_ceil(strides[a]) + 1].contains(&output[a + 2]);
        if !fits {
            return unsupported(format!(
                "output size {} along axis {} does not follow from input size {}, kernel {}, stride {}, dilation {} \
                 and pads {}+{}",
                output[a + 2],
                a + 2,
                input[a + 2],
                kernel[a],
                strides[a],
                dilations[a],
                begin[a],
                end[a]
            ));
        }
    }
    // A 1-D window is the 2-D window of height 1.
    let two = |v: &[usize], fill: usize| if n == 1 { [fill, v[0]] } else { [v[0], v[1]] };
    let (b, e) = (two(&begin, 0), two(&end, 0));
    Ok(Window {
        kernel: two(kernel, 1),
        strides: two(&strides, 1),
        dilations: two(&dilations, 1),
        pads: [b[0], b[1], e[0], e[1]],
    })
}
