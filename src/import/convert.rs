//! One ONNX node -> one IR op, following the ONNX operator specification for each op type.
//! Folding (BatchNormalization into convolutions, pads into convolutions, clamps into producers) is not done
//! here but in `ir::passes`, so every rule stays local.

use tract_onnx::pb;

use super::facts::Facts;
use super::Value;
use crate::ir::{Affine, Clamp, Conv, Dense, Op, Pool, UnaryFn, Window};

pub enum Converted {
    /// The IR op and the indices of the node inputs that are its activation inputs, in order.
    Op(Op, Vec<usize>),
    /// The output is input `i` unchanged (Identity, Dropout, float-to-float Cast).
    Alias(usize),
}

pub enum Skip {
    /// ompqc cannot compile this node, for this reason.
    Unsupported(String),
    /// An input comes from a node that was not converted; that node is reported instead.
    Upstream,
    /// ompqc has no such operator (reported even downstream of another failure).
    UnknownOp,
}

type Conversion = Result<Converted, Skip>;

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
        "MaxPool" => pool(ctx, true),
        "AveragePool" => pool(ctx, false),
        "GlobalAveragePool" => global_average_pool(ctx),
        "ReduceMean" => reduce_mean(ctx),
        "Flatten" | "Reshape" | "Squeeze" | "Unsqueeze" => reshape(ctx),
        "Transpose" => transpose(ctx),
        "Concat" => concat(ctx),
        "Pad" => pad(ctx),
        "Softmax" => softmax(ctx),
        "Identity" | "Dropout" => Ok(Converted::Alias(ctx.activation(0)?)),
        "Cast" => cast(ctx),
        _ => Err(Skip::UnknownOp),
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
    let input = ctx.in_shape(0)?;
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

fn conv(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let (wshape, weight) = ctx.const_f32(1, "the weight")?;
    if !(3..=4).contains(&wshape.len()) {
        return unsupported(format!("weight of shape {wshape:?}: only 1-D and 2-D convolutions are supported"));
    }
    let in_shape = ctx.in_shape(0)?;
    let groups = ctx.attr_i("group").unwrap_or(1);
    let c_out = wshape[0];
    let c_in = in_shape.get(1).copied().unwrap_or(0);
    if groups < 1 || c_in % groups as usize != 0 || c_out % groups as usize != 0 || wshape[1] * groups as usize != c_in
    {
        return unsupported(format!("group = {groups} does not fit weight {wshape:?} and input {in_shape:?}"));
    }
    let kernel = &wshape[2..];
    if let Some(k) = ctx.attr_ints("kernel_shape") {
        if k.iter().map(|&v| v as usize).ne(kernel.iter().copied()) {
            return unsupported(format!("kernel_shape {k:?} disagrees with the weight shape {wshape:?}"));
        }
    }
    let w = window(ctx, kernel)?;
    let bias = match ctx.input_name(2) {
        Some(_) => ctx.const_f32(2, "the bias")?.1,
        None => vec![0.0; c_out],
    };
    if bias.len() != c_out {
        return unsupported(format!("bias has {} values for {c_out} output channels", bias.len()));
    }
    let conv = Conv { weight, bias, c_in, c_out, groups: groups as usize, window: w, act: Clamp::NONE };
    Ok(Converted::Op(Op::Conv(conv), vec![x]))
}

/// A dense layer from a weight stored [k][n_out] (MatMul's B, Gemm's B without transB).
fn dense_from_kn(k: usize, n_out: usize, w: &[f32], scale: f32, bias: Vec<f32>) -> Dense {
    let mut weight = vec![0.0; k * n_out];
    for i in 0..k {
        for o in 0..n_out {
            weight[o * k + i] = w[i * n_out + o] * scale;
        }
    }
    Dense { weight, bias, k, n_out, act: Clamp::NONE }
}

/// Broadcasts a bias constant (scalar, [n] or [1, n]) to n values.
fn bias_vector(shape: &[usize], values: Vec<f32>, n: usize, scale: f32) -> Result<Vec<f32>, Skip> {
    match values.len() {
        1 => Ok(vec![values[0] * scale; n]),
        len if len == n => Ok(values.into_iter().map(|v| v * scale).collect()),
        _ => unsupported(format!("bias of shape {shape:?} does not broadcast to {n} outputs")),
    }
}

fn gemm(ctx: &Ctx) -> Conversion {
    let a = ctx.activation(0)?;
    if ctx.attr_i("transA").unwrap_or(0) != 0 {
        return unsupported("transA = 1 (a transposed activation) is not supported");
    }
    let (bshape, b) = ctx.const_f32(1, "B")?;
    if bshape.len() != 2 {
        return unsupported(format!("B of shape {bshape:?} must be 2-D"));
    }
    let alpha = ctx.attr_f("alpha").unwrap_or(1.0);
    let beta = ctx.attr_f("beta").unwrap_or(1.0);
    let trans_b = ctx.attr_i("transB").unwrap_or(0) != 0;
    let (k, n_out) = if trans_b { (bshape[1], bshape[0]) } else { (bshape[0], bshape[1]) };
    let in_shape = ctx.in_shape(0)?;
    if in_shape.len() != 2 || in_shape[1] != k {
        return unsupported(format!("A of shape {in_shape:?} does not fit B of shape {bshape:?}"));
    }
    let bias = match ctx.input_name(2) {
        Some(_) => {
            let (cshape, c) = ctx.const_f32(2, "C")?;
            bias_vector(&cshape, c, n_out, beta)?
        }
        None => vec![0.0; n_out],
    };
    let dense = if trans_b {
        Dense { weight: b.iter().map(|v| v * alpha).collect(), bias, k, n_out, act: Clamp::NONE }
    } else {
        dense_from_kn(k, n_out, &b, alpha, bias)
    };
    Ok(Converted::Op(Op::Dense(dense), vec![a]))
}

fn matmul(ctx: &Ctx) -> Conversion {
    if ctx.is_const(0) {
        return unsupported("constant x activation products are not supported (the weight must be the second input)");
    }
    let a = ctx.activation(0)?;
    if !ctx.is_const(1) {
        return unsupported("products of two activations are not supported (the second input must be a constant)");
    }
    let (bshape, b) = ctx.const_f32(1, "B")?;
    if bshape.len() != 2 {
        return unsupported(format!("B of shape {bshape:?} must be 2-D"));
    }
    let in_shape = ctx.in_shape(0)?;
    if in_shape.last() != Some(&bshape[0]) {
        return unsupported(format!("A of shape {in_shape:?} does not fit B of shape {bshape:?}"));
    }
    let dense = dense_from_kn(bshape[0], bshape[1], &b, 1.0, vec![0.0; bshape[1]]);
    Ok(Converted::Op(Op::Dense(dense), vec![a]))
}

fn batch_norm(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let c = ctx.in_shape(0)?.get(1).copied().unwrap_or(0);
    let param = |i: usize, what: &str| -> Result<Vec<f32>, Skip> {
        let (_, v) = ctx.const_f32(i, what)?;
        if v.len() != c {
            return unsupported(format!("{what} has {} values for {c} channels", v.len()));
        }
        Ok(v)
    };
    let (gamma, beta, mean, var) = (param(1, "scale")?, param(2, "bias")?, param(3, "mean")?, param(4, "variance")?);
    let eps = ctx.attr_f("epsilon").unwrap_or(1e-5);
    let scale: Vec<f32> = (0..c).map(|i| gamma[i] / (var[i] + eps).sqrt()).collect();
    let shift = (0..c).map(|i| beta[i] - mean[i] * scale[i]).collect();
    Ok(Converted::Op(Op::Affine(Affine { scale, shift, axis: 1, act: Clamp::NONE }), vec![x]))
}

/// The axis along which a constant broadcasts onto a tensor of rank `rank`: `None` for a scalar-like constant,
/// `Some(axis)` when exactly one axis has more than one value.
fn broadcast_axis(cshape: &[usize], rank: usize) -> Result<Option<usize>, Skip> {
    if cshape.len() > rank {
        return unsupported(format!("constant of shape {cshape:?} has more axes than the tensor"));
    }
    let offset = rank - cshape.len();
    let big: Vec<usize> = cshape.iter().enumerate().filter(|(_, &d)| d > 1).map(|(i, _)| i + offset).collect();
    match big.as_slice() {
        [] => Ok(None),
        [a] => Ok(Some(*a)),
        _ => unsupported(format!(
            "constant of shape {cshape:?} varies along several axes; only per-channel constants fold"
        )),
    }
}

fn arithmetic(ctx: &Ctx) -> Conversion {
    let op = ctx.node.op_type.as_str();
    if ctx.inputs.len() != 2 {
        return unsupported("expects two inputs");
    }
    let (c0, c1) = (ctx.is_const(0), ctx.is_const(1));
    if !c0 && !c1 {
        let (a, b) = (ctx.activation(0)?, ctx.activation(1)?);
        return match op {
            "Add" => Ok(Converted::Op(Op::Add { act: Clamp::NONE }, vec![a, b])),
            "Mul" => Ok(Converted::Op(Op::Mul { act: Clamp::NONE }, vec![a, b])),
            _ => unsupported(format!("{op} of two activations is not supported (only Add and Mul are)")),
        };
    }
    let (xi, ci) = if c1 { (0, 1) } else { (1, 0) };
    let x = ctx.activation(xi)?;
    let (cshape, c) = ctx.const_f32(ci, "the constant")?;
    let out_shape = ctx.out_shape()?;
    if ctx.in_shape(xi)? != out_shape {
        return unsupported(format!("the constant of shape {cshape:?} enlarges the tensor to {out_shape:?}"));
    }
    let axis = broadcast_axis(&cshape, out_shape.len())?;
    // tract's inference does not always catch a constant that does not broadcast.
    if c.len() != axis.map_or(1, |a| out_shape[a]) {
        return unsupported(format!("the constant of shape {cshape:?} does not broadcast onto {out_shape:?}"));
    }
    let ones = vec![1.0; c.len()];
    let zeros = vec![0.0; c.len()];
    let (scale, shift) = match (op, ci) {
        ("Add", _) => (ones, c),
        ("Sub", 1) => (ones, c.iter().map(|v| -v).collect()),
        ("Sub", _) => (c.iter().map(|_| -1.0).collect(), c),
        ("Mul", _) => (c, zeros),
        ("Div", 1) => (c.iter().map(|v| 1.0 / v).collect(), zeros),
        _ => return unsupported("dividing a constant by an activation is not supported"),
    };
    // A scalar constant has no axis of its own; channel 1 (or 0 for a vector) keeps the affine well formed.
    let axis = axis.unwrap_or(out_shape.len().saturating_sub(1).min(1));
    Ok(Converted::Op(Op::Affine(Affine { scale, shift, axis, act: Clamp::NONE }), vec![x]))
}

fn unary(ctx: &Ctx, f: UnaryFn) -> Conversion {
    Ok(Converted::Op(Op::Unary(f), vec![ctx.activation(0)?]))
}

fn clip(ctx: &Ctx) -> Conversion {
    let bound = |i: usize, attr: &str, default: f32| -> Result<f32, Skip> {
        if ctx.opset < 11 {
            return Ok(ctx.attr_f(attr).unwrap_or(default));
        }
        match ctx.input_name(i) {
            None => Ok(default),
            Some(_) => {
                let (_, v) = ctx.const_f32(i, attr)?;
                v.first().copied().ok_or_else(|| Skip::Unsupported(format!("{attr} is empty")))
            }
        }
    };
    let clamp = Clamp { min: bound(1, "min", f32::NEG_INFINITY)?, max: bound(2, "max", f32::INFINITY)? };
    unary(ctx, UnaryFn::Clamp(clamp))
}

fn pool(ctx: &Ctx, max: bool) -> Conversion {
    let x = ctx.activation(0)?;
    let kernel = ctx.attr_ints("kernel_shape").ok_or_else(|| Skip::Unsupported("kernel_shape is missing".into()))?;
    if kernel.iter().any(|&k| k < 1) {
        return unsupported(format!("kernel_shape {kernel:?} must be positive"));
    }
    let kernel: Vec<usize> = kernel.iter().map(|&k| k as usize).collect();
    let w = window(ctx, &kernel)?;
    if !max && w.dilations != [1, 1] {
        return unsupported("dilated average pooling is not supported");
    }
    let pool = Pool { window: w, count_include_pad: ctx.attr_i("count_include_pad").unwrap_or(0) != 0 };
    Ok(Converted::Op(if max { Op::MaxPool(pool) } else { Op::AvgPool(pool) }, vec![x]))
}

fn global_average_pool(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    if ctx.in_shape(0)?.len() < 3 {
        return unsupported("expects a tensor with spatial axes");
    }
    Ok(Converted::Op(Op::GlobalAvgPool, vec![x]))
}

fn reduce_mean(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let rank = ctx.in_shape(0)?.len();
    let axes = match ctx.attr_ints("axes") {
        Some(a) => Some(a),
        None => ctx.const_ints(1, "axes")?,
    };
    let Some(axes) = axes else {
        return unsupported("a mean over all axes is not supported");
    };
    let mut axes = axes.iter().map(|&a| axis(a, rank)).collect::<Result<Vec<_>, _>>()?;
    axes.sort_unstable();
    if rank < 3 || axes != (2..rank).collect::<Vec<_>>() {
        return unsupported(format!("only a mean over the spatial axes is supported (axes {axes:?} of rank {rank})"));
    }
    Ok(Converted::Op(Op::GlobalAvgPool, vec![x]))
}

fn reshape(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let (i, o) = (ctx.in_shape(0)?, ctx.out_shape()?);
    if i.iter().product::<usize>() != o.iter().product::<usize>() {
        return unsupported(format!("reshape from {i:?} to {o:?} changes the element count"));
    }
    Ok(Converted::Op(Op::Reshape, vec![x]))
}

fn transpose(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let shape = ctx.in_shape(0)?;
    let perm: Vec<usize> = match ctx.attr_ints("perm") {
        Some(p) => p.iter().map(|&a| axis(a, shape.len())).collect::<Result<_, _>>()?,
        None => (0..shape.len()).rev().collect(),
    };
    // Moving only size-1 axes keeps the elements in memory order: a reshape.
    let moved: Vec<usize> = perm.iter().copied().filter(|&a| shape[a] > 1).collect();
    if moved.windows(2).any(|w| w[0] > w[1]) {
        return unsupported(format!("perm {perm:?} reorders axes of size > 1 (shape {shape:?})"));
    }
    Ok(Converted::Op(Op::Reshape, vec![x]))
}

fn concat(ctx: &Ctx) -> Conversion {
    let rank = ctx.out_shape()?.len();
    let a = axis(ctx.attr_i("axis").unwrap_or(1), rank)?;
    let inputs = (0..ctx.inputs.len()).map(|i| ctx.activation(i)).collect::<Result<Vec<_>, _>>()?;
    Ok(Converted::Op(Op::Concat { axis: a }, inputs))
}

fn pad(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let mode = ctx.attr_s("mode").unwrap_or_else(|| "constant".into());
    if mode != "constant" {
        return unsupported(format!("mode {mode} is not supported (constant is)"));
    }
    let (pads, value) = if ctx.opset < 11 {
        (ctx.attr_ints("pads").unwrap_or_default(), ctx.attr_f("value").unwrap_or(0.0))
    } else {
        let pads = ctx.const_ints(1, "pads")?.unwrap_or_default();
        let value = match ctx.input_name(2) {
            Some(_) => ctx.const_f32(2, "constant_value")?.1.first().copied().unwrap_or(0.0),
            None => 0.0,
        };
        (pads, value)
    };
    if ctx.input_name(3).is_some() {
        return unsupported("the axes input is not supported");
    }
    let rank = ctx.in_shape(0)?.len();
    if pads.len() != 2 * rank || pads.iter().any(|&p| p < 0) {
        return unsupported(format!("pads {pads:?} must be {} non-negative values", 2 * rank));
    }
    if !(3..=4).contains(&rank) || pads[0] != 0 || pads[1] != 0 || pads[rank] != 0 || pads[rank + 1] != 0 {
        return unsupported(format!("pads {pads:?}: only spatial padding of 1-D and 2-D tensors is supported"));
    }
    let p = |a: usize| pads[a] as usize;
    let pads = if rank == 3 { [0, p(2), 0, p(5)] } else { [p(2), p(3), p(6), p(7)] };
    Ok(Converted::Op(Op::Pad { pads, value }, vec![x]))
}

fn softmax(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let shape = ctx.in_shape(0)?;
    let default = if ctx.opset < 13 { 1 } else { -1 };
    let a = axis(ctx.attr_i("axis").unwrap_or(default), shape.len())?;
    // Before opset 13, Softmax normalised over all axes from `axis` on; that equals one axis when the others are 1.
    if ctx.opset < 13 && shape[a + 1..].iter().any(|&d| d > 1) {
        return unsupported(format!("opset-{} softmax over several axes of {shape:?}", ctx.opset));
    }
    Ok(Converted::Op(Op::Softmax { axis: a }, vec![x]))
}

fn cast(ctx: &Ctx) -> Conversion {
    let to = ctx.attr_i("to").unwrap_or(0);
    if to != pb::tensor_proto::DataType::Float as i32 as i64 {
        return unsupported(format!("cast of an activation to ONNX type {to} (only float is computed)"));
    }
    Ok(Converted::Alias(ctx.activation(0)?))
}
