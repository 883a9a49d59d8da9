//! Flash budgets as users write them: bytes with an optional unit (`65536`, `48KiB`, `1.5MiB`, `64kB`) or a
//! percentage of the all-8-bit weight bytes (`50%`).

use crate::error::{Error, Result};
use crate::target::Target;

/// Share of the flash left free when no budget is given, for the application's own code and data.
pub const FLASH_MARGIN: f64 = 0.10;

/// The weight budget when none is given: the target's flash less a margin of `FLASH_MARGIN`, its code reserve and
/// the model's width-independent constants (per-channel bias, multiplier and shift).
pub fn default_budget(target: &Target, constant_bytes: usize) -> Result<usize> {
    let usable = (target.flash_bytes as f64 * (1.0 - FLASH_MARGIN)).floor() as usize;
    usable.checked_sub(target.code_reserve_bytes + constant_bytes).filter(|&b| b > 0).ok_or_else(|| {
        Error::input(format!(
            "target {}: its {} bytes of flash, less {}% margin, {} bytes of code reserve and {} bytes of constants, \
             leave no room for weights; give --flash-budget",
            target.name,
            target.flash_bytes,
            FLASH_MARGIN * 100.0,
            target.code_reserve_bytes,
            constant_bytes
        ))
    })
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Budget {
    Bytes(usize),
    /// Percent of the weight bytes at 8 bits everywhere.
    Percent(f64),
}

impl Budget {
    pub fn parse(text: &str) -> Result<Budget> {
        let bad = || {
            Error::input(format!(
                "--flash-budget {text}: expected bytes (65536, 48KiB, 1.5MiB, 64kB) or a percentage of the 8-bit weights (50%)"
            ))
        };
        let t = text.trim();
        if let Some(p) = t.strip_suffix('%') {
            let v: f64 = p.trim().parse().map_err(|_| bad())?;
            return if v > 0.0 && v.is_finite() { Ok(Budget::Percent(v)) } else { Err(bad()) };
        }
        parse_bytes(t).map(Budget::Bytes).ok_or_else(bad)
    }

    /// The budget in bytes, given the all-8-bit weight bytes.
    pub fn bytes(&self, int8_bytes: usize) -> usize {
        match *self {
            Budget::Bytes(b) => b,
            Budget::Percent(p) => (int8_bytes as f64 * p / 100.0).floor() as usize,
        }
    }
}

/// Bytes as users write them: a number with an optional unit (B, KiB or K, MiB or M, kB, MB); `None` unless it is at
/// least one byte.
pub fn parse_bytes(text: &str) -> Option<usize> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let v: f64 = number.parse().ok()?;
    let scale = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kib" | "k" => 1024.0,
        "mib" | "m" => 1024.0 * 1024.0,
        "kb" => 1000.0,
        "mb" => 1e6,
        _ => return None,
    };
    let bytes = (v * scale).floor();
    (bytes >= 1.0 && bytes.is_finite()).then_some(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_percentages() {
        assert_eq!(Budget::parse("65536").unwrap(), Budget::Bytes(65536));
        assert_eq!(Budget::parse("48KiB").unwrap(), Budget::Bytes(49152));
        assert_eq!(Budget::parse("1.5MiB").unwrap(), Budget::Bytes(1572864));
        assert_eq!(Budget::parse("64kB").unwrap(), Budget::Bytes(64000));
        assert_eq!(Budget::parse("62.5%").unwrap().bytes(80000), 50000);
        for bad in ["", "abc", "12 parsecs", "-5", "0", "0%", "%"] {
            assert!(Budget::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_budget_is_the_flash_less_margin_code_and_constants() {
        let mut t = Target::load("cortex-m4").unwrap();
        t.flash_bytes = 100_000;
        t.code_reserve_bytes = 20_000;
        assert_eq!(default_budget(&t, 5_000).unwrap(), 90_000 - 20_000 - 5_000);
        let err = default_budget(&t, 70_000).unwrap_err();
        assert!(err.message.contains("cortex-m4") && err.message.contains("--flash-budget"), "{}", err.message);
    }
}
