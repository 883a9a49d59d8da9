//! Convolutions (im2col + GEMM, with direct paths for pointwise and depthwise) and dense layers.

use super::chw;
use super::gemm::gemm;
use crate::ir::{Clamp, Conv, Dense};
use crate::parallel::for_each_sample;

/// The output positions `o` in 0..n_out whose input index `o * stride + offset` lies in 0..len.
pub(crate) fn valid_range(n_out: usize, stride: usize, offset: isize, len: usize) -> std::ops::Range<usize> {
    let (s, len) = (stride as isize, len as isize);
    let lo = if offset >= 0 { 0 } else { (-offset + s - 1) / s };
    let hi = if len - 1 - offset < 0 { 0 } else { (len - 1 - offset) / s + 1 };
    let (lo, hi) = (lo.max(0) as usize, (hi.max(0) as usize).min(n_out));
    lo..hi.max(lo)
}

fn clamp_all(out: &mut [f32], act: Clamp) {
    if !act.is_none() {
        out.iter_mut().for_each(|v| *v = act.apply(*v));
    }
}

pub fn conv(c: &Conv, input: &[f32], in_shape: &[usize], out_shape: &[usize], n: usize, out: &mut [f32]) {
    let (ci, h, w) = chw(in_shape);
    let (co, ho, wo) = chw(out_shape);
    let in_len = ci * h * w;
    for_each_sample(out, n, |s, y| {
        let x = &input[s * in_len..(s + 1) * in_len];
        for (ch, row) in y.chunks_mut(ho * wo).enumerate() {
            row.fill(c.bias[ch]);
        }
        let pointwise =
            c.window.kernel == [1, 1] && c.window.strides == [1, 1] && c.window.pads == [0; 4] && c.groups == 1;
        if pointwise {
            gemm((co, ci, ho * wo), &c.weight, x, (h * w, 1), 1.0, y);
        } else if c.is_depthwise() {
            depthwise(c, x, (h, w), (ho, wo), y);
        } else {
            grouped(c, x, (h, w), (ho, wo), y);
        }
        clamp_all(y, c.act);
    });
}

/// One channel per group: a direct loop nest, contiguous along the output row.
fn depthwise(c: &Conv, x: &[f32], (h, w): (usize, usize), (ho, wo): (usize, usize), y: &mut [f32]) {
    let [kh, kw] = c.window.kernel;
    for ch in 0..c.c_out {
        let plane = &x[ch * h * w..(ch + 1) * h * w];
        let taps = &c.weight[ch * kh * kw..(ch + 1) * kh * kw];
        let out = &mut y[ch * ho * wo..(ch + 1) * ho * wo];
        for ky in 0..kh {
            let y_off = (ky * c.window.dilations[0]) as isize - c.window.pads[0] as isize;
            for oy in valid_range(ho, c.window.strides[0], y_off, h) {
                let iy = (oy * c.window.strides[0]) as isize + y_off;
                let in_row = &plane[iy as usize * w..(iy as usize + 1) * w];
                let out_row = &mut out[oy * wo..(oy + 1) * wo];
                for kx in 0..kw {
                    let tap = taps[ky * kw + kx];
                    let x_off = (kx * c.window.dilations[1]) as isize - c.window.pads[1] as isize;
                    let cols = valid_range(wo, c.window.strides[1], x_off, w);
                    let sx = c.window.strides[1];
                    for ox in cols {
                        out_row[ox] += tap * in_row[((ox * sx) as isize + x_off) as usize];
                    }
                }
            }
        }
    }
}

/// im2col of one group into `col` ([cin_g * kh * kw] rows of ho * wo), then one GEMM per group.
fn grouped(c: &Conv, x: &[f32], (h, w): (usize, usize), (ho, wo): (usize, usize), y: &mut [f32]) {
    let [kh, kw] = c.window.kernel;
    let cin_g = c.c_in / c.groups;
    let cout_g = c.c_out / c.groups;
    let k = cin_g * kh * kw;
    let mut col = vec![0.0f32; k * ho * wo];
    for g in 0..c.groups {
        col.fill(0.0);
        for cg in 0..cin_g {
            let plane = &x[(g * cin_g + cg) * h * w..][..h * w];
            for ky in 0..kh {
                let y_off = (ky * c.window.dilations[0]) as isize - c.window.pads[0] as isize;
                let rows = valid_range(ho, c.window.strides[0], y_off, h);
                for kx in 0..kw {
                    let x_off = (kx * c.window.dilations[1]) as isize - c.window.pads[1] as isize;
                    let cols = valid_range(wo, c.window.strides[1], x_off, w);
                    let dst = &mut col[((cg * kh + ky) * kw + kx) * ho * wo..][..ho * wo];
                    for oy in rows.clone() {
                        let iy = ((oy * c.window.strides[0]) as isize + y_off) as usize;
                        for ox in cols.clone() {
                            dst[oy * wo + ox] = plane[iy * w + ((ox * c.window.strides[1]) as isize + x_off) as usize];
                        }
                    }
                }
            }
        }
        let weights = &c.weight[g * cout_g * k..(g + 1) * cout_g * k];
        gemm(
            (cout_g, k, ho * wo),
            weights,
            &col,
            (ho * wo, 1),
            1.0,
            &mut y[g * cout_g * ho * wo..(g + 1) * cout_g * ho * wo],
        );
    }
}

/// y = x W^T + b over the last axis, for every row of every sample in one product.
pub fn dense(d: &Dense, input: &[f32], out: &mut [f32]) {
    let rows = input.len() / d.k;
    for row in out.chunks_mut(d.n_out) {
        row.copy_from_slice(&d.bias);
    }
    gemm((rows, d.k, d.n_out), input, &d.weight, (1, d.k), 1.0, out);
    clamp_all(out, d.act);
}

#[cfg(test)]
mod tests {
    use super::valid_range;

    #[test]
    fn valid_range_keeps_inputs_in_bounds() {
        for n_out in 0..6 {
            for stride in 1..4 {
                for offset in -4..4isize {
                    for len in 1..8 {
                        let r = valid_range(n_out, stride, offset, len);
                        for o in 0..n_out {
                            let i = (o * stride) as isize + offset;
                            assert_eq!(
                                r.contains(&o),
                                i >= 0 && i < len as isize,
                                "{n_out} {stride} {offset} {len} {o}"
                            );
                        }
                    }
                }
            }
        }
    }
}
