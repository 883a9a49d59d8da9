//! The constants of the C column and plane convolution kernels: they read their inputs from copies in which the
//! padding holds the input zero point, so the zero-point term moves into the bias; on the DSP they read a row's
//! weights one 32-bit word at a time.

use crate::ir::fixed_point::Multiplier;
use crate::ir::pack::PackedWeights;

/// Power-of-two factor by which the DSP kernel's sums are scaled: it sign-extends a field after moving it to the top
/// of its byte.
pub fn dsp_scale(bits: u8) -> i64 {
    1 << (8 - bits)
}

/// Bound on every partial sum of the DSP column and dense kernels' dot product over a row of k weights below 8 bits,
/// for inputs of magnitude at most `input` (docs/SEMANTICS.md): each weight byte is read as f = 8 / bits int16 lanes
/// (the whole byte with all but its top field offset, then the byte with its top fields cleared, down to the lowest
/// field), lane i meeting inputs of at most input (2^(bits i) + 2^(bits (i - 1))), and the sums start from 128 times
/// the offset inputs.
pub fn dsp_offset_sum_bound(bits: u8, k: usize, input: i64) -> i64 {
    let (b, f) = (bits as u32, 8 / bits as u32);
    let lanes: i64 = (1..f).map(|i| ((1i64 << (b * i)) + (1 << (b * (i - 1)))) * ((1 << (b * (f - i))) - 1)).sum();
    let per_byte = input * (128 + lanes);
    let bytes = k.div_ceil(f as usize) as i64;
    bytes * per_byte + 128 * input * k as i64
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
            let dsp_fits =
                fits(128 * abs * dsp_scale(w.bits)) && (w.bits == 8 || fits(dsp_offset_sum_bound(w.bits, w.k, 128)));
            (fits(folded.abs() + 128 * abs) && dsp_fits).then_some(folded as i32)
        })
        .collect()
}

/// Which short form a layer's kernels may requantize in (docs/SEMANTICS.md): 0 none, 1 the short form with every
/// channel shifting right only, 2 with some channel shifting left (`LEFT_SHORT`: the kernels that take it shift the
/// doubled sum left first; the others run the general form). The short form: from the doubled sum 2x (times 2^left),
/// one high multiply that also adds the rounding half, the sign's correction and the output zero point (shifted up by
/// the right shift), then one arithmetic shift. It needs, for every sum x the layer can produce (|x| <= |bias| + the
/// largest |input - in_zp| times the row's sum of |w|), 2x 2^left and the shifted value inside int32.
pub fn short_requant(w: &PackedWeights, bias: &[i32], multipliers: &[Multiplier], in_zp: i32, out_zp: i32) -> i32 {
    let values = w.unpack();
    let input = (127 - in_zp as i64).max(in_zp as i64 + 128);
    let fits = bias.iter().zip(multipliers).enumerate().all(|(r, (&b, m))| {
        let abs: i64 = values[r * w.k..(r + 1) * w.k].iter().map(|&v| (v as i64).abs()).sum();
        let x = (b as i64).abs() + input * abs;
        let (left, right) = (m.shift.max(0), (-m.shift).max(0));
        // The zero point and the rounding half, shifted up: ((2 zp + 1) << right) >> 1.
        let half = ((2 * out_zp as i64 + 1) << right) >> 1;
        // The high multiply is at most |x| 2^left + 1; the sign's correction adds 1.
        left < 31 && (2 * x) << left <= i32::MAX as i64 && (x << left) + 2 + half.abs() <= i32::MAX as i64
    });
    match (fits, multipliers.iter().any(|m| m.shift > 0)) {
        (false, _) => 0,
        (true, false) => 1,
        (true, true) => LEFT_SHORT,
    }
}

/// `short_requant`'s value for a layer in the short form with some channel shifting left.
pub const LEFT_SHORT: i32 = 2;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_offset_sums_bound_is_the_largest_lane_products_and_correction() {
        // 4 bits, one byte: the whole byte (at most 128) against 128, the low field (at most 15) against 128 * 17; the
        // correction 128 * 128 per input (the bound counts both inputs).
        assert_eq!(dsp_offset_sum_bound(4, 2, 128), 128 * (128 + 17 * 15) + 2 * 128 * 128);
        // 2 bits: lanes of at most 63, 15 and 3 against inputs of 128 * 5, 128 * 20 and 128 * 80.
        assert_eq!(dsp_offset_sum_bound(2, 4, 128), 128 * (128 + 5 * 63 + 20 * 15 + 80 * 3) + 4 * 128 * 128);
        // The dense layers' inputs less their zero point reach 255.
        assert_eq!(dsp_offset_sum_bound(4, 2, 255), 255 * (128 + 17 * 15) + 2 * 128 * 255);
        // Rows far longer than any model's stay inside int32; rows of 2^16 inputs do not.
        assert!(dsp_offset_sum_bound(2, 40_000, 128) < i32::MAX as i64);
        assert!(dsp_offset_sum_bound(4, 1 << 16, 128) > i32::MAX as i64);
    }

    #[test]
    fn short_requant_needs_sums_far_from_int32s_ends_and_says_when_a_channel_shifts_left() {
        let w = PackedWeights::pack(&[1, -2, 3, 4, 5, 6], 2, 3, 8);
        let m = |shift| Multiplier { m0: 1 << 30, shift };
        assert_eq!(short_requant(&w, &[10, -10], &[m(-8), m(0)], -128, 5), 1);
        // A left shift in one channel: the sums, shifted, stay far from int32's ends.
        assert_eq!(short_requant(&w, &[10, -10], &[m(-8), m(1)], -128, 5), LEFT_SHORT);
        // 2x 2^left leaves int32: |x| = 255 * 15 + 2^20, times 2^10, twice, passes 2^31.
        assert_eq!(short_requant(&w, &[10, 1 << 20], &[m(-8), m(10)], -128, 5), 0);
        assert_eq!(short_requant(&w, &[10, 1 << 18], &[m(-8), m(10)], -128, 5), LEFT_SHORT);
        // 2x could leave int32: |bias| + 255 * 15 > 2^30.
        assert_eq!(short_requant(&w, &[10, (1 << 30) - 255 * 15 + 1], &[m(-8), m(-8)], -128, 5), 0);
        assert_eq!(short_requant(&w, &[10, (1 << 30) - 255 * 15 - 2], &[m(-8), m(-8)], -128, 0), 1);
        // The zero point 127 and the half shifted up by 24 are 255 * 2^23, within 2^23 of int32's end: small sums fit,
        // sums of 2^24 do not.
        assert_eq!(short_requant(&w, &[10, -10], &[m(-24), m(-24)], -128, 127), 1);
        assert_eq!(short_requant(&w, &[10, 1 << 24], &[m(-24), m(-24)], -128, 127), 0);
    }

    #[test]
    fn folded_bias_subtracts_the_zero_point_term_and_refuses_overflow() {
        let w = PackedWeights::pack(&[1, -2, 3, 4, 5, 6], 2, 3, 8);
        assert_eq!(folded_bias(&w, &[10, -10], -128), Some(vec![10 + 128 * 2, -10 + 128 * 15]));
        let big = PackedWeights::pack(&vec![-128; 140_000], 1, 140_000, 8);
        assert_eq!(folded_bias(&big, &[0], 0), None);
    }
}
