//! The first and second moments of a layer's inputs that AdaRound and its bias-correction check need: per group
//! of rows, over every output position of the chosen samples, the mean input column in the quantized and the float
//! network and the K x K Gram matrices E[xq xq'] and E[xq xf'].

use crate::exec::gemm::gemm;
use crate::ir::{Conv, Op};

/// The moments of one group's input columns (K values in weight-row order), averaged over positions.
pub struct Grams {
    pub k: usize,
    /// E[xq xq'], row-major K x K.
    pub qq: Vec<f32>,
    /// E[xq xf'].
    pub qf: Vec<f32>,
    /// E[xq] and E[xf].
    pub mean_q: Vec<f32>,
    pub mean_f: Vec<f32>,
}

impl Grams {
    fn new(k: usize) -> Grams {
        Grams { k, qq: vec![0.0; k * k], qf: vec![0.0; k * k], mean_q: vec![0.0; k], mean_f: vec![0.0; k] }
    }

    /// Adds `positions` columns (positions x K, row-major) of both networks.
    fn add(&mut self, cq: &[f32], cf: &[f32], positions: usize) {
        let k = self.k;
        // E += cols' cols: (K x P) times (P x K), the first operand read transposed.
        let cq_t: Vec<f32> = (0..k * positions).map(|i| cq[(i % positions) * k + i / positions]).collect();
        gemm((k, positions, k), &cq_t, cq, (k, 1), 1.0, &mut self.qq);
        gemm((k, positions, k), &cq_t, cf, (k, 1), 1.0, &mut self.qf);
        for p in 0..positions {
            let (q, f) = (&cq[p * k..(p + 1) * k], &cf[p * k..(p + 1) * k]);
            self.mean_q.iter_mut().zip(q).for_each(|(m, v)| *m += v);
            self.mean_f.iter_mut().zip(f).for_each(|(m, v)| *m += v);
        }
    }

    fn average(mut self, count: usize) -> Grams {
        let scale = 1.0 / count.max(1) as f32;
        for v in self.qq.iter_mut().chain(&mut self.qf).chain(&mut self.mean_q).chain(&mut self.mean_f) {
            *v *= scale;
        }
        self
    }

    /// The moments of two disjoint sets of samples together, `a` holding the fraction `share` of them.
    pub fn pooled(a: &Grams, b: &Grams, share: f32) -> Grams {
        let mix = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(x, y)| share * x + (1.0 - share) * y).collect();
        Grams {
            k: a.k,
            qq: mix(&a.qq, &b.qq),
            qf: mix(&a.qf, &b.qf),
            mean_q: mix(&a.mean_q, &b.mean_q),
            mean_f: mix(&a.mean_f, &b.mean_f),
        }
    }

    /// The mean reconstruction loss of rows `w_tilde` against their float rows `w` (both rows x K), up to the
    /// constant sum of w' E[xf xf'] w.
    pub fn loss(&self, w_tilde: &[f32], w: &[f32]) -> f64 {
        let k = self.k;
        let rows = w.len() / k.max(1);
        let (mut a, mut b) = (vec![0.0f32; rows * k], vec![0.0f32; rows * k]);
        gemm((rows, k, k), w_tilde, &self.qq, (k, 1), 0.0, &mut a);
        gemm((rows, k, k), w, &self.qf, (1, k), 0.0, &mut b);
        let dot = |x: &[f32], y: &[f32]| x.iter().zip(y).map(|(&p, &q)| p as f64 * q as f64).sum::<f64>();
        dot(w_tilde, &a) - 2.0 * dot(w_tilde, &b)
    }
}

/// The moments of every group of a conv or dense layer whose input has logical shape `shape` (one sample), from
/// its inputs in the quantized (`xq`) and float (`xf`) networks (samples back to back), over `samples`.
pub fn statistics(op: &Op, shape: &[usize], xq: &[f32], xf: &[f32], samples: &[usize]) -> Vec<Grams> {
    let len: usize = shape.iter().product();
    match op {
        Op::Conv(c) => conv_statistics(c, shape, xq, xf, samples),
        Op::Dense(d) => {
            // A dense layer's input is already positions x K, row-major.
            let positions = len / d.k.max(1);
            let mut grams = Grams::new(d.k);
            for &s in samples {
                let at = s * len..(s + 1) * len;
                grams.add(&xq[at.clone()], &xf[at], positions);
            }
            vec![grams.average(samples.len() * positions)]
        }
        _ => vec![],
    }
}

/// A convolution's columns: per output position, its window read in the weight rows' order ([ky][kx][ci] within
/// the group), padding as zeros. `shape` is [1, C, H, W] or [1, C, W].
fn conv_statistics(c: &Conv, shape: &[usize], xq: &[f32], xf: &[f32], samples: &[usize]) -> Vec<Grams> {
    let (h, w) = match shape {
        [_, _, h, w] => (*h, *w),
        [_, _, w] => (1, *w),
        _ => (1, 1),
    };
    let win = &c.window;
    let span = |a: usize, len: usize| {
        (len + win.pads[a] + win.pads[a + 2] - (win.kernel[a] - 1) * win.dilations[a] - 1) / win.strides[a] + 1
    };
    let (out_h, out_w) = (span(0, h), span(1, w));
    let (cin_g, taps) = (c.c_in / c.groups, win.kernel[0] * win.kernel[1]);
    let (k, positions, plane) = (taps * cin_g, out_h * out_w, h * w);
    // Per position and tap: the input pixel it reads, or None in the padding.
    let pixels: Vec<Option<usize>> = (0..positions)
        .flat_map(|p| (0..taps).map(move |t| (p / out_w, p % out_w, t / win.kernel[1], t % win.kernel[1])))
        .map(|(oy, ox, ky, kx)| {
            let at =
                |o: usize, kk: usize, a: usize| (o * win.strides[a] + kk * win.dilations[a]).checked_sub(win.pads[a]);
            match (at(oy, ky, 0), at(ox, kx, 1)) {
                (Some(iy), Some(ix)) if iy < h && ix < w => Some(iy * w + ix),
                _ => None,
            }
        })
        .collect();
    let (mut cq, mut cf) = (vec![0f32; positions * k], vec![0f32; positions * k]);
    (0..c.groups)
        .map(|g| {
            let mut grams = Grams::new(k);
            for &s in samples {
                let channels = (s * c.c_in + g * cin_g) * plane;
                for (i, pixel) in pixels.iter().enumerate() {
                    let (p, t) = (i / taps, i % taps);
                    for ci in 0..cin_g {
                        let at = p * k + t * cin_g + ci;
                        (cq[at], cf[at]) = match pixel {
                            Some(px) => (xq[channels + ci * plane + px], xf[channels + ci * plane + px]),
                            None => (0.0, 0.0),
                        };
                    }
                }
                grams.add(&cq, &cf, positions);
            }
            grams.average(samples.len() * positions)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Clamp, Dense, Window};
    use crate::testing::values;

    #[test]
    fn a_pointwise_conv_sees_its_pixels_as_a_dense_layer_sees_its_inputs() {
        let (c_in, h, w, n) = (3, 4, 5, 2);
        let xf = values(n * c_in * h * w, 5);
        let xq: Vec<f32> = xf.iter().map(|v| (v * 8.0).round() / 8.0).collect();
        let conv = Conv {
            weight: vec![0.0; 2 * c_in],
            bias: vec![0.0; 2],
            c_in,
            c_out: 2,
            groups: 1,
            window: Window::POINT,
            act: Clamp::NONE,
        };
        let samples = [0, 1];
        let g = &statistics(&Op::Conv(conv.clone()), &[1, c_in, h, w], &xq, &xf, &samples)[0];
        // The same inputs as rows of pixels, channels last: a dense layer over [1, H * W, C].
        let pixels = |x: &[f32]| -> Vec<f32> {
            (0..n * h * w)
                .flat_map(|p| (0..c_in).map(move |c| (p / (h * w), c, p % (h * w))))
                .map(|(s, c, i)| x[(s * c_in + c) * h * w + i])
                .collect()
        };
        let dense =
            Op::Dense(Dense { weight: vec![0.0; 2 * c_in], bias: vec![0.0; 2], k: c_in, n_out: 2, act: Clamp::NONE });
        let d = &statistics(&dense, &[1, h * w, c_in], &pixels(&xq), &pixels(&xf), &samples)[0];
        let pairs = g.qq.iter().zip(&d.qq).chain(g.qf.iter().zip(&d.qf));
        for (a, b) in pairs.chain(g.mean_q.iter().zip(&d.mean_q)).chain(g.mean_f.iter().zip(&d.mean_f)) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        // A 3x3 window with padding: the centre tap's block is the pointwise one (every pixel is a centre), and a
        // corner tap reads padding at the first row and column of outputs.
        let padded = Conv {
            window: Window { kernel: [3, 3], pads: [1, 1, 1, 1], ..Window::POINT },
            weight: vec![0.0; 2 * c_in * 9],
            ..conv
        };
        let g3 = &statistics(&Op::Conv(padded), &[1, c_in, h, w], &xq, &xf, &samples)[0];
        let k = 9 * c_in;
        for i in 0..c_in {
            for j in 0..c_in {
                let centre = (4 * c_in + i) * k + 4 * c_in + j;
                assert!((g3.qf[centre] - d.qf[i * c_in + j]).abs() < 1e-5);
            }
            // Tap 0 (top left) of channel i averages the pixels of rows 0..h-1 and columns 0..w-1 only.
            let inside: f32 = (0..n)
                .flat_map(|s| (0..h - 1).flat_map(move |y| (0..w - 1).map(move |x| (s, y, x))))
                .map(|(s, y, x)| xf[(s * c_in + i) * h * w + y * w + x])
                .sum();
            assert!((g3.mean_f[i] - inside / (n * h * w) as f32).abs() < 1e-5);
        }
    }
}
