//! The AdaRound solver for rows sharing one input distribution: per weight, round down or up so that the rows'
//! output error, a quadratic in the weights given the inputs' moments (`Grams`), is smallest.
//!
//! The soft rounding is the rectified sigmoid h(V) = clamp(sigmoid(V) (zeta - gamma) + gamma, 0, 1), pushed to 0 or
//! 1 by the regulariser lambda * sum(1 - |2h - 1|^beta) with beta annealed from 20 to 2 after a warm-up; Adam
//! optimises V with the exact gradient (no autodiff); the weights are then rounded hard (h >= 1/2, i.e. V >= 0,
//! rounds up).

use super::Grams;
use crate::exec::gemm::gemm;

/// The stretch of the rectified sigmoid (the paper's zeta and gamma).
const ZETA: f32 = 1.1;
const GAMMA: f32 = -0.1;

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub iterations: usize,
    pub learning_rate: f32,
    /// The regulariser's weight.
    pub lambda: f32,
    /// Its exponent, annealed linearly from the first to the second after the warm-up.
    pub beta: (f32, f32),
    /// The fraction of the iterations without the regulariser.
    pub warmup: f32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { iterations: 2000, learning_rate: 1e-2, lambda: 0.01, beta: (20.0, 2.0), warmup: 0.2 }
    }
}

/// Where the rectified sigmoid saturates: h(V) = 0 for V <= -V_SAT and 1 for V >= V_SAT (sigmoid(V_SAT) = 11/12).
const V_SAT: f32 = 2.397_895_3; // ln(11) for zeta = 1.1, gamma = -0.1

/// h(V) and dh/dV.
fn soft(v: f32) -> (f32, f32) {
    if v <= -V_SAT {
        return (0.0, 0.0);
    }
    if v >= V_SAT {
        return (1.0, 0.0);
    }
    let s = 1.0 / (1.0 + (-v).exp());
    ((s * (ZETA - GAMMA) + GAMMA).clamp(0.0, 1.0), s * (1.0 - s) * (ZETA - GAMMA))
}

/// Rounds rows x K weights (row-major) at per-row `scales` to integers in [lo, hi], choosing floor or ceil per weight
/// to minimise the layer's output error under `grams`. Weights whose floor is outside [lo, hi - 1] are clipped.
pub fn round_rows(weights: &[f32], scales: &[f32], range: (i32, i32), grams: &Grams, s: &Settings) -> Vec<i8> {
    let k = grams.k;
    assert_eq!(weights.len(), scales.len() * k, "weights and scales disagree");
    // Rows are independent given the Grams: they spread over the cores, each computed the same way in any split.
    crate::parallel::split_samples(scales.len(), |rows| {
        solve(&weights[rows.start * k..rows.end * k], &scales[rows], range, grams, s)
    })
    .concat()
}

fn solve(weights: &[f32], scales: &[f32], (lo, hi): (i32, i32), grams: &Grams, s: &Settings) -> Vec<i8> {
    let (k, rows) = (grams.k, scales.len());
    // Per weight: its floor on the integer grid, and whether it may still go one up.
    let (mut base, mut free) = (vec![0f32; rows * k], vec![false; rows * k]);
    let mut v = vec![0f32; rows * k];
    for (i, &w) in weights.iter().enumerate() {
        let x = w / scales[i / k];
        let f = x.floor();
        if f < lo as f32 {
            base[i] = lo as f32;
        } else if f >= hi as f32 {
            base[i] = hi as f32;
        } else {
            base[i] = f;
            free[i] = true;
            // Start where the soft rounding reproduces the float weight: h(V) = frac.
            let frac = (x - f).clamp(1e-4, 1.0 - 1e-4);
            v[i] = -((ZETA - GAMMA) / (frac - GAMMA) - 1.0).ln();
        }
    }
    // b = W Gqf' (rows x K), fixed: the float rows' side of the gradient.
    let mut b = vec![0f32; rows * k];
    gemm((rows, k, k), weights, &grams.qf, (1, k), 0.0, &mut b);
    let (mut m, mut u) = (vec![0f32; rows * k], vec![0f32; rows * k]);
    let (mut w_tilde, mut gq) = (vec![0f32; rows * k], vec![0f32; rows * k]);
    // h(V) and dh/dV of every weight; both stay 0 for the clipped ones, whose gradient is then 0 and which never move.
    let (mut h, mut dh) = (vec![0f32; rows * k], vec![0f32; rows * k]);
    let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
    let warm = (s.warmup * s.iterations as f32) as usize;
    for t in 0..s.iterations {
        for (r, &scale) in scales.iter().enumerate() {
            for i in r * k..(r + 1) * k {
                if free[i] {
                    (h[i], dh[i]) = soft(v[i]);
                }
                w_tilde[i] = scale * (base[i] + h[i]);
            }
        }
        // d loss / d w~ = 2 (W~ Gqq - W Gqf').
        gemm((rows, k, k), &w_tilde, &grams.qq, (k, 1), 0.0, &mut gq);
        let beta = if t < warm {
            0.0
        } else {
            s.beta.0 + (s.beta.1 - s.beta.0) * (t - warm) as f32 / (s.iterations - warm).max(1) as f32
        };
        // The regulariser's weight (0 during the warm-up) and its derivative's factor.
        let reg = if t < warm { 0.0 } else { 2.0 * s.lambda * beta };
        let (c1, c2) = (1.0 - b1.powi(t as i32 + 1), 1.0 - b2.powi(t as i32 + 1));
        let step = s.learning_rate / c1;
        for (r, &scale) in scales.iter().enumerate() {
            for i in r * k..(r + 1) * k {
                gq[i] = 2.0 * scale * (gq[i] - b[i]);
                // d/dh of lambda (1 - |2h - 1|^beta) is -2 lambda beta |d|^(beta - 1) sign(d), d = 2h - 1; a
                // saturated weight (dh = 0) has no gradient either way.
                if reg != 0.0 && dh[i] != 0.0 {
                    let d = 2.0 * h[i] - 1.0;
                    gq[i] -= reg * d.abs().powf(beta - 1.0).copysign(d);
                }
            }
        }
        let unbias = 1.0 / c2;
        for ((((v, m), u), &grad), &dh) in v.iter_mut().zip(&mut m).zip(&mut u).zip(&gq).zip(&dh) {
            let g = grad * dh;
            *m = b1 * *m + (1.0 - b1) * g;
            *u = b2 * *u + (1.0 - b2) * g * g;
            *v -= step * *m / ((*u * unbias).sqrt() + eps);
        }
    }
    (0..rows * k).map(|i| (base[i] + if free[i] && v[i] >= 0.0 { 1.0 } else { 0.0 }) as i8).collect()
}

#[cfg(test)]
mod tests {
    use super::super::statistics;
    use super::*;
    use crate::ir::{Clamp, Dense, Op};
    use crate::testing::values;

    /// The moments of `n` inputs of length k: xf random, xq = xf plus a small perturbation (the quantized
    /// network's error), the components correlated so that rounding errors interact.
    fn grams(k: usize, n: usize) -> Grams {
        let raw = values(n * k, 1);
        let noise = values(n * k, 2);
        let xf: Vec<f32> = (0..n * k).map(|i| raw[i] + 0.5 * raw[i - i % k]).collect();
        let xq: Vec<f32> = xf.iter().zip(&noise).map(|(x, e)| x + 0.05 * e).collect();
        let dense = Dense { weight: vec![0.0; k], bias: vec![0.0], k, n_out: 1, act: Clamp::NONE };
        let samples: Vec<usize> = (0..n).collect();
        statistics(&Op::Dense(dense), &[1, k], &xq, &xf, &samples).remove(0)
    }

    #[test]
    fn learned_rounding_beats_nearest_on_the_layer_output_and_decides_every_weight() {
        let (rows, k) = (8, 48);
        let g = grams(k, 2000);
        let w = values(rows * k, 3);
        for (bits, range) in [(4u8, (-8, 7)), (2, (-2, 1))] {
            // Scales that leave every weight free to round either way.
            let scales: Vec<f32> = (0..rows).map(|r| (1.0 + r as f32 / 10.0) / range.1 as f32).collect();
            let dequant = |q: &[i8]| q.iter().enumerate().map(|(i, &v)| v as f32 * scales[i / k]).collect::<Vec<_>>();
            let nearest: Vec<i8> = w
                .iter()
                .enumerate()
                .map(|(i, &x)| (x / scales[i / k]).round().clamp(range.0 as f32, range.1 as f32) as i8)
                .collect();
            let learned = round_rows(&w, &scales, range, &g, &Settings::default());
            assert!(learned.iter().all(|&q| (range.0..=range.1).contains(&(q as i32))));
            // Every weight rounds to its floor or its ceiling.
            for (i, &q) in learned.iter().enumerate() {
                let x = (w[i] / scales[i / k]).clamp(range.0 as f32, range.1 as f32);
                assert!((q as f32 - x).abs() < 1.0 + 1e-5, "{bits} bits, weight {i}: {q} for {x}");
            }
            let (ln, ll) = (g.loss(&dequant(&nearest), &w), g.loss(&dequant(&learned), &w));
            // Both up to the same constant: compare the excess over the float weights' own loss.
            let floor = g.loss(&w, &w);
            eprintln!("{bits} bits: excess loss nearest {:.5}, learned {:.5}", ln - floor, ll - floor);
            // Measured: 28% lower at 4 bits, 6% at 2 (where the inputs' own error dominates this synthetic loss).
            let bound = if bits == 4 { 0.8 } else { 1.0 };
            assert!(ll - floor < bound * (ln - floor), "{bits} bits: learned {} vs nearest {}", ll - floor, ln - floor);
        }
    }
}
