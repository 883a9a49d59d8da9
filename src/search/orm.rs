//! OMPQ's orthogonality metric (docs/SEARCH.md): centred linear CKA between the features of every pair of
//! searchable layers on N samples, computed from N x N Gram matrices in f64. Each layer's Gram matrix is
//! accumulated in column chunks as soon as the float run produces that layer's output, so only one layer's
//! features are ever held.

use crate::data::Samples;
use crate::error::Result;
use crate::exec;
use crate::ir::{Graph, Op, TensorId};

/// Which tensor stands for a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tap {
    /// The layer's output after its folded BN and fused activation, or, when it feeds only a residual Add, that
    /// block's output (as the reference implementation taps the last conv of a block).
    Block,
    /// The layer's own output.
    Layer,
}

/// The tensor that represents searchable node `ix`.
pub fn tap_tensor(graph: &Graph, ix: usize, tap: Tap) -> TensorId {
    let out = graph.nodes[ix].output;
    if tap == Tap::Block {
        let consumers: Vec<usize> = graph.consumers(out).collect();
        if let [c] = consumers.as_slice() {
            if matches!(graph.nodes[*c].op, Op::Add { .. }) && out != graph.output {
                return graph.nodes[*c].output;
            }
        }
    }
    out
}

/// Column chunk for the Gram accumulation: N x CHUNK f64 values at a time.
const CHUNK: usize = 4096;

/// The uncentred Gram matrix K = X X^T (n x n, row-major) of n samples of `d` features each.
pub fn gram(features: &[f32], n: usize) -> Vec<f64> {
    let d = features.len() / n.max(1);
    let mut k = vec![0.0f64; n * n];
    let mut block = vec![0.0f64; n * CHUNK];
    for start in (0..d).step_by(CHUNK) {
        let width = CHUNK.min(d - start);
        for s in 0..n {
            for (j, v) in features[s * d + start..s * d + start + width].iter().enumerate() {
                block[s * width + j] = *v as f64;
            }
        }
        // SAFETY: `block` holds n x width values read row-major, its transpose is read with swapped strides,
        // and `k` holds n x n; every index matrixmultiply forms stays inside them.
        unsafe {
            matrixmultiply::dgemm(
                n,
                width,
                n,
                1.0,
                block.as_ptr(),
                width as isize,
                1,
                block.as_ptr(),
                1,
                width as isize,
                1.0,
                k.as_mut_ptr(),
                n as isize,
                1,
            );
        }
    }
    k
}

/// The Gram matrix of every tap on `samples`, in the order of `taps`.
pub fn gram_matrices(graph: &Graph, samples: &Samples, taps: &[TensorId]) -> Result<Vec<Vec<f64>>> {
    let mut grams: Vec<Option<Vec<f64>>> = vec![None; taps.len()];
    exec::run_observed(graph, samples, &mut |t, values| {
        for (i, &tap) in taps.iter().enumerate() {
            if tap == t && grams[i].is_none() {
                grams[i] = Some(gram(values, samples.n));
            }
        }
    })?;
    Ok(grams.into_iter().map(|g| g.expect("every tap is a computed tensor")).collect())
}

/// H K H with H = I - 11^T / n.
fn centred(k: &[f64], n: usize) -> Vec<f64> {
    let row: Vec<f64> = (0..n).map(|i| k[i * n..(i + 1) * n].iter().sum::<f64>() / n as f64).collect();
    let total = row.iter().sum::<f64>() / n as f64;
    (0..n * n).map(|ij| k[ij] - row[ij / n] - row[ij % n] + total).collect()
}

/// The unbiased HSIC estimator (Song et al. 2012) of two uncentred Gram matrices; needs n >= 4.
fn hsic_unbiased(k: &[f64], l: &[f64], n: usize) -> f64 {
    let off = |m: &[f64]| -> Vec<f64> { (0..n * n).map(|ij| if ij / n == ij % n { 0.0 } else { m[ij] }).collect() };
    let (k, l) = (off(k), off(l));
    let trace: f64 = k.iter().zip(&l).map(|(a, b)| a * b).sum(); // tr(K L) for symmetric matrices
    let (sk, sl) = (k.iter().sum::<f64>(), l.iter().sum::<f64>());
    let k_rows: Vec<f64> = (0..n).map(|i| k[i * n..(i + 1) * n].iter().sum()).collect();
    let l_rows: Vec<f64> = (0..n).map(|i| l[i * n..(i + 1) * n].iter().sum()).collect();
    let cross: f64 = k_rows.iter().zip(&l_rows).map(|(a, b)| a * b).sum(); // 1^T K L 1
    let n = n as f64;
    (trace + sk * sl / ((n - 1.0) * (n - 2.0)) - 2.0 / (n - 2.0) * cross) / (n * (n - 3.0))
}

/// An inner product of two Gram matrices of n samples.
type Inner = fn(&[f64], &[f64], usize) -> f64;

/// The orthogonality matrix: CKA between every pair of layers (1 on the diagonal).
pub fn orm(grams: &[Vec<f64>], n: usize, debiased: bool) -> Vec<Vec<f64>> {
    let l = grams.len();
    // Biased: the Frobenius product of centred Grams. Debiased: the unbiased HSIC of the raw Grams.
    let frobenius = |a: &[f64], b: &[f64], _: usize| a.iter().zip(b).map(|(x, y)| x * y).sum();
    let (inner, grams): (Inner, Vec<Vec<f64>>) = if debiased {
        (hsic_unbiased, grams.to_vec())
    } else {
        (frobenius, grams.iter().map(|g| centred(g, n)).collect())
    };
    let inner = |a: &[f64], b: &[f64]| inner(a, b, n);
    let norms: Vec<f64> = grams.iter().map(|g| inner(g, g).max(0.0).sqrt()).collect();
    let mut m = vec![vec![0.0; l]; l];
    for i in 0..l {
        m[i][i] = 1.0;
        for j in i + 1..l {
            let denom = norms[i] * norms[j];
            let v = if denom > 0.0 { (inner(&grams[i], &grams[j]) / denom).clamp(-1.0, 1.0) } else { 0.0 };
            m[i][j] = v;
            m[j][i] = v;
        }
    }
    m
}

/// OMPQ's importance: gamma_i = sum over j != i of ORM_ij, theta_i = exp(-beta (gamma_i - min gamma)) (the safe
/// form; the LP depends only on ratios), and c_i = the mean of theta_j over j >= i in execution order.
pub struct Importance {
    pub gamma: Vec<f64>,
    pub theta: Vec<f64>,
    pub c: Vec<f64>,
}

pub fn importance(orm: &[Vec<f64>], beta: f64) -> Importance {
    let l = orm.len();
    let gamma: Vec<f64> = (0..l).map(|i| (0..l).filter(|&j| j != i).map(|j| orm[i][j]).sum()).collect();
    let min = gamma.iter().copied().fold(f64::INFINITY, f64::min);
    let theta: Vec<f64> = gamma.iter().map(|g| (-beta * (g - min)).exp()).collect();
    let c = (0..l).map(|i| theta[i..].iter().sum::<f64>() / (l - i) as f64).collect();
    Importance { gamma, theta, c }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// n samples of d features from a fixed pseudo-random sequence, in [-0.5, 0.5).
    fn features(n: usize, d: usize, seed: u64) -> Vec<f32> {
        crate::testing::values(n * d, seed).iter().map(|v| v / 2.0).collect()
    }

    #[test]
    fn cka_of_known_feature_pairs() {
        let (n, d) = (16, 40);
        let x = features(n, d, 3);
        let scaled: Vec<f32> = x.iter().map(|v| 3.5 * v).collect();
        // A copy with its features permuted and a constant added: CKA is invariant to both.
        let permuted: Vec<f32> = (0..n * d).map(|i| x[(i / d) * d + (d - 1 - i % d)] + 2.0).collect();
        // Features depending only on the sample's parity and orthogonal (after centring) to a second set.
        let parity: Vec<f32> = (0..n * d).map(|i| if (i / d) % 2 == 0 { 1.0 } else { -1.0 }).collect();
        let halves: Vec<f32> = (0..n * d).map(|i| if (i / d) % 4 < 2 { 1.0 } else { -1.0 }).collect();
        let grams: Vec<Vec<f64>> = [&x, &scaled, &permuted, &parity, &halves].iter().map(|f| gram(f, n)).collect();
        let m = orm(&grams, n, false);
        assert!((m[0][1] - 1.0).abs() < 1e-9 && (m[0][2] - 1.0).abs() < 1e-9, "{m:?}");
        assert!(m[3][4].abs() < 1e-9, "parity and halves are orthogonal: {}", m[3][4]);
        assert!(m[0][3] > 0.0 && m[0][3] < 0.5);
        let debiased = orm(&grams, n, true);
        assert!((debiased[0][1] - 1.0).abs() < 1e-9 && (debiased[0][2] - 1.0).abs() < 1e-9);
        // The biased estimator is inflated for n << d; the debiased one is closer to 0 on independent features.
        let y = features(n, d, 99);
        let pair = [gram(&x, n), gram(&y, n)];
        assert!(orm(&pair, n, true)[0][1].abs() < orm(&pair, n, false)[0][1]);
    }

    #[test]
    fn importance_is_a_suffix_mean_of_theta() {
        let m = vec![vec![1.0, 0.9, 0.1], vec![0.9, 1.0, 0.2], vec![0.1, 0.2, 1.0]];
        let imp = importance(&m, 1.0);
        assert_eq!(imp.gamma, [1.0, 1.1, 0.30000000000000004]);
        assert!((imp.theta[2] - 1.0).abs() < 1e-12 && (imp.theta[0] - (-0.7f64).exp()).abs() < 1e-12);
        assert!((imp.c[0] - imp.theta.iter().sum::<f64>() / 3.0).abs() < 1e-12);
        assert_eq!(imp.c[2], imp.theta[2]);
    }
}
