//! The constants of a C convolution with one group, as its kernel reads them (SPEC section 2: the order of a row
//! is the kernel's). The kernel reads its inputs from columns (the window of an output pixel, padding holding the
//! input zero point) and its weights one 32-bit word at a time.

use crate::quantize::pack::PackedWeights;

/// Weights in one 32-bit word: four bytes of 8 / bits fields.
pub fn group(bits: u8) -> usize {
    32 / bits as usize
}

/// Power-of-two factor by which the DSP kernel's sums are scaled: it sign-extends a field after moving it to the top
/// of its byte.
pub fn dsp_scale(bits: u8) -> i64 {
    1 << (8 - bits)
}

/// Byte i of a word holds, in each field c, the weight of input 4c + SWAP[i] of the word's group.
const SWAP: [usize; 4] = [0, 2, 1, 3];

/// `w` with each whole word's fields reordered so that bytes 0, 2, 1, 3 of field c hold the weights of inputs
/// 4c..4c+3 of the word's group: sign-extending bytes 0, 2 and 1, 3 of a field (SXTB16) then gives the weights of
/// two consecutive inputs in the lanes of two consecutive int16 inputs. A row's last partial group keeps the natural
/// order.
pub fn word_order(w: &PackedWeights) -> PackedWeights {
    let (g, per) = (group(w.bits), 8 / w.bits as usize);
    let natural = w.unpack();
    let mut out = natural.clone();
    for r in 0..w.rows {
        let row = r * w.k;
        for start in (0..w.k - w.k % g).step_by(g) {
            for i in 0..4 {
                for c in 0..per {
                    out[row + start + i * per + c] = natural[row + start + 4 * c + SWAP[i]];
                }
            }
        }
    }
    PackedWeights::pack(&out, w.rows, w.k, w.bits)
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
    fn word_order_puts_inputs_4c_to_4c_plus_3_in_bytes_0_2_1_3_of_field_c() {
        // 4 bits, K = 19: two whole groups of 8 and a natural tail of 3.
        let k = 19;
        let values: Vec<i8> = (0..k as i32).map(|v| (v % 16 - 8) as i8).collect();
        let w = word_order(&PackedWeights::pack(&values, 1, k, 4));
        for start in [0, 8] {
            for i in 0..4 {
                for c in 0..2 {
                    let byte = w.data[start / 2 + i];
                    let field = ((byte >> (4 * c)) & 0xF) as i8;
                    assert_eq!((field << 4) >> 4, values[start + 4 * c + SWAP[i]], "group {start} byte {i} field {c}");
                }
            }
        }
        assert_eq!((16..19).map(|j| w.get(0, j)).collect::<Vec<_>>(), values[16..19]);
        // 8 bits: bytes 1 and 2 of each word swapped.
        let w8 = word_order(&PackedWeights::pack(&values, 1, k, 8));
        assert_eq!(w8.data[..8].iter().map(|&b| b as i8).collect::<Vec<_>>(), [-8, -6, -7, -5, -4, -2, -3, -1]);
        assert_eq!((16..19).map(|j| w8.get(0, j)).collect::<Vec<_>>(), values[16..19]);
    }

    #[test]
    fn folded_bias_subtracts_the_zero_point_term_and_refuses_overflow() {
        let w = PackedWeights::pack(&[1, -2, 3, 4, 5, 6], 2, 3, 8);
        assert_eq!(folded_bias(&w, &[10, -10], -128), Some(vec![10 + 128 * 2, -10 + 128 * 15]));
        let big = PackedWeights::pack(&vec![-128; 140_000], 1, 140_000, 8);
        assert_eq!(folded_bias(&big, &[0], 0), None);
    }
}
