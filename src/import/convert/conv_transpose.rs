//! ConvTranspose as two IR ops: the input spread out (a resampling whose taps read input i at position i * stride
//! and nothing, the value 0, between and around), then an ordinary convolution with the kernel flipped and its
//! channel axes swapped. Every kernel and the integer model then apply unchanged: a tap of weight 0 yields the zero
//! point, the real 0.

use super::{unsupported, Conversion, Converted, Ctx, Skip, Source, Step};
use crate::ir::resample::{AxisTaps, Resize};
use crate::ir::{Clamp, Conv, Op, Window};

pub fn conv_transpose(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let (wshape, w) = ctx.const_f32(1, "the weight")?;
    let in_shape = ctx.image_shape(0)?;
    let out_shape = ctx.out_shape()?;
    let n = wshape.len().saturating_sub(2);
    if !(1..=2).contains(&n) || in_shape.len() != n + 2 || out_shape.len() != n + 2 {
        return unsupported(format!(
            "weight of shape {wshape:?}: only 1-D and 2-D transposed convolutions are supported"
        ));
    }
    let groups = ctx.attr_i("group").unwrap_or(1);
    let (c_in, c_out_g) = (in_shape[1], wshape[1]);
    if groups < 1 || wshape[0] != c_in || c_in % groups as usize != 0 {
        return unsupported(format!("group = {groups} does not fit weight {wshape:?} and input {in_shape:?}"));
    }
    let groups = groups as usize;
    let c_out = c_out_g * groups;
    let kernel = &wshape[2..];
    let strides = ctx.attr_dims("strides", n, 1)?;
    let dilations = ctx.attr_dims("dilations", n, 1)?;
    let output_padding = ctx.attr_dims("output_padding", n, 0)?;
    if kernel.contains(&0) || strides.contains(&0) || dilations.contains(&0) {
        return unsupported("kernel, strides and dilations must be positive");
    }
    if kernel.iter().chain(&strides).chain(&dilations).any(|&v| v > super::MAX_WINDOW) {
        return unsupported(format!("kernel, strides and dilations above {} are not supported", super::MAX_WINDOW));
    }
    let begin = begin_pads(ctx, n, &in_shape[2..], kernel, &strides, &dilations, &output_padding)?;
    // Each spatial axis: the spread input must cover the output plus the kernel's extent less one.
    let mut taps = vec![];
    for a in 0..n {
        let extent = (kernel[a] - 1) * dilations[a];
        let len = out_shape[a + 2] + extent;
        // Spread position q holds input (q + begin - extent) / stride when that divides and lies in the input.
        let source = |q: usize| -> Option<usize> {
            let p = (q + begin[a]).checked_sub(extent)?;
            (p % strides[a] == 0 && p / strides[a] < in_shape[a + 2]).then_some(p / strides[a])
        };
        let index = (0..len).map(|q| source(q).unwrap_or(0)).collect();
        let weight = (0..len).map(|q| if source(q).is_some() { 1.0 } else { 0.0 }).collect();
        taps.push(AxisTaps { taps: 1, index, weight });
    }
    let x_taps = taps.pop().expect("one spatial axis at least");
    let y_taps = taps.pop().unwrap_or_else(|| AxisTaps::identity(1));
    let mut spread_shape = in_shape.clone();
    if n == 2 {
        spread_shape[2] = y_taps.out_len();
    }
    spread_shape[n + 1] = x_taps.out_len();
    let spread = Op::Resize(Resize { y: y_taps, x: x_taps });
    let bias = match ctx.input_name(2) {
        Some(_) => ctx.const_f32(2, "the bias")?.1,
        None => vec![0.0; c_out],
    };
    if bias.len() != c_out {
        return unsupported(format!("bias has {} values for {c_out} output channels", bias.len()));
    }
    let two = |v: &[usize], fill: usize| if n == 1 { [fill, v[0]] } else { [v[0], v[1]] };
    let window = Window { kernel: two(kernel, 1), strides: [1, 1], dilations: two(&dilations, 1), pads: [0; 4] };
    let conv = Conv {
        weight: flipped(&w, c_in, c_out_g, groups, kernel.iter().product()),
        bias,
        c_in,
        c_out,
        groups,
        window,
        act: Clamp::NONE,
    };
    Ok(Converted::Chain(vec![
        Step { op: spread, inputs: vec![Source::Input(x)], shape: spread_shape, suffix: "spread" },
        Step::last(Op::Conv(conv), vec![Source::Step(0)]),
    ]))
}

/// The padding before each spatial axis: `pads`, or what auto_pad SAME_* or output_shape imply (as the ONNX
/// reference computes it: output_shape without auto_pad pads nothing before).
fn begin_pads(
    ctx: &Ctx,
    n: usize,
    input: &[usize],
    kernel: &[usize],
    strides: &[usize],
    dilations: &[usize],
    output_padding: &[usize],
) -> Result<Vec<usize>, Skip> {
    let auto_pad = ctx.attr_s("auto_pad").unwrap_or_default();
    match auto_pad.as_str() {
        "SAME_UPPER" | "SAME_LOWER" if ctx.attr("pads").is_none() => {
            let wanted = match ctx.attr_ints("output_shape") {
                Some(s) if s.len() == n => s.iter().map(|&v| v.max(0) as usize).collect(),
                Some(s) => return unsupported(format!("output_shape {s:?} does not fit {n} spatial axes")),
                None => input.iter().zip(strides).map(|(&i, &s)| i * s).collect::<Vec<_>>(),
            };
            (0..n)
                .map(|a| {
                    let full = strides[a] * (input[a] - 1) + output_padding[a] + (kernel[a] - 1) * dilations[a] + 1;
                    let total = full.checked_sub(wanted[a]).ok_or_else(|| {
                        Skip::Unsupported(format!("output_shape {wanted:?} is larger than the full output"))
                    })?;
                    Ok(if auto_pad == "SAME_UPPER" { total / 2 } else { total - total / 2 })
                })
                .collect()
        }
        "" | "NOTSET" | "VALID" | "SAME_UPPER" | "SAME_LOWER" => {
            let pads = ctx.attr_dims("pads", 2 * n, 0)?;
            if pads.iter().any(|&p| p > super::MAX_WINDOW) {
                return unsupported(format!("pads above {} are not supported", super::MAX_WINDOW));
            }
            Ok(pads[..n].to_vec())
        }
        other => unsupported(format!("auto_pad {other} is not an ONNX value")),
    }
}

/// The convolution weight [c_out][c_in / groups][ky][kx] of a transposed convolution's [c_in][c_out / groups][ky][kx]:
/// channel axes swapped within each group, the kernel turned half a turn.
fn flipped(w: &[f32], c_in: usize, c_out_g: usize, groups: usize, taps: usize) -> Vec<f32> {
    let c_in_g = c_in / groups;
    let mut out = vec![0.0; w.len()];
    for g in 0..groups {
        for ic in 0..c_in_g {
            for oc in 0..c_out_g {
                let from = ((g * c_in_g + ic) * c_out_g + oc) * taps;
                let to = ((g * c_out_g + oc) * c_in_g + ic) * taps;
                for t in 0..taps {
                    out[to + t] = w[from + taps - 1 - t];
                }
            }
        }
    }
    out
}
