//! Symmetric per-output-channel weight quantization at any width 2..8, with the clipping scale of each channel
//! chosen to minimise the quantization error of its weights.

use crate::ir::pack::weight_range;

/// Quantized rows and their scales: real ~= scale[r] * q[r][j].
pub struct QuantizedRows {
    pub values: Vec<i8>,
    pub scales: Vec<f32>,
}

/// Clip ratios tried per channel: the scale is ratio * max|w| / (2^(b-1) - 1).
const RATIOS: usize = 100;

pub fn quantize_rows(weights: &[f32], rows: usize, k: usize, bits: u8) -> QuantizedRows {
    let (lo, hi) = weight_range(bits);
    let mut values = Vec::with_capacity(weights.len());
    let mut scales = Vec::with_capacity(rows);
    for row in weights.chunks(k.max(1)).take(rows) {
        let max = row.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        if max == 0.0 {
            values.extend(std::iter::repeat_n(0, row.len()));
            scales.push(1.0);
            continue;
        }
        // The same rounding as `requantize_row`.
        let quantize = |scale: f32| row.iter().map(move |&w| (w / scale).round().clamp(lo as f32, hi as f32));
        let error = |scale: f32| quantize(scale).zip(row).map(|(q, &w)| (q * scale - w).powi(2)).sum::<f32>();
        let best = (1..=RATIOS)
            .map(|i| i as f32 / RATIOS as f32 * max / hi as f32)
            .map(|s| (error(s), s))
            .fold((f32::INFINITY, max / hi as f32), |best, c| if c.0 < best.0 { c } else { best });
        values.extend(quantize(best.1).map(|q| q as i8));
        scales.push(best.1);
    }
    QuantizedRows { values, scales }
}

/// Re-quantizes one row at a given scale.
pub fn requantize_row(values: &mut [i8], row: &[f32], scale: f32, bits: u8) {
    let (lo, hi) = weight_range(bits);
    for (q, &w) in values.iter_mut().zip(row) {
        *q = (w / scale).round().clamp(lo as f32, hi as f32) as i8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_bits_is_nearly_lossless_and_two_bits_uses_four_levels() {
        let row: Vec<f32> = (0..64).map(|i| ((i * 37) % 64) as f32 / 32.0 - 1.0).collect();
        let q8 = quantize_rows(&row, 1, 64, 8);
        let err8 = row.iter().zip(&q8.values).map(|(w, &q)| (w - q as f32 * q8.scales[0]).abs()).fold(0.0, f32::max);
        assert!(err8 <= q8.scales[0] / 2.0 + 1e-6 && q8.scales[0] <= 1.0 / 127.0 + 1e-6);
        let q2 = quantize_rows(&row, 1, 64, 2);
        let mut levels: Vec<i8> = q2.values.clone();
        levels.sort();
        levels.dedup();
        assert_eq!(levels, [-2, -1, 0, 1]);
        let mse = |q: &QuantizedRows| {
            row.iter().zip(&q.values).map(|(w, &v)| (w - v as f32 * q.scales[0]).powi(2)).sum::<f32>()
        };
        let q4 = quantize_rows(&row, 1, 64, 4);
        assert!(mse(&q8) < mse(&q4) && mse(&q4) < mse(&q2));
    }

    #[test]
    fn zero_rows_quantize_to_zero() {
        let q = quantize_rows(&[0.0; 6], 2, 3, 4);
        assert_eq!((q.values, q.scales), (vec![0; 6], vec![1.0, 1.0]));
    }
}
