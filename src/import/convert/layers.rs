//! ONNX nodes with weights: Conv, Gemm, MatMul with a constant weight, and BatchNormalization (folded into the
//! layer before it by `ir::passes`, else kept as a per-channel affine).

use super::{unsupported, window, Conversion, Converted, Ctx, Skip};
use crate::ir::{Affine, Clamp, Conv, Dense, Op};

pub fn conv(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    let (wshape, weight) = ctx.const_f32(1, "the weight")?;
    if !(3..=4).contains(&wshape.len()) {
        return unsupported(format!("weight of shape {wshape:?}: only 1-D and 2-D convolutions are supported"));
    }
    let in_shape = ctx.image_shape(0)?;
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

pub fn gemm(ctx: &Ctx) -> Conversion {
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

pub fn matmul(ctx: &Ctx) -> Conversion {
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

pub fn batch_norm(ctx: &Ctx) -> Conversion {
    let x = ctx.activation(0)?;
    if ctx.attr_i("training_mode").unwrap_or(0) != 0 {
        return unsupported("training_mode = 1 (batch statistics): export the model for inference");
    }
    let c = ctx.image_shape(0)?.get(1).copied().unwrap_or(0);
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
