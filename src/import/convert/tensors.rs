//! ONNX nodes without weights: elementwise arithmetic and activations, pools, reshapes, concatenation, padding,
//! softmax and casts.

use super::Source::{self, Input};
use super::{axis, unsupported, window, Conversion, Converted, Ctx, Skip, Step};
use tract_onnx::pb;

use crate::ir::resample::{AxisTaps, Resize};
use crate::ir::{Affine, Clamp, MathFn, Op, Pool, ReduceKind, UnaryFn, View, Window};

/// The axis along which a constant broadcasts onto a tensor of rank `rank`: `None` for a scalar-like constant,
/// `Some(axis)` when exactly one axis has more than one value.
pub(super) fn broadcast_axis(cshape: &[usize], rank: usize) -> Result<Option<usize>, Skip> {
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

/// Add, Sub, Mul, Div, and Sum of two inputs (an Add).
pub fn arithmetic(ctx: &Ctx) -> Conversion {
    let op = match ctx.node.op_type.as_str() {
        "Sum" => "Add",
        op => op,
    };
    if ctx.inputs.len() != 2 {
        return unsupported("expects two inputs");
    }
    let (c0, c1) = (ctx.is_const(0), ctx.is_const(1));
    if !c0 && !c1 {
        let (a, b) = (ctx.activation(0)?, ctx.activation(1)?);
        return match op {
            "Add" => Ok(Converted::Op(Op::Add { act: Clamp::NONE }, vec![a, b])),
            "Mul" => Ok(Converted::Op(Op::Mul { act: Clamp::NONE }, vec![a, b])),
            // a + (-b) and a * (1 / b); in the integer model the negation and the reciprocal are tables.
            "Sub" | "Div" => {
                let (f, suffix, then) = match op {
                    "Sub" => (MathFn::Neg, "neg", Op::Add { act: Clamp::NONE }),
                    _ => (MathFn::Reciprocal, "reciprocal", Op::Mul { act: Clamp::NONE }),
                };
                Ok(Converted::Chain(vec![
                    Step { op: Op::Unary(UnaryFn::Math(f)), inputs: vec![Input(b)], shape: ctx.in_shape(b)?, suffix },
                    Step::last(then, vec![Input(a), Source::Step(0)]),
                ]))
            }
            _ => unsupported(format!("{op} of two activations is not supported")),
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
        ("Div", _) => (c, zeros),
        _ => return unsupported(format!("{op} is not elementwise arithmetic")),
    };
    // A scalar constant has no axis of its own; channel 1 (or 0 for a vector) keeps the affine well formed.
    let axis = axis.unwrap_or(out_shape.len().saturating_sub(1).min(1));
    let affine = Op::Affine(Affine { scale, shift, axis, act: Clamp::NONE });
    if (op, ci) != ("Div", 0) {
        return Ok(Converted::Op(affine, vec![x]));
    }
    // c / x: c times the reciprocal (a table in the integer model).
    let reciprocal = Op::Unary(UnaryFn::Math(MathFn::Reciprocal));
    Ok(Converted::Chain(vec![
        Step { op: reciprocal, inputs: vec![Input(x)], shape: out_shape, suffix: "reciprocal" },
        Step::last(affine, vec![Source::Step(0)]),
    ]))
}

pub fn unary(ctx: &Ctx, f: UnaryFn) -> Conversion {
    Ok(Converted::Op(Op::Unary(f), vec![ctx.activation(0)?]))
}

pub fn clip(ctx: &Ctx) -> Conversion {
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

pub fn pool(ctx: &Ctx, max: bool) -> Conversion {
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

pub fn global_average_pool(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    if ctx.image_shape(0)?.len() < 3 {
        return unsupported("expects a tensor with spatial axes");
    }
    Ok(Converted::Op(Op::GlobalAvgPool, vec![x]))
}

/// A max pool whose window is the whole spatial extent.
pub fn global_max_pool(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let shape = ctx.image_shape(0)?;
    let kernel = match shape.len() {
        3 => [1, shape[2]],
        4 => [shape[2], shape[3]],
        _ => return unsupported(format!("input of shape {shape:?}: 1-D and 2-D spatial axes are supported")),
    };
    let window = Window { kernel, strides: [1, 1], dilations: [1, 1], pads: [0; 4] };
    Ok(Converted::Op(Op::MaxPool(Pool { window, count_include_pad: false }), vec![x]))
}

/// ReduceMean, ReduceMax and ReduceMin: a mean over the spatial axes is a global average pool; other axes (the
/// channels of spatial attention, a transformer's features) a reduction. All axes but the batch's when none are given.
pub fn reduce(ctx: &Ctx, kind: ReduceKind) -> Conversion {
    let x = ctx.activation(0)?;
    let shape = ctx.in_shape(0)?;
    let rank = shape.len();
    let axes = match ctx.attr_ints("axes") {
        Some(a) => Some(a),
        None if ctx.opset >= 18 => ctx.const_ints(1, "axes")?,
        None => None,
    };
    let mut axes = match axes {
        Some(a) if !a.is_empty() => a.iter().map(|&a| axis(a, rank)).collect::<Result<Vec<_>, _>>()?,
        _ if ctx.attr_i("noop_with_empty_axes") == Some(1) => return Ok(Converted::Alias(x)),
        _ => (0..rank).collect(),
    };
    axes.sort_unstable();
    axes.dedup();
    if axes.first() == Some(&0) && (shape[0] > 1 || ctx.attr_i("keepdims") == Some(0)) {
        return unsupported(format!("reducing the batch axis of {shape:?} away is not supported"));
    }
    axes.retain(|&a| a != 0);
    if kind == ReduceKind::Mean && rank >= 3 && axes == (2..rank).collect::<Vec<_>>() {
        ctx.image_shape(0)?;
        return Ok(Converted::Op(Op::GlobalAvgPool, vec![x]));
    }
    Ok(Converted::Op(Op::Reduce { kind, axes }, vec![x]))
}

pub fn reshape(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let (i, o) = (ctx.in_shape(0)?, ctx.out_shape()?);
    if i.iter().product::<usize>() != o.iter().product::<usize>() {
        return unsupported(format!("reshape from {i:?} to {o:?} changes the element count"));
    }
    Ok(Converted::Op(Op::Reshape, vec![x]))
}

pub fn transpose(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let shape = ctx.in_shape(0)?;
    let perm: Vec<usize> = match ctx.attr_ints("perm") {
        Some(p) => p.iter().map(|&a| axis(a, shape.len())).collect::<Result<_, _>>()?,
        None => (0..shape.len()).rev().collect(),
    };
    if perm.len() != shape.len() || (0..shape.len()).any(|a| !perm.contains(&a)) {
        return unsupported(format!("perm {perm:?} is not a permutation of the {} axes", shape.len()));
    }
    // Moving only size-1 axes keeps the elements in memory order: a reshape.
    let moved: Vec<usize> = perm.iter().copied().filter(|&a| shape[a] > 1).collect();
    if moved.windows(2).all(|w| w[0] < w[1]) {
        return Ok(Converted::Op(Op::Reshape, vec![x]));
    }
    if perm[0] != 0 && shape[0] > 1 {
        return unsupported(format!("perm {perm:?} moves the batch axis of {shape:?}"));
    }
    Ok(Converted::Op(Op::View(View::transpose(perm)), vec![x]))
}

pub fn concat(ctx: &Ctx) -> Conversion {
    let rank = ctx.out_shape()?.len();
    let a = axis(ctx.attr_i("axis").unwrap_or(1), rank)?;
    let inputs = (0..ctx.inputs.len()).map(|i| ctx.activation(i)).collect::<Result<Vec<_>, _>>()?;
    Ok(Converted::Op(Op::Concat { axis: a }, inputs))
}

/// Pad of the spatial axes: constant (a Pad op; zero padding folds into the next conv), or reflect and edge (a
/// resampling of one tap of weight 1 per output, reading the mirrored or nearest input position).
pub fn pad(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let mode = ctx.attr_s("mode").unwrap_or_else(|| "constant".into());
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
    let shape = ctx.image_shape(0)?;
    let rank = shape.len();
    if ctx.input_name(3).is_some() {
        // tract 0.23 infers no output shape then.
        return unsupported("the axes input is not supported");
    }
    if pads.len() != 2 * rank || pads.iter().any(|&p| p < 0) {
        return unsupported(format!("pads {pads:?} must be {} non-negative values", 2 * rank));
    }
    if !(3..=4).contains(&rank) || pads[0] != 0 || pads[1] != 0 || pads[rank] != 0 || pads[rank + 1] != 0 {
        return unsupported(format!("pads {pads:?}: only spatial padding of 1-D and 2-D tensors is supported"));
    }
    let p = |a: usize| pads[a] as usize;
    if mode == "constant" {
        let pads = if rank == 3 { [0, p(2), 0, p(5)] } else { [p(2), p(3), p(6), p(7)] };
        return Ok(Converted::Op(Op::Pad { pads, value }, vec![x]));
    }
    let taps = |a: usize| -> Result<AxisTaps, Skip> {
        let (len, before, after) = (shape[a], p(a), p(rank + a));
        if mode == "reflect" && (before >= len || after >= len) {
            return unsupported(format!(
                "reflect pads of {before} and {after} on an axis of {len} (at most {})",
                len - 1
            ));
        }
        let index = (0..before + len + after)
            .map(|o| {
                let i = o as isize - before as isize;
                let last = len as isize - 1;
                (if mode == "reflect" {
                    if i < 0 {
                        -i
                    } else if i > last {
                        2 * last - i
                    } else {
                        i
                    }
                } else {
                    i.clamp(0, last)
                }) as usize
            })
            .collect();
        Ok(AxisTaps { taps: 1, index, weight: vec![1.0; before + len + after] })
    };
    let resample = match (mode.as_str(), rank) {
        ("reflect" | "edge", 3) => Resize { y: AxisTaps::identity(1), x: taps(2)? },
        ("reflect" | "edge", _) => Resize { y: taps(2)?, x: taps(3)? },
        _ => return unsupported(format!("mode {mode} is not supported (constant, reflect and edge are)")),
    };
    Ok(Converted::Op(Op::Resize(resample), vec![x]))
}

/// Softmax, or LogSoftmax with `log`.
pub fn softmax(ctx: &Ctx, log: bool) -> Conversion {
    let x = ctx.activation(0)?;
    let shape = ctx.in_shape(0)?;
    let default = if ctx.opset < 13 { 1 } else { -1 };
    let a = axis(ctx.attr_i("axis").unwrap_or(default), shape.len())?;
    // Before opset 13, Softmax normalised over all axes from `axis` on; that equals one axis when the others are 1.
    if ctx.opset < 13 && shape[a + 1..].iter().any(|&d| d > 1) {
        return unsupported(format!("opset-{} softmax over several axes of {shape:?}", ctx.opset));
    }
    let op = if log { Op::LogSoftmax { axis: a } } else { Op::Softmax { axis: a } };
    Ok(Converted::Op(op, vec![x]))
}

pub fn cast(ctx: &Ctx) -> Conversion {
    let to = ctx.attr_i("to").unwrap_or(0);
    if to != pb::tensor_proto::DataType::Float as i32 as i64 {
        return unsupported(format!("cast of an activation to ONNX type {to} (only float is computed)"));
    }
    Ok(Converted::Alias(ctx.activation(0)?))
}
