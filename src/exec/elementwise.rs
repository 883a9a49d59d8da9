//! Elementwise and per-axis ops: affine, broadcasting binary ops, concat, softmax.

use crate::ir::Affine;

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
