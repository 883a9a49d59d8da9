//! Pooling and padding over NCHW planes.

use super::chw;
use crate::ir::Pool;

pub fn pool(p: &Pool, max: bool, input: &[f32], in_shape: &[usize], out_shape: &[usize], out: &mut [f32]) {
    let (_, h, w) = chw(in_shape);
    let (_, ho, wo) = chw(out_shape);
    let [kh, kw] = p.kernel;
    for (plane, out_plane) in input.chunks(h * w).zip(out.chunks_mut(ho * wo)) {
        for oy in 0..ho {
            for ox in 0..wo {
                let (mut acc, mut count) = (if max { f32::NEG_INFINITY } else { 0.0 }, 0usize);
                for ky in 0..kh {
                    let iy = (oy * p.strides[0] + ky * p.dilations[0]) as isize - p.pads[0] as isize;
                    if iy < 0 || iy >= h as isize {
                        continue;
                    }
                    for kx in 0..kw {
                        let ix = (ox * p.strides[1] + kx * p.dilations[1]) as isize - p.pads[1] as isize;
                        if ix < 0 || ix >= w as isize {
                            continue;
                        }
                        let v = plane[iy as usize * w + ix as usize];
                        acc = if max { acc.max(v) } else { acc + v };
                        count += 1;
                    }
                }
                out_plane[oy * wo + ox] = if max {
                    acc
                } else {
                    let divisor = if p.count_include_pad { padded_count(p, oy, ox, h, w) } else { count };
                    acc / divisor.max(1) as f32
                };
            }
        }
    }
}

/// Window positions inside the padded input (ONNX's count_include_pad divisor; a ceil-mode window hanging past
/// the padding counts only what is inside it).
fn padded_count(p: &Pool, oy: usize, ox: usize, h: usize, w: usize) -> usize {
    let span = |o: usize, a: usize, len: usize| {
        let start = o * p.strides[a];
        let end = (start + p.kernel[a]).min(len + p.pads[a] + p.pads[a + 2]);
        end.saturating_sub(start)
    };
    span(oy, 0, h) * span(ox, 1, w)
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
