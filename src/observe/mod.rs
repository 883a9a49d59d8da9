//! Calibration: run the float graph on calibration samples and record what quantization needs — each tensor's
//! value range (clipped by the chosen method) and, for each conv and dense layer, the mean of its input patch
//! (for bias correction).

use crate::data::Samples;
use crate::error::{Error, Result};
use crate::exec;
use crate::exec::valid_range;
use crate::ir::{Graph, Op};

/// How an activation's quantization range is chosen from the calibration values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RangeMethod {
    /// The observed minimum and maximum.
    MinMax,
    /// The given percentile at the top and its mirror at the bottom (e.g. 99.99).
    Percentile(f64),
    /// The range minimising the expected quantization error (rounding plus clipping) over the observed values.
    Mse,
}

impl std::str::FromStr for RangeMethod {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "minmax" => Ok(RangeMethod::MinMax),
            "mse" => Ok(RangeMethod::Mse),
            "percentile" => Ok(RangeMethod::Percentile(99.99)),
            p if p.starts_with("percentile:") => match p["percentile:".len()..].parse::<f64>() {
                Ok(v) if v > 50.0 && v <= 100.0 => Ok(RangeMethod::Percentile(v)),
                _ => Err(format!("'{p}': the percentile must be in (50, 100]")),
            },
            other => Err(format!("'{other}' is not a range method (minmax, percentile[:P], mse)")),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Observations {
    /// Per tensor: the quantization range [lo, hi] (0 included).
    pub ranges: Vec<(f32, f32)>,
    /// Per node: the mean input patch of a Conv ([c_in][kernel_h][kernel_w], zero padding included) or Dense ([k]).
    pub input_means: Vec<Option<Vec<f64>>>,
    pub samples: usize,
}

impl Observations {
    /// Nothing observed: a QDQ model compiled without calibration data (its own scales are used).
    pub fn none(graph: &Graph) -> Observations {
        Observations {
            ranges: vec![(0.0, 0.0); graph.tensors.len()],
            input_means: vec![None; graph.nodes.len()],
            samples: 0,
        }
    }
}

const BINS: usize = 2048;

/// Observes `calib` on the float graph.
pub fn observe(graph: &Graph, calib: &Samples, method: RangeMethod) -> Result<Observations> {
    if calib.n == 0 {
        return Err(Error::input("the calibration set is empty"));
    }
    let mut minmax = vec![(f32::INFINITY, f32::NEG_INFINITY); graph.tensors.len()];
    let mut input_means: Vec<Option<Vec<f64>>> = vec![None; graph.nodes.len()];
    exec::run_observed(graph, calib, &mut |t, values| {
        let r = &mut minmax[t];
        // Infinities and NaN (a logarithm of 0, a square root of a negative) do not set the range: the integer
        // model saturates the one and maps the other to 0.
        for &v in values.iter().filter(|v| v.is_finite()) {
            r.0 = r.0.min(v);
            r.1 = r.1.max(v);
        }
        for ix in graph.consumers(t) {
            input_means[ix] = mean_input(graph, ix, values, calib.n);
        }
    })?;
    let ranges = match method {
        RangeMethod::MinMax => minmax.clone(),
        _ => {
            let mut histograms: Vec<Vec<u64>> = vec![vec![0; BINS]; graph.tensors.len()];
            exec::run_observed(graph, calib, &mut |t, values| {
                let (lo, hi) = minmax[t];
                let width = (hi - lo).max(f32::MIN_POSITIVE);
                for &v in values {
                    let b = (((v - lo) / width) * BINS as f32) as usize;
                    histograms[t][b.min(BINS - 1)] += 1;
                }
            })?;
            minmax.iter().zip(&histograms).map(|(&r, h)| clip_range(r, h, method)).collect()
        }
    };
    let ranges = ranges.into_iter().map(|(lo, hi)| (lo.min(0.0), hi.max(0.0))).collect();
    Ok(Observations { ranges, input_means, samples: calib.n })
}

/// The mean input patch of node `ix` over the batch in `values` (its input).
fn mean_input(graph: &Graph, ix: usize, values: &[f32], n: usize) -> Option<Vec<f64>> {
    let node = &graph.nodes[ix];
    match &node.op {
        Op::Conv(c) => {
            let (ci, h, w) = exec::chw(&graph.tensor(node.inputs[0]).shape);
            let (_, ho, wo) = exec::chw(&graph.tensor(node.output).shape);
            let [kh, kw] = c.window.kernel;
            let mut means = vec![0.0f64; ci * kh * kw];
            for (s, plane) in values.chunks(h * w).enumerate() {
                let channel = s % ci;
                for ky in 0..kh {
                    let y_off = (ky * c.window.dilations[0]) as isize - c.window.pads[0] as isize;
                    let rows = valid_range(ho, c.window.strides[0], y_off, h);
                    for kx in 0..kw {
                        let x_off = (kx * c.window.dilations[1]) as isize - c.window.pads[1] as isize;
                        let cols = valid_range(wo, c.window.strides[1], x_off, w);
                        let mut sum = 0.0f64;
                        for oy in rows.clone() {
                            let iy = ((oy * c.window.strides[0]) as isize + y_off) as usize;
                            for ox in cols.clone() {
                                sum += plane[iy * w + ((ox * c.window.strides[1]) as isize + x_off) as usize] as f64;
                            }
                        }
                        means[(channel * kh + ky) * kw + kx] += sum;
                    }
                }
            }
            let count = (n * ho * wo) as f64;
            Some(means.into_iter().map(|m| m / count).collect())
        }
        Op::Dense(d) => {
            let mut means = vec![0.0f64; d.k];
            let rows = values.len() / d.k;
            for row in values.chunks(d.k) {
                means.iter_mut().zip(row).for_each(|(m, &v)| *m += v as f64);
            }
            Some(means.into_iter().map(|m| m / rows as f64).collect())
        }
        _ => None,
    }
}

/// A clipped range from a histogram of `BINS` equal bins over the observed [lo, hi].
fn clip_range((lo, hi): (f32, f32), hist: &[u64], method: RangeMethod) -> (f32, f32) {
    let total: u64 = hist.iter().sum();
    if total == 0 || hi <= lo {
        return (lo, hi);
    }
    let width = (hi - lo) as f64 / BINS as f64;
    let edge = |b: usize| lo as f64 + b as f64 * width;
    match method {
        RangeMethod::MinMax => (lo, hi),
        RangeMethod::Percentile(p) => {
            let tail = ((100.0 - p) / 100.0 * total as f64) as u64;
            let (mut below, mut first) = (0u64, 0usize);
            while first < BINS && below + hist[first] <= tail {
                below += hist[first];
                first += 1;
            }
            let (mut above, mut last) = (0u64, BINS);
            while last > first + 1 && above + hist[last - 1] <= tail {
                above += hist[last - 1];
                last -= 1;
            }
            (edge(first) as f32, edge(last) as f32)
        }
        RangeMethod::Mse => {
            // Shrink both ends towards zero by the same factor; keep the factor with the least expected error.
            let error = |clip_lo: f64, clip_hi: f64| -> f64 {
                let step = (clip_hi.max(0.0) - clip_lo.min(0.0)) / 255.0;
                hist.iter()
                    .enumerate()
                    .map(|(b, &count)| {
                        let x = edge(b) + width / 2.0;
                        let e = if x < clip_lo {
                            (clip_lo - x).powi(2)
                        } else if x > clip_hi {
                            (x - clip_hi).powi(2)
                        } else {
                            step * step / 12.0
                        };
                        e * count as f64
                    })
                    .sum()
            };
            let best = (0..100)
                .map(|i| 1.0 - i as f64 / 100.0)
                .map(|r| (error(lo as f64 * r, hi as f64 * r), r))
                .fold((f64::INFINITY, 1.0), |best, c| if c.0 < best.0 { c } else { best });
            ((lo as f64 * best.1) as f32, (hi as f64 * best.1) as f32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_drops_the_tails() {
        let mut hist = vec![0u64; BINS];
        hist[0] = 1; // one outlier at the bottom
        hist[1000] = 9998;
        hist[BINS - 1] = 1; // and one at the top
        let (lo, hi) = clip_range((-10.0, 10.0), &hist, RangeMethod::Percentile(99.99));
        assert!(lo > -9.0 && hi < 9.0, "{lo} {hi}");
        assert_eq!(clip_range((-10.0, 10.0), &hist, RangeMethod::MinMax), (-10.0, 10.0));
    }

    #[test]
    fn mse_balances_rounding_against_clipping() {
        // n values near 0 and one at the top of [0, 1]: the error at clip c is n (c/255)^2 / 12 + (1 - c)^2,
        // least at c = 1 / (1 + n / (12 * 255^2)).
        for n in [1_000u64, 100_000, 10_000_000] {
            let mut hist = vec![0u64; BINS];
            hist[0] = n;
            hist[BINS - 1] = 1;
            let (_, hi) = clip_range((0.0, 1.0), &hist, RangeMethod::Mse);
            let best = 1.0 / (1.0 + n as f64 / (12.0 * 255.0 * 255.0));
            assert!((hi as f64 - best).abs() <= 0.011, "n {n}: clip {hi}, best {best}");
        }
        assert_eq!("percentile:99.9".parse(), Ok(RangeMethod::Percentile(99.9)));
        assert!("bogus".parse::<RangeMethod>().is_err());
    }
}
