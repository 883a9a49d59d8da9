//! LayerNormalization, InstanceNormalization and LRN.

use super::{axis, unsupported, Conversion, Converted, Ctx};
use crate::ir::{Lrn, Normalize, Op};

/// LayerNormalization: statistics over the axes from `axis` on; scale and bias broadcast onto those axes.
pub fn layer_norm(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let shape = ctx.in_shape(0)?;
    let a = axis(ctx.attr_i("axis").unwrap_or(-1), shape.len())?;
    if a == 0 {
        return unsupported("normalizing over the batch axis is not supported");
    }
    let block = &shape[a..];
    let spread = |i: usize, what: &str| -> Result<Vec<f32>, super::Skip> {
        let (s, v) = ctx.const_f32(i, what)?;
        broadcast_onto(&s, &v, block)
            .ok_or_else(|| super::Skip::Unsupported(format!("{what} of shape {s:?} does not broadcast onto {block:?}")))
    };
    let scale = spread(1, "the scale")?;
    let shift = match ctx.input_name(2) {
        Some(_) => spread(2, "the bias")?,
        None => vec![0.0; scale.len()],
    };
    let epsilon = ctx.attr_f("epsilon").unwrap_or(1e-5);
    Ok(Converted::Op(Op::Normalize(Normalize { axis: a, epsilon, scale, shift, per_channel: false }), vec![x]))
}

/// `values` of shape `from` broadcast (numpy's rules) onto `onto`, in row-major order.
fn broadcast_onto(from: &[usize], values: &[f32], onto: &[usize]) -> Option<Vec<f32>> {
    if from.len() > onto.len() {
        return None;
    }
    let from: Vec<usize> = std::iter::repeat_n(1, onto.len() - from.len()).chain(from.iter().copied()).collect();
    if from.iter().zip(onto).any(|(&f, &o)| f != 1 && f != o) {
        return None;
    }
    let total: usize = onto.iter().product();
    let out = (0..total)
        .map(|mut flat| {
            let mut at = 0;
            let mut stride = 1;
            for a in (0..onto.len()).rev() {
                let i = flat % onto[a];
                flat /= onto[a];
                if from[a] != 1 {
                    at += i * stride;
                }
                stride *= from[a];
            }
            values[at]
        })
        .collect();
    Some(out)
}

/// InstanceNormalization: statistics over the spatial axes of each channel; scale and bias per channel.
pub fn instance_norm(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let shape = ctx.image_shape(0)?;
    if shape.len() < 3 {
        return unsupported("expects a tensor with spatial axes");
    }
    let (_, scale) = ctx.const_f32(1, "the scale")?;
    let (_, shift) = ctx.const_f32(2, "the bias")?;
    if scale.len() != shape[1] || shift.len() != shape[1] {
        return unsupported(format!("scale and bias must hold one value per channel ({})", shape[1]));
    }
    let epsilon = ctx.attr_f("epsilon").unwrap_or(1e-5);
    Ok(Converted::Op(Op::Normalize(Normalize { axis: 2, epsilon, scale, shift, per_channel: true }), vec![x]))
}

/// LRN across the channels of an image.
pub fn lrn(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let shape = ctx.image_shape(0)?;
    if shape.len() < 3 {
        return unsupported("expects a tensor with spatial axes");
    }
    let size = match ctx.attr_i("size") {
        Some(s) if s >= 1 => s as usize,
        _ => return unsupported("size must be a positive integer"),
    };
    let lrn = Lrn {
        size,
        alpha: ctx.attr_f("alpha").unwrap_or(1e-4),
        beta: ctx.attr_f("beta").unwrap_or(0.75),
        bias: ctx.attr_f("bias").unwrap_or(1.0),
    };
    Ok(Converted::Op(Op::Lrn(lrn), vec![x]))
}
