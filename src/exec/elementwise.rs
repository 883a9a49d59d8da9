//! Elementwise and per-axis ops: affine, broadcasting binary ops, concat, softmax.

use crate::ir::{row_major_strides, strided_offsets, Affine, Lrn, Normalize, ReduceKind};

/// (outer, len, inner) around `axis` of a per-sample shape (batch axis of 1 included).
fn split(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (shape[..axis].iter().product(), shape[axis], shape[axis + 1..].iter().product())
}

pub fn affine(a: &Affine, input: &[f32], shape: &[usize], out: &mut [f32]) {
    let (_, len, inner) = split(shape, a.axis);
    for (i, (o, &x)) in out.iter_mut().zip(input).enumerate() {
        let c = if a.scale.len() == 1 { 0 } else { (i / inner) % len };
        *o = a.act.apply(x * a.scale[c] + a.shift[c]);
    }
}

pub fn binary(
    ins: &[&[f32]],
    shapes: &[&[usize]],
    out_shape: &[usize],
    n: usize,
    out: &mut [f32],
    f: impl Fn(f32, f32) -> f32,
) {
    let (a, b) = (ins[0], ins[1]);
    if shapes[0] == out_shape && shapes[1] == out_shape {
        out.iter_mut().zip(a.iter().zip(b)).for_each(|(o, (&x, &y))| *o = f(x, y));
        return;
    }
    let offsets = crate::ir::broadcast::offsets(shapes[0], shapes[1], out_shape);
    let (a_len, b_len) = (a.len() / n, b.len() / n);
    for (s, out) in out.chunks_mut(offsets.len()).enumerate() {
        for (o, &(ia, ib)) in out.iter_mut().zip(&offsets) {
            *o = f(a[s * a_len + ia], b[s * b_len + ib]);
        }
    }
}

pub fn concat(axis: usize, ins: &[&[f32]], shapes: &[&[usize]], n: usize, out: &mut [f32]) {
    let outer: usize = n * shapes[0][..axis].iter().product::<usize>();
    let mut pos = 0;
    for o in 0..outer {
        for (input, shape) in ins.iter().zip(shapes) {
            let block: usize = shape[axis..].iter().product();
            out[pos..pos + block].copy_from_slice(&input[o * block..(o + 1) * block]);
            pos += block;
        }
    }
}

/// x - max - ln(sum exp(x - max)) along `axis`, in f64.
pub fn log_softmax(axis: usize, input: &[f32], shape: &[usize], out: &mut [f32]) {
    let (_, len, inner) = split(shape, axis);
    for (block, out_block) in input.chunks(len * inner).zip(out.chunks_mut(len * inner)) {
        for j in 0..inner {
            let x = |i: usize| block[i * inner + j] as f64;
            let max = (0..len).map(x).fold(f64::NEG_INFINITY, f64::max);
            let log_sum = (0..len).map(|i| (x(i) - max).exp()).sum::<f64>().ln();
            (0..len).for_each(|i| out_block[i * inner + j] = (x(i) - max - log_sum) as f32);
        }
    }
}

pub fn softmax(axis: usize, input: &[f32], shape: &[usize], out: &mut [f32]) {
    let (_, len, inner) = split(shape, axis);
    for (block, out_block) in input.chunks(len * inner).zip(out.chunks_mut(len * inner)) {
        for j in 0..inner {
            let max = (0..len).map(|i| block[i * inner + j]).fold(f32::NEG_INFINITY, f32::max);
            let mut sum = 0.0;
            for i in 0..len {
                let e = (block[i * inner + j] - max).exp();
                out_block[i * inner + j] = e;
                sum += e;
            }
            (0..len).for_each(|i| out_block[i * inner + j] /= sum);
        }
    }
}

/// (x - mean) / sqrt(var + epsilon) * scale + shift over the axes from `n.axis` on, in f64.
pub fn normalize(n: &Normalize, input: &[f32], shape: &[usize], out: &mut [f32]) {
    let len: usize = shape[n.axis..].iter().product();
    let channels = shape.get(1).copied().unwrap_or(1);
    for (o, (block, out_block)) in input.chunks(len).zip(out.chunks_mut(len)).enumerate() {
        let mean = block.iter().map(|&v| v as f64).sum::<f64>() / len as f64;
        let var = block.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / len as f64;
        let inv = 1.0 / (var + n.epsilon as f64).sqrt();
        for (i, (y, &x)) in out_block.iter_mut().zip(block).enumerate() {
            let k = if n.per_channel { o % channels } else { i };
            *y = ((x as f64 - mean) * inv * n.scale[k] as f64 + n.shift[k] as f64) as f32;
        }
    }
}

/// Local response normalization across the channels (axis 1), in f64.
pub fn lrn(l: &Lrn, input: &[f32], shape: &[usize], out: &mut [f32]) {
    let (_, c, plane) = split(shape, 1);
    let (below, above) = ((l.size - 1) / 2, l.size.div_ceil(2) - 1);
    for (block, out_block) in input.chunks(c * plane).zip(out.chunks_mut(c * plane)) {
        for ch in 0..c {
            for p in 0..plane {
                let window = ch.saturating_sub(below)..(ch + above + 1).min(c);
                let sum: f64 = window.map(|k| (block[k * plane + p] as f64).powi(2)).sum();
                let x = block[ch * plane + p] as f64;
                out_block[ch * plane + p] =
                    (x / (l.bias as f64 + l.alpha as f64 / l.size as f64 * sum).powf(l.beta as f64)) as f32;
            }
        }
    }
}

/// A mean, max or min over `axes` of each sample of shape `shape`, into the kept axes' row-major order.
pub fn reduce(kind: ReduceKind, axes: &[usize], input: &[f32], shape: &[usize], out: &mut [f32]) {
    let sample: usize = shape.iter().product();
    let count: usize = axes.iter().map(|&a| shape[a]).product();
    let strides = row_major_strides(shape);
    let kept: Vec<usize> = (0..shape.len()).filter(|a| !axes.contains(a)).collect();
    // Each output's first input element, then every element of its reduced block relative to it.
    let starts = strided_offsets(
        &kept.iter().map(|&a| shape[a]).collect::<Vec<_>>(),
        0,
        &kept.iter().map(|&a| strides[a] as isize).collect::<Vec<_>>(),
    );
    let block = strided_offsets(
        &axes.iter().map(|&a| shape[a]).collect::<Vec<_>>(),
        0,
        &axes.iter().map(|&a| strides[a] as isize).collect::<Vec<_>>(),
    );
    for (x, y) in input.chunks(sample).zip(out.chunks_mut(starts.len())) {
        for (o, &start) in y.iter_mut().zip(&starts) {
            let values = block.iter().map(|&b| x[start + b]);
            *o = match kind {
                ReduceKind::Mean => values.map(|v| v as f64).sum::<f64>() as f32 / count as f32,
                ReduceKind::Max => values.fold(f32::NEG_INFINITY, f32::max),
                ReduceKind::Min => values.fold(f32::INFINITY, f32::min),
            };
        }
    }
}
