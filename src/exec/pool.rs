//! Pooling, padding and resampling over NCHW planes.

use super::chw;
use crate::ir::resample::Resize;
use crate::ir::Pool;

pub fn pool(p: &Pool, max: bool, input: &[f32], in_shape: &[usize], out_shape: &[usize], out: &mut [f32]) {
    let (_, h, w) = chw(in_shape);
    let (_, ho, wo) = chw(out_shape);
    for (plane, out_plane) in input.chunks(h * w).zip(out.chunks_mut(ho * wo)) {
        for oy in 0..ho {
            for ox in 0..wo {
                let values = p.window.taps(oy, ox, h, w).map(|(iy, ix)| plane[iy * w + ix]);
                out_plane[oy * wo + ox] = if max {
                    values.fold(f32::NEG_INFINITY, f32::max)
                } else {
                    let (sum, count) = values.fold((0.0, 0), |(s, c), v| (s + v, c + 1));
                    let divisor = if p.count_include_pad { p.window.padded_count(oy, ox, h, w) } else { count };
                    sum / divisor.max(1) as f32
                };
            }
        }
    }
}

/// Mean over every spatial position of each channel.
pub fn global_average(input: &[f32], in_shape: &[usize], n: usize, out: &mut [f32]) {
    let plane = in_shape[2..].iter().product::<usize>();
    let channels = n * in_shape[1];
    for (c, o) in out.iter_mut().enumerate().take(channels) {
        *o = input[c * plane..(c + 1) * plane].iter().sum::<f32>() / plane as f32;
    }
}

pub fn pad(pads: [usize; 4], value: f32, input: &[f32], in_shape: &[usize], out_shape: &[usize], out: &mut [f32]) {
    let (_, h, w) = chw(in_shape);
    let (_, ho, wo) = chw(out_shape);
    out.fill(value);
    for (plane, out_plane) in input.chunks(h * w).zip(out.chunks_mut(ho * wo)) {
        for y in 0..h {
            let dst = (y + pads[0]) * wo + pads[1];
            out_plane[dst..dst + w].copy_from_slice(&plane[y * w..(y + 1) * w]);
        }
    }
}

/// Separable resampling by tap tables, in f64 as ONNX's reference computes it: each plane of `in_shape` read through
/// `r`'s height taps, then its width taps.
pub fn resize(r: &Resize, input: &[f32], in_shape: &[usize], out: &mut [f32]) {
    let (_, h, w) = chw(in_shape);
    let (ho, wo) = (r.y.out_len(), r.x.out_len());
    for (plane, out_plane) in input.chunks(h * w).zip(out.chunks_mut(ho * wo)) {
        for oy in 0..ho {
            for ox in 0..wo {
                let sum: f64 =
                    r.y.of(oy)
                        .map(|(iy, wy)| wy * r.x.of(ox).map(|(ix, wx)| wx * plane[iy * w + ix] as f64).sum::<f64>())
                        .sum();
                out_plane[oy * wo + ox] = sum as f32;
            }
        }
    }
}
