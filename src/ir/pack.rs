//! Packed weights, the flash layout of docs/SEMANTICS.md: one row per output channel, each row starting on a
//! byte boundary; element j of a row sits at bits [j*b, j*b + b) counted from the row's first byte, least
//! significant bit first. For b = 8 that is one int8 per byte, for b = 4 the earlier element in the low nibble
//! (CMSIS-NN's order), for b = 2 element j in bits 2*(j%4)..2*(j%4)+1 of byte j/4.

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PackedWeights {
    pub bits: u8,
    pub rows: usize,
    /// Elements per row.
    pub k: usize,
    pub data: Vec<u8>,
}

/// Bytes of one packed row.
pub fn row_bytes(k: usize, bits: u8) -> usize {
    (k * bits as usize).div_ceil(8)
}

/// Weight bytes of a layer (docs/SEMANTICS.md): `rows` packed rows of `k` weights at `bits`. Budgets and the
/// search count these.
pub fn weight_bytes(rows: usize, k: usize, bits: u8) -> usize {
    rows * row_bytes(k, bits)
}

/// The flash a layer needs besides its weights, whatever their width: per output channel an int32 bias, an int32
/// multiplier and an int8 shift.
pub fn channel_constant_bytes(rows: usize) -> usize {
    rows * (4 + 4 + 1)
}

/// The representable range of a signed b-bit weight.
pub fn weight_range(bits: u8) -> (i32, i32) {
    (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
}

impl PackedWeights {
    /// Packs `rows` rows of `k` signed values, each within the b-bit range.
    pub fn pack(values: &[i8], rows: usize, k: usize, bits: u8) -> PackedWeights {
        assert!((2..=8).contains(&bits), "weight width {bits} outside 2..8");
        assert_eq!(values.len(), rows * k, "packing {} values as {rows} x {k}", values.len());
        let (lo, hi) = weight_range(bits);
        let stride = row_bytes(k, bits);
        let mask = (1u32 << bits) - 1;
        let mut data = vec![0u8; rows * stride];
        for (r, row) in values.chunks(k.max(1)).enumerate().take(rows) {
            let out = &mut data[r * stride..(r + 1) * stride];
            for (j, &v) in row.iter().enumerate() {
                assert!((lo..=hi).contains(&(v as i32)), "value {v} does not fit {bits} bits");
                let field = (v as i32 as u32) & mask;
                let bit = j * bits as usize;
                // A field spans at most two bytes (b <= 8).
                let wide = field << (bit % 8);
                out[bit / 8] |= wide as u8;
                if bit % 8 + bits as usize > 8 {
                    out[bit / 8 + 1] |= (wide >> 8) as u8;
                }
            }
        }
        PackedWeights { bits, rows, k, data }
    }

    pub fn row_bytes(&self) -> usize {
        row_bytes(self.k, self.bits)
    }

    /// Element j of row r, sign-extended.
    #[inline]
    pub fn get(&self, r: usize, j: usize) -> i8 {
        let row = &self.data[r * self.row_bytes()..];
        let bit = j * self.bits as usize;
        let lo = row[bit / 8] as u32;
        let hi = if bit % 8 + self.bits as usize > 8 { row[bit / 8 + 1] as u32 } else { 0 };
        let field = ((lo | hi << 8) >> (bit % 8)) & ((1 << self.bits) - 1);
        // Sign-extend the b-bit field.
        ((field << (32 - self.bits as u32)) as i32 >> (32 - self.bits as u32)) as i8
    }

    /// All values, row-major.
    pub fn unpack(&self) -> Vec<i8> {
        (0..self.rows).flat_map(|r| (0..self.k).map(move |j| (r, j))).map(|(r, j)| self.get(r, j)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layouts_of_the_spec() {
        // 4 bits: earlier element in the low nibble; rows start on a byte boundary.
        let p = PackedWeights::pack(&[1, -2, 7, 3, -8, 0], 2, 3, 4);
        assert_eq!(p.data, [0xE1, 0x07, 0x83, 0x00]);
        // 2 bits: element j at bits 2*(j%4).
        let p = PackedWeights::pack(&[1, -1, -2, 0, 1], 1, 5, 2);
        assert_eq!(p.data, [0b00_10_11_01, 0b01]);
        let p = PackedWeights::pack(&[-128, 127], 1, 2, 8);
        assert_eq!(p.data, [0x80, 0x7F]);
        assert_eq!(row_bytes(27, 4), 14);
        assert_eq!(row_bytes(9, 2), 3);
    }

    /// A width, then rows x k values that fit it.
    fn weights() -> impl Strategy<Value = (u8, usize, usize, Vec<i8>)> {
        (2u8..=8, 1usize..6, 0usize..40).prop_flat_map(|(bits, rows, k)| {
            let (lo, hi) = weight_range(bits);
            let values = proptest::collection::vec((lo..=hi).prop_map(|v| v as i8), rows * k);
            (Just(bits), Just(rows), Just(k), values)
        })
    }

    proptest! {
        #[test]
        fn pack_unpack_round_trips((bits, rows, k, values) in weights()) {
            let p = PackedWeights::pack(&values, rows, k, bits);
            prop_assert_eq!(p.data.len(), rows * row_bytes(k, bits));
            prop_assert_eq!(p.unpack(), values);
        }
    }
}
