//! Resize (opset 10 on) and Upsample: the scales or sizes become per-axis tap tables (ir::resample).

use super::{unsupported, Conversion, Converted, Ctx, Skip};
use crate::ir::resample::{AxisTaps, Coordinates, Interpolation, Nearest, Resampling, Resize};
use crate::ir::Op;

pub fn resize(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let shape = ctx.image_shape(0)?;
    let rank = shape.len();
    let (scales, sizes) = scales_and_sizes(ctx, rank)?;
    let modern = ctx.node.op_type == "Resize" && ctx.opset >= 11;
    let attr = |name: &str, default: &str| ctx.attr_s(name).unwrap_or_else(|| default.to_string());
    // Upsample and Resize-10 sample at x_out / scale and round nearest down (Upsample repeats each value).
    let (coordinates, nearest) = if modern {
        (attr("coordinate_transformation_mode", "half_pixel"), attr("nearest_mode", "round_prefer_floor"))
    } else {
        ("asymmetric".to_string(), "floor".to_string())
    };
    let interpolation = match attr("mode", "nearest").as_str() {
        "nearest" => Interpolation::Nearest(
            Nearest::from_onnx(&nearest).ok_or_else(|| Skip::Unsupported(format!("nearest_mode {nearest}")))?,
        ),
        "linear" | "bilinear" => Interpolation::Linear,
        "cubic" if modern => Interpolation::Cubic { a: ctx.attr_f("cubic_coeff_a").unwrap_or(-0.75) as f64 },
        other => return unsupported(format!("mode {other} is not supported (nearest, linear and cubic are)")),
    };
    let coordinates = match Coordinates::from_onnx(&coordinates) {
        Some(c) => c,
        None if coordinates == "tf_crop_and_resize" => {
            return unsupported("coordinate_transformation_mode tf_crop_and_resize is not supported")
        }
        None => return unsupported(format!("coordinate_transformation_mode {coordinates} is not an ONNX value")),
    };
    let antialias = ctx.attr_i("antialias").unwrap_or(0) != 0;
    if antialias && matches!(interpolation, Interpolation::Nearest(_)) {
        return unsupported("antialias applies to linear and cubic modes only");
    }
    let r =
        Resampling { interpolation, coordinates, antialias, exclude_outside: ctx.attr_i("exclude_outside") == Some(1) };
    let (scales, out) = output_size(ctx, &shape, scales, sizes)?;
    if ctx.out_shape()? != out {
        return unsupported(format!("the output shape {:?} is not the {out:?} the scales give", ctx.out_shape()?));
    }
    if out[..2] != shape[..2] {
        return unsupported(format!("resizing the batch or channel axis ({shape:?} -> {out:?}) is not supported"));
    }
    let taps = |a: usize| AxisTaps::new(shape[a], out[a], scales[a], &r);
    let y = if rank == 4 { taps(2) } else { AxisTaps::identity(1) };
    Ok(Converted::Op(Op::Resize(Resize { y, x: taps(rank - 1) }), vec![x]))
}

/// The per-axis scales, or the sizes, as the node gives them (for every axis, `axes` applied).
#[allow(clippy::type_complexity)]
fn scales_and_sizes(ctx: &Ctx, rank: usize) -> Result<(Option<Vec<f64>>, Option<Vec<usize>>), Skip> {
    if !(3..=4).contains(&rank) {
        return unsupported(format!("expects a rank-3 or rank-4 input, got rank {rank}"));
    }
    let (scales, sizes) = match (ctx.node.op_type.as_str(), ctx.opset) {
        ("Upsample", o) if o < 9 => {
            let s = ctx.attr("scales").map(|a| a.floats.clone()).ok_or_else(|| missing("scales"))?;
            (Some(s), None)
        }
        ("Upsample", _) | ("Resize", 10) => (Some(ctx.const_f32(1, "scales")?.1), None),
        _ => {
            let given = |i: usize| {
                ctx.input_name(i).is_some() && ctx.in_shape(i).is_ok_and(|s| s.iter().product::<usize>() > 0)
            };
            let scales = if given(2) { Some(ctx.const_f32(2, "scales")?.1) } else { None };
            let sizes = match ctx.const_ints(3, "sizes")? {
                Some(s) if !s.is_empty() && scales.is_none() => Some(s),
                _ => None,
            };
            (scales, sizes)
        }
    };
    let axes = match ctx.attr_ints("axes") {
        Some(a) => a.iter().map(|&a| super::axis(a, rank)).collect::<Result<Vec<_>, _>>()?,
        None => (0..rank).collect(),
    };
    let spread = |n: usize| -> Result<(), Skip> {
        if n != axes.len() {
            return unsupported(format!("{n} scales or sizes for {} axes", axes.len()));
        }
        Ok(())
    };
    let scales = match scales {
        Some(s) => {
            spread(s.len())?;
            let mut all = vec![1.0; rank];
            for (&a, &v) in axes.iter().zip(&s) {
                if !(v.is_finite() && v > 0.0) {
                    return unsupported(format!("scale {v} must be positive"));
                }
                all[a] = v as f64;
            }
            Some(all)
        }
        None => None,
    };
    let sizes = match sizes {
        Some(s) => {
            spread(s.len())?;
            let shape = ctx.in_shape(0)?;
            let mut all = shape.clone();
            for (&a, &v) in axes.iter().zip(&s) {
                if v < 1 {
                    return unsupported(format!("size {v} must be positive"));
                }
                all[a] = v as usize;
            }
            Some((all, axes))
        }
        None => None,
    };
    match (scales, sizes) {
        (Some(s), _) => Ok((Some(s), None)),
        (None, Some((sizes, axes))) => Ok((Some(aspect_scales(ctx, &sizes, &axes)?), Some(sizes))),
        (None, None) => Err(missing("scales or sizes")),
    }
}

fn missing(what: &str) -> Skip {
    Skip::Unsupported(format!("{what} is missing"))
}

/// The scales sizes imply: out / in per axis, or one scale for every resized axis under keep_aspect_ratio_policy.
fn aspect_scales(ctx: &Ctx, sizes: &[usize], axes: &[usize]) -> Result<Vec<f64>, Skip> {
    let shape = ctx.in_shape(0)?;
    let mut scales: Vec<f64> = sizes.iter().zip(&shape).map(|(&o, &i)| o as f64 / i as f64).collect();
    let policy = ctx.attr_s("keep_aspect_ratio_policy").unwrap_or_else(|| "stretch".into());
    let pick = |f: fn(f64, f64) -> f64| axes.iter().map(|&a| scales[a]).reduce(f).unwrap_or(1.0);
    let one = match policy.as_str() {
        "stretch" => return Ok(scales),
        "not_larger" => pick(f64::min),
        "not_smaller" => pick(f64::max),
        other => return unsupported(format!("keep_aspect_ratio_policy {other} is not an ONNX value")),
    };
    for &a in axes {
        scales[a] = one;
    }
    Ok(scales)
}

/// The scales and the output shape: from sizes as given (rounded half up under an aspect-ratio policy), or the
/// input's axes times the scales, rounded down.
fn output_size(
    ctx: &Ctx,
    shape: &[usize],
    scales: Option<Vec<f64>>,
    sizes: Option<Vec<usize>>,
) -> Result<(Vec<f64>, Vec<usize>), Skip> {
    let scales = scales.ok_or_else(|| missing("scales or sizes"))?;
    let keep = ctx.attr_s("keep_aspect_ratio_policy").is_some_and(|p| p != "stretch");
    let out = match sizes {
        Some(sizes) if !keep => sizes,
        _ if keep => shape.iter().zip(&scales).map(|(&i, &s)| (s * i as f64 + 0.5) as usize).collect(),
        _ => shape.iter().zip(&scales).map(|(&i, &s)| (s * i as f64) as usize).collect(),
    };
    if out.contains(&0) {
        return unsupported(format!("the scales {scales:?} give an empty output {out:?}"));
    }
    Ok((scales, out))
}
