//! TensorFlow Lite's fixed-point arithmetic: the integer semantics every ompqc kernel (interpreter, generated C,
//! generated Rust) reproduces bit for bit. docs/SEMANTICS.md.

/// A real multiplier M as m0 * 2^(shift - 31) with m0 in [2^30, 2^31) (or 0 for M = 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Multiplier {
    pub m0: i32,
    pub shift: i32,
}

impl Multiplier {
    /// TFLite's QuantizeMultiplier: frexp, then round the mantissa to 31 bits. None for a multiplier that is
    /// negative, not finite or at least 2^31 (the kernels shift left by at most 31).
    pub fn from_real(m: f64) -> Option<Multiplier> {
        if !(m.is_finite() && m >= 0.0) {
            return None;
        }
        if m == 0.0 {
            return Some(Multiplier { m0: 0, shift: 0 });
        }
        let (mantissa, mut shift) = frexp(m);
        let mut q = (mantissa * (1i64 << 31) as f64).round() as i64;
        if q == 1i64 << 31 {
            q /= 2;
            shift += 1;
        }
        if shift < -31 {
            return Some(Multiplier { m0: 0, shift: 0 });
        }
        (shift <= 31).then_some(Multiplier { m0: q as i32, shift })
    }

    pub fn to_real(self) -> f64 {
        self.m0 as f64 * 2f64.powi(self.shift - 31)
    }

    /// TFLite's MultiplyByQuantizedMultiplier.
    #[inline]
    pub fn apply(self, x: i32) -> i32 {
        let left = self.shift.max(0);
        let right = (-self.shift).max(0);
        rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x.wrapping_shl(left as u32), self.m0), right)
    }
}

/// m in [0.5, 1) and e with x = m * 2^e, for finite positive x.
fn frexp(x: f64) -> (f64, i32) {
    let mut e = x.log2().floor() as i32 + 1;
    let mut m = x / 2f64.powi(e);
    // log2 can be off by one ulp near powers of two.
    if m >= 1.0 {
        m /= 2.0;
        e += 1;
    } else if m < 0.5 {
        m *= 2.0;
        e -= 1;
    }
    (m, e)
}

/// gemmlowp's SaturatingRoundingDoublingHighMul: round(a * b / 2^31), saturating the one overflow case.
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge = if ab >= 0 { 1i64 << 30 } else { 1 - (1i64 << 30) };
    // Division truncating toward zero, as in C.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded half away from zero.
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    debug_assert!((0..=31).contains(&exponent));
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// Integer division rounded half away from zero (average pooling).
#[inline]
pub fn rounded_div(sum: i32, count: i32) -> i32 {
    if sum >= 0 {
        (sum + count / 2) / count
    } else {
        (sum - count / 2) / count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The exact rational result of x * M rounded half away from zero... up to TFLite's double rounding.
    fn reference(x: i32, m: Multiplier) -> f64 {
        x as f64 * m.to_real()
    }

    #[test]
    fn known_values() {
        assert_eq!(Multiplier::from_real(0.5).unwrap(), Multiplier { m0: 1 << 30, shift: 0 });
        assert_eq!(Multiplier::from_real(1.0).unwrap(), Multiplier { m0: 1 << 30, shift: 1 });
        assert_eq!(Multiplier::from_real(0.75).unwrap().apply(4), 3);
        assert_eq!(Multiplier::from_real(0.5).unwrap().apply(3), 2, "1.5 rounds away from zero");
        // gemmlowp's nudge for negative products is 1 - 2^30: an exact -1.5 rounds up to -1.
        assert_eq!(Multiplier::from_real(0.5).unwrap().apply(-3), -1);
        // The kernels shift left by at most 31: 2^31 and more, like NaN, infinities and negatives, have no form.
        assert_eq!(Multiplier::from_real(2f64.powi(31) * 0.999).map(|m| m.shift), Some(31));
        for bad in [2f64.powi(31), f64::NAN, f64::INFINITY, -0.5] {
            assert_eq!(Multiplier::from_real(bad), None, "{bad}");
        }
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(-6, 2), -2);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
        assert_eq!((rounded_div(7, 2), rounded_div(-7, 2), rounded_div(5, 3)), (4, -4, 2));
    }

    proptest! {
        #[test]
        fn multiplier_round_trips(m in 1e-9f64..1e3) {
            let q = Multiplier::from_real(m).unwrap();
            prop_assert!((1 << 30..=i32::MAX).contains(&q.m0), "m0 {} out of [2^30, 2^31)", q.m0);
            prop_assert!((q.to_real() - m).abs() <= m * 2f64.powi(-30));
        }

        /// Requantization equals the exact product rounded half away from zero, except where TFLite's first
        /// rounding (to a multiple of 2^-r of the result, r the right shift) lands on the other side of a half.
        #[test]
        fn requantization_matches_exact_arithmetic(x in -(1i32 << 24)..(1 << 24), m in 1e-6f64..0.999) {
            let q = Multiplier::from_real(m).unwrap();
            let exact = reference(x, q);
            let got = q.apply(x) as f64;
            prop_assert!((got - exact).abs() <= 1.0, "x {x} m {m}: {got} vs {exact}");
            let frac = exact - exact.trunc();
            let first_rounding = 0.5 * 2f64.powi(q.shift.min(0)) + 1e-9;
            if (frac.abs() - 0.5).abs() > first_rounding {
                let rounded = exact.abs().round() * exact.signum();
                prop_assert_eq!(got, rounded, "x {} m {}", x, m);
            }
        }

        #[test]
        fn rounding_divide_matches_i64(x in any::<i32>(), e in 0i32..31) {
            let exact = x as f64 / 2f64.powi(e);
            let rounded = exact.abs().round() * exact.signum();
            prop_assert_eq!(rounding_divide_by_pot(x, e) as f64, rounded);
        }

        #[test]
        fn rounded_div_is_half_away_from_zero(sum in -1_000_000i32..1_000_000, count in 1i32..10_000) {
            let exact = sum as f64 / count as f64;
            prop_assert_eq!(rounded_div(sum, count) as f64, exact.abs().round() * exact.signum());
        }
    }
}
