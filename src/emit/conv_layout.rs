//! The constants of the C column and plane convolution kernels: they read their inputs from copies in which the
//! padding holds the input zero point, so the zero-point term moves into the bias; on the DSP they read a row's
//! weights one 32-bit word at a time.

use crate::ir::pack::PackedWeights;

/// Power-of-two factor by which the DSP kernel's sums are scaled: it sign-extends a field after moving it to the top
/// of its byte.
pub fn dsp_scale(bits: u8) -> i64 {
    1 << (8 - bits)
}

/// Per output channel: bias - in_zp * (sum of the row's weights), so that inputs need no zero-point subtraction
/// (padding, which holds the zero point, then contributes nothing). `None` when a partial sum of the kernel could
/// leave int32 (the quantizer's proof bounds the unfolded sums; folding and the DSP scale widen them).
pub fn folded_bias(w: &PackedWeights, bias: &[i32], in_zp: i32) -> Option<Vec<i32>> {
    let values = w.unpack();
    bias.iter()
        .enumerate()
        .map(|(r, &b)| {
            let row = &values[r * w.k..(r + 1) * w.k];
            let sum: i64 = row.iter().map(|&v| v as i64).sum();
            let abs: i64 = row.iter().map(|&v| (v as i64).abs()).sum();
            let folded = b as i64 - in_zp as i64 * sum;
            let fits = |v: i64| v <= i32::MAX as i64;
            (fits(folded.abs() + 128 * abs) && fits(128 * abs * dsp_scale(w.bits))).then_some(folded as i32)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_bias_subtracts_the_zero_point_term_and_refuses_overflow() {
        let w = PackedWeights::pack(&[1, -2, 3, 4, 5, 6], 2, 3, 8);
        assert_eq!(folded_bias(&w, &[10, -10], -128), Some(vec![10 + 128 * 2, -10 + 128 * 15]));
        let big = PackedWeights::pack(&vec![-128; 140_000], 1, 140_000, 8);
        assert_eq!(folded_bias(&big, &[0], 0), None);
    }
}
