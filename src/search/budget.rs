//! Flash budgets as users write them: bytes with an optional unit (`65536`, `48KiB`, `1.5MiB`, `64kB`) or a
//! percentage of the all-8-bit weight bytes (`50%`).

use crate::error::{Error, Result};

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
        let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        let (number, unit) = t.split_at(split);
        let v: f64 = number.parse().map_err(|_| bad())?;
        let scale = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1.0,
            "kib" | "k" => 1024.0,
            "mib" | "m" => 1024.0 * 1024.0,
            "kb" => 1000.0,
            "mb" => 1e6,
            _ => return Err(bad()),
        };
        let bytes = (v * scale).floor();
        if !(bytes >= 1.0 && bytes.is_finite()) {
            return Err(bad());
        }
        Ok(Budget::Bytes(bytes as usize))
    }

    /// The budget in bytes, given the all-8-bit weight bytes.
    pub fn bytes(&self, int8_bytes: usize) -> usize {
        match *self {
            Budget::Bytes(b) => b,
            Budget::Percent(p) => (int8_bytes as f64 * p / 100.0).floor() as usize,
        }
    }
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
}
