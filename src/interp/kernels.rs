//! The reference kernels, one per op family, on channels-last int8 tensors.

use crate::ir::fixed_point::{rounded_div, Multiplier};
use crate::ir::quant::{
    normalized, Layout, QAdd, QConv, QDense, QGraph, QMul, QNode, QNormalize, QOp, QResize, LOG_SOFTMAX_LN2,
    NORM_FRACTION_BITS, RESIZE_WEIGHT_BITS,
};
use crate::ir::{strided_offsets, Pool, ReduceKind};
use crate::parallel::for_each_sample;

pub fn compute(graph: &QGraph, node: &QNode, ins: &[&[i8]], n: usize, out: &mut [i8]) {
    let shape = |i: usize| graph.tensor(node.inputs[i]).shape.as_slice();
    let zero = |i: usize| graph.tensor(node.inputs[i]).q.zero_point;
    let out_t = graph.tensor(node.output);
    let z_out = out_t.q.zero_point;
    match &node.op {
        QOp::Conv(c) => conv(c, ins[0], shape(0), zero(0), &out_t.shape, z_out, n, out),
        QOp::Dense(d) => dense(d, ins[0], zero(0), z_out, n, out),
        QOp::Add(a) => {
            broadcast(ins, [shape(0), shape(1)], &out_t.shape, n, out, |x, y| add(a, x, y, [zero(0), zero(1)], z_out))
        }
        QOp::Mul(m) => {
            broadcast(ins, [shape(0), shape(1)], &out_t.shape, n, out, |x, y| mul(m, x, y, [zero(0), zero(1)], z_out))
        }
        QOp::Table(t) => out.iter_mut().zip(ins[0]).for_each(|(o, &x)| *o = t[(x as i32 + 128) as usize]),
        QOp::MaxPool(p) => pool(p, true, ins[0], shape(0), zero(0), &out_t.shape, out),
        QOp::AvgPool(p) => pool(p, false, ins[0], shape(0), zero(0), &out_t.shape, out),
        QOp::GlobalAvgPool => global_average(ins[0], shape(0), n, out),
        QOp::Pad { pads, value } => pad(*pads, *value, ins[0], shape(0), &out_t.shape, out),
        QOp::Concat { axis, requant } => {
            let zeros: Vec<i32> = (0..ins.len()).map(zero).collect();
            let shapes: Vec<&[usize]> = (0..ins.len()).map(shape).collect();
            concat(*axis, requant, &zeros, z_out, ins, &shapes, n, out)
        }
        QOp::Reshape => reshape(ins[0], shape(0), &out_t.shape, out),
        QOp::Softmax { axis, exp_table } => softmax(*axis, exp_table, ins[0], shape(0), out),
        QOp::LogSoftmax { axis, exp_table, step, log_table } => {
            log_softmax(*axis, exp_table, *step, log_table, ins[0], shape(0), out)
        }
        QOp::Resize(r) => resize(r, ins[0], shape(0), zero(0), out),
        QOp::Normalize(q) => normalize(q, ins[0], shape(0), zero(0), z_out, out),
        QOp::Reduce { kind, axes } => {
            let (outer, len, inner) = Layout::reduced_blocks(shape(0), axes, &out_t.shape)
                .expect("the quantizer accepts only reductions with storage loops");
            for (x, y) in ins[0].chunks(outer * len * inner).zip(out.chunks_mut(outer * inner)) {
                for o in 0..outer {
                    for j in 0..inner {
                        let values = (0..len).map(|i| x[(o * len + i) * inner + j] as i32);
                        y[o * inner + j] = match kind {
                            ReduceKind::Mean => rounded_div(values.sum(), len as i32).clamp(-128, 127),
                            ReduceKind::Max => values.fold(-128, i32::max),
                            ReduceKind::Min => values.fold(127, i32::min),
                        } as i8;
                    }
                }
            }
        }
        QOp::View(v) => {
            let (dims, base, strides) = Layout::storage_view(v, shape(0), &out_t.shape);
            let offsets = strided_offsets(&dims, base, &strides);
            for (x, y) in ins[0].chunks(graph.tensor(node.inputs[0]).elems()).zip(out.chunks_mut(offsets.len())) {
                y.iter_mut().zip(&offsets).for_each(|(o, &i)| *o = x[i]);
            }
        }
    }
}

/// (height, width, channels) of a rank-2 ([1, C]), rank-3 ([1, C, L]) or rank-4 logical shape.
fn hwc(shape: &[usize]) -> (usize, usize, usize) {
    match shape {
        [_, c] => (1, 1, *c),
        [_, c, w] => (1, *w, *c),
        [_, c, h, w] => (*h, *w, *c),
        _ => panic!("spatial op on shape {shape:?}; the quantizer only builds ranks 2 to 4"),
    }
}

#[inline]
fn requantize(acc: i32, m: Multiplier, z_out: i32, lo: i32, hi: i32) -> i8 {
    (z_out + m.apply(acc)).clamp(lo, hi) as i8
}

/// Layer or instance normalization (ir::quant::QNormalize).
fn normalize(q: &QNormalize, input: &[i8], shape: &[usize], z_in: i32, z_out: i32, out: &mut [i8]) {
    let (outer, len, inner) = Layout::normalized_blocks(shape, q.axis);
    let n = len as i64;
    for (x, y) in input.chunks(outer * len * inner).zip(out.chunks_mut(outer * len * inner)) {
        for o in 0..outer {
            for j in 0..inner {
                let at = |i: usize| (o * len + i) * inner + j;
                let v = |i: usize| (x[at(i)] as i32 - z_in) as i64;
                let s1: i64 = (0..len).map(v).sum();
                let s2: i64 = (0..len).map(|i| v(i) * v(i)).sum();
                let var = n * s2 - s1 * s1 + q.epsilon;
                for i in 0..len {
                    let k = if q.per_channel { j } else { i };
                    let z = normalized(n * v(i) - s1, var);
                    let acc = z * q.gains[k] as i64 + ((q.offsets[k] as i64) << NORM_FRACTION_BITS);
                    y[at(i)] = (z_out as i64 + ((acc + (1 << 27)) >> 28)).clamp(-128, 127) as i8;
                }
            }
        }
    }
}

/// Resampling: each output the rounded, Q20 weighted sum of its taps' zero-point-corrected inputs.
fn resize(r: &QResize, input: &[i8], in_shape: &[usize], z: i32, out: &mut [i8]) {
    let (h, w, c) = hwc(in_shape);
    let (ho, wo) = (r.y.out_len(), r.x.out_len());
    let shift = 2 * RESIZE_WEIGHT_BITS;
    for (x, y) in input.chunks(h * w * c).zip(out.chunks_mut(ho * wo * c)) {
        for oy in 0..ho {
            for ox in 0..wo {
                for ch in 0..c {
                    let acc: i32 =
                        r.y.of(oy)
                            .map(|(iy, wy)| {
                                wy * r.x.of(ox).map(|(ix, wx)| wx * (x[(iy * w + ix) * c + ch] as i32 - z)).sum::<i32>()
                            })
                            .sum();
                    y[(oy * wo + ox) * c + ch] = (z + ((acc + (1 << (shift - 1))) >> shift)).clamp(-128, 127) as i8;
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn conv(
    c: &QConv,
    input: &[i8],
    in_shape: &[usize],
    z_in: i32,
    out_shape: &[usize],
    z_out: i32,
    n: usize,
    out: &mut [i8],
) {
    let (h, w, ci) = hwc(in_shape);
    let (ho, wo, co) = hwc(out_shape);
    let weights: Vec<i32> = c.weights.unpack().into_iter().map(i32::from).collect();
    let [kh, kw] = c.window.kernel;
    let (cin_g, cout_g) = (c.c_in / c.groups, c.c_out / c.groups);
    let k = kh * kw * cin_g;
    for_each_sample(out, n, |s, y| {
        let x: Vec<i32> = input[s * h * w * ci..(s + 1) * h * w * ci].iter().map(|&v| v as i32 - z_in).collect();
        let mut acc = vec![0i32; co];
        for oy in 0..ho {
            for ox in 0..wo {
                acc.copy_from_slice(&c.bias);
                // Integer sums do not depend on their order (the overflow proof bounds every partial sum), so the
                // window is walked once per pixel for all output channels.
                for ky in 0..kh {
                    let iy =
                        (oy * c.window.strides[0] + ky * c.window.dilations[0]) as isize - c.window.pads[0] as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    for kx in 0..kw {
                        let ix = (ox * c.window.strides[1] + kx * c.window.dilations[1]) as isize
                            - c.window.pads[1] as isize;
                        if ix < 0 || ix >= w as isize {
                            continue;
                        }
                        let pixel = &x[(iy as usize * w + ix as usize) * ci..][..ci];
                        let tap = (ky * kw + kx) * cin_g;
                        for (oc, a) in acc.iter_mut().enumerate() {
                            let xs = &pixel[(oc / cout_g) * cin_g..][..cin_g];
                            let ws = &weights[oc * k + tap..][..cin_g];
                            *a += xs.iter().zip(ws).map(|(a, b)| a * b).sum::<i32>();
                        }
                    }
                }
                for (oc, &a) in acc.iter().enumerate() {
                    y[(oy * wo + ox) * co + oc] = requantize(a, c.multipliers[oc], z_out, c.act_min, c.act_max);
                }
            }
        }
    });
}

fn dense(d: &QDense, input: &[i8], z_in: i32, z_out: i32, n: usize, out: &mut [i8]) {
    let (k, n_out) = (d.weights.k, d.weights.rows);
    let weights: Vec<i32> = d.weights.unpack().into_iter().map(i32::from).collect();
    for_each_sample(out, n, |s, y| {
        let x: Vec<i32> = input[s * k..(s + 1) * k].iter().map(|&v| v as i32 - z_in).collect();
        for (o, y) in y.iter_mut().enumerate().take(n_out) {
            let acc = d.bias[o] + x.iter().zip(&weights[o * k..(o + 1) * k]).map(|(a, b)| a * b).sum::<i32>();
            *y = requantize(acc, d.multipliers[o], z_out, d.act_min, d.act_max);
        }
    });
}

#[inline]
fn add(a: &QAdd, x: i8, y: i8, z: [i32; 2], z_out: i32) -> i8 {
    let scaled = |v: i8, i: usize| a.input_multipliers[i].apply((v as i32 - z[i]) << a.left_shift);
    let sum = scaled(x, 0) + scaled(y, 1);
    requantize(sum, a.output_multiplier, z_out, a.act_min, a.act_max)
}

#[inline]
fn mul(m: &QMul, x: i8, y: i8, z: [i32; 2], z_out: i32) -> i8 {
    requantize((x as i32 - z[0]) * (y as i32 - z[1]), m.output_multiplier, z_out, m.act_min, m.act_max)
}

/// An elementwise binary op with numpy broadcasting over the storage shapes (inputs of the output's rank).
fn broadcast(
    ins: &[&[i8]],
    shapes: [&[usize]; 2],
    out_shape: &[usize],
    n: usize,
    out: &mut [i8],
    f: impl Fn(i8, i8) -> i8,
) {
    let (a, b) = (ins[0], ins[1]);
    if shapes[0] == out_shape && shapes[1] == out_shape {
        out.iter_mut().zip(a.iter().zip(b)).for_each(|(o, (&x, &y))| *o = f(x, y));
        return;
    }
    let storage = |s: &[usize]| Layout::storage_shape(s);
    let offsets = crate::ir::broadcast::offsets(&storage(shapes[0]), &storage(shapes[1]), &storage(out_shape));
    let (a_len, b_len) = (a.len() / n, b.len() / n);
    for (s, out) in out.chunks_mut(offsets.len()).enumerate() {
        for (o, &(ia, ib)) in out.iter_mut().zip(&offsets) {
            *o = f(a[s * a_len + ia], b[s * b_len + ib]);
        }
    }
}

fn pool(p: &Pool, max: bool, input: &[i8], in_shape: &[usize], z_in: i32, out_shape: &[usize], out: &mut [i8]) {
    let (h, w, c) = hwc(in_shape);
    let (ho, wo, _) = hwc(out_shape);
    for (x, y) in input.chunks(h * w * c).zip(out.chunks_mut(ho * wo * c)) {
        for oy in 0..ho {
            for ox in 0..wo {
                for ch in 0..c {
                    let values = p.window.taps(oy, ox, h, w).map(|(iy, ix)| x[(iy * w + ix) * c + ch] as i32);
                    y[(oy * wo + ox) * c + ch] = if max {
                        values.fold(-128, i32::max) as i8
                    } else {
                        let (sum, count) = values.fold((0, 0), |(s, n), v| (s + v, n + 1));
                        // With count_include_pad, padding holds the real value 0: the zero point.
                        let (sum, divisor) = if p.count_include_pad {
                            let total = p.window.padded_count(oy, ox, h, w) as i32;
                            (sum + (total - count) * z_in, total)
                        } else {
                            (sum, count)
                        };
                        rounded_div(sum, divisor.max(1)).clamp(-128, 127) as i8
                    };
                }
            }
        }
    }
}

fn global_average(input: &[i8], in_shape: &[usize], n: usize, out: &mut [i8]) {
    let c = in_shape[1];
    let pixels: usize = in_shape[2..].iter().product();
    for s in 0..n {
        let x = &input[s * pixels * c..(s + 1) * pixels * c];
        for ch in 0..c {
            let sum: i32 = (0..pixels).map(|p| x[p * c + ch] as i32).sum();
            out[s * c + ch] = rounded_div(sum, pixels as i32).clamp(-128, 127) as i8;
        }
    }
}

fn pad(pads: [usize; 4], value: i8, input: &[i8], in_shape: &[usize], out_shape: &[usize], out: &mut [i8]) {
    let (h, w, c) = hwc(in_shape);
    let (ho, wo, _) = hwc(out_shape);
    out.fill(value);
    for (x, y) in input.chunks(h * w * c).zip(out.chunks_mut(ho * wo * c)) {
        for iy in 0..h {
            let dst = ((iy + pads[0]) * wo + pads[1]) * c;
            y[dst..dst + w * c].copy_from_slice(&x[iy * w * c..(iy + 1) * w * c]);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn concat(
    axis: usize,
    requant: &[Option<Multiplier>],
    zeros: &[i32],
    z_out: i32,
    ins: &[&[i8]],
    shapes: &[&[usize]],
    n: usize,
    out: &mut [i8],
) {
    let rank = shapes[0].len();
    let a = Layout::storage_axis(axis, rank);
    let storage: Vec<Vec<usize>> = shapes.iter().map(|s| Layout::storage_shape(s)).collect();
    let outer: usize = n * storage[0][..a].iter().product::<usize>();
    let mut pos = 0;
    for o in 0..outer {
        for (i, input) in ins.iter().enumerate() {
            let block: usize = storage[i][a..].iter().product();
            for &q in &input[o * block..(o + 1) * block] {
                out[pos] = match requant[i] {
                    None => q,
                    Some(m) => (z_out + m.apply(q as i32 - zeros[i])).clamp(-128, 127) as i8,
                };
                pos += 1;
            }
        }
    }
}

fn reshape(input: &[i8], in_shape: &[usize], out_shape: &[usize], out: &mut [i8]) {
    let len: usize = in_shape.iter().product();
    for (x, y) in input.chunks(len).zip(out.chunks_mut(len)) {
        let logical = Layout::to_logical(x, in_shape);
        y.copy_from_slice(&Layout::to_storage(&logical, out_shape));
    }
}

/// ln(sum / 2^16) in a log-softmax's output steps times 2^16, for a sum of exponentials (at least 2^16): the
/// sum's leading bit gives whole powers of two, the next 8 bits index `log_table`.
pub fn log_sum(sum: i64, log_table: &[i32]) -> i64 {
    let e = 63 - sum.leading_zeros() as i64;
    let fraction = (((sum as u64) << (63 - e)) >> 55) & 255;
    (e - 16) * LOG_SOFTMAX_LN2 as i64 + log_table[fraction as usize] as i64
}

fn log_softmax(
    axis: usize,
    exp_table: &[i32],
    step: i32,
    log_table: &[i32],
    input: &[i8],
    shape: &[usize],
    out: &mut [i8],
) {
    let (len, inner) = slices(axis, shape);
    for (x, y) in input.chunks(len * inner).zip(out.chunks_mut(len * inner)) {
        for j in 0..inner {
            let max = (0..len).map(|i| x[i * inner + j] as i32).max().unwrap_or(0);
            let d = |i: usize| (max - x[i * inner + j] as i32) as i64;
            let sum: i64 = (0..len).map(|i| exp_table[d(i) as usize] as i64).sum();
            let ln_sum = log_sum(sum, log_table);
            for i in 0..len {
                let v = d(i) * step as i64 + ln_sum;
                y[i * inner + j] = (127 - ((v + (1 << 15)) >> 16)).clamp(-128, 127) as i8;
            }
        }
    }
}

/// The length of a (log-)softmax's slices along logical `axis` and the storage distance of their elements.
fn slices(axis: usize, shape: &[usize]) -> (usize, usize) {
    let storage = Layout::storage_shape(shape);
    let a = Layout::storage_axis(axis, shape.len());
    (storage[a], storage[a + 1..].iter().product())
}

fn softmax(axis: usize, exp_table: &[i32], input: &[i8], shape: &[usize], out: &mut [i8]) {
    let (len, inner) = slices(axis, shape);
    for (x, y) in input.chunks(len * inner).zip(out.chunks_mut(len * inner)) {
        for j in 0..inner {
            let max = (0..len).map(|i| x[i * inner + j] as i32).max().unwrap_or(0);
            let e = |i: usize| exp_table[(max - x[i * inner + j] as i32) as usize] as i64;
            let sum: i64 = (0..len).map(e).sum();
            for i in 0..len {
                let p = (e(i) * 256 + sum / 2) / sum;
                y[i * inner + j] = (p - 128).clamp(-128, 127) as i8;
            }
        }
    }
}
