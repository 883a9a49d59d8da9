//! Slice and Split: strided windows of a tensor (Split: one per output, side by side along its axis).

use super::{axis, unsupported, Conversion, Converted, Ctx, Skip};
use crate::ir::{Op, View};

/// Slice with constant starts, ends, axes and steps (inputs from opset 10, attributes before).
pub fn slice(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let shape = ctx.in_shape(0)?;
    let rank = shape.len();
    let list = |i: usize, attr: &str| -> Result<Option<Vec<i64>>, Skip> {
        if ctx.opset < 10 {
            Ok(ctx.attr_ints(attr))
        } else {
            ctx.const_ints(i, attr)
        }
    };
    let missing = |what: &str| Skip::Unsupported(format!("{what} is missing"));
    let starts = list(1, "starts")?.ok_or_else(|| missing("starts"))?;
    let ends = list(2, "ends")?.ok_or_else(|| missing("ends"))?;
    let axes = match list(3, "axes")? {
        Some(a) => a.iter().map(|&a| axis(a, rank)).collect::<Result<Vec<_>, _>>()?,
        None => (0..starts.len()).collect(),
    };
    let steps = list(4, "steps")?.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return unsupported("starts, ends, axes and steps differ in length");
    }
    let mut from = vec![0usize; rank];
    let mut by = vec![1isize; rank];
    let mut out = shape.clone();
    for (k, &a) in axes.iter().enumerate() {
        let (start, len) = window(starts[k], ends[k], steps[k], shape[a])?;
        (from[a], by[a], out[a]) = (start, steps[k] as isize, len);
    }
    if out != ctx.out_shape()? {
        return unsupported(format!("the slice gives {out:?}, not the inferred {:?}", ctx.out_shape()?));
    }
    if out[0] != shape[0] {
        return unsupported("slicing the batch axis is not supported");
    }
    Ok(Converted::Op(Op::View(View::slice(from, by)), vec![x]))
}

/// ONNX's start and length of a slice of an axis of `dim` elements: negative indices count from the end, then
/// starts and ends are clamped (to [0, dim] going forward, [-1, dim - 1] going backward).
fn window(start: i64, end: i64, step: i64, dim: usize) -> Result<(usize, usize), Skip> {
    if step == 0 || step.unsigned_abs() > 1 << 40 {
        return unsupported(format!("a step of {step}"));
    }
    let d = dim as i64;
    let resolve = |v: i64| if v < 0 { v.saturating_add(d) } else { v };
    let (start, end) = (resolve(start), resolve(end));
    let (start, end) =
        if step > 0 { (start.clamp(0, d), end.clamp(0, d)) } else { (start.clamp(-1, d - 1), end.clamp(-1, d - 1)) };
    let len = if step > 0 { (end - start).max(0) } else { (start - end).max(0) };
    let len = (len + step.abs() - 1) / step.abs();
    if len == 0 {
        return unsupported("the slice is empty");
    }
    Ok((start as usize, len as usize))
}

/// Split: each output a slice of the input along the axis, one after the other, with the lengths the shapes show.
pub fn split(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let shape = ctx.in_shape(0)?;
    let a = axis(ctx.attr_i("axis").unwrap_or(0), shape.len())?;
    if a == 0 {
        return unsupported("splitting the batch axis is not supported");
    }
    let mut ops = vec![];
    let mut at = 0;
    for output in ctx.node.output.iter() {
        if output.is_empty() {
            return unsupported("an output is left out");
        }
        let out = ctx.shape_of(output)?;
        let mut starts = vec![0; shape.len()];
        starts[a] = at;
        at += out.get(a).copied().unwrap_or(0);
        ops.push(Op::View(View::slice(starts, vec![1; shape.len()])));
    }
    if at != shape[a] {
        return unsupported(format!("the outputs cover {at} of the {} elements of axis {a}", shape[a]));
    }
    Ok(Converted::Outputs(ops, x))
}
