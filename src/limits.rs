//! Refusing inputs that would not fit in memory, before allocating for them: a model's tensors and a data file's
//! arrays are sized from their headers and checked against the memory this machine has available.

use crate::error::{Error, Result};

/// Bytes of memory available to ompqc: MemAvailable from /proc/meminfo, or 4 GiB where that cannot be read.
pub fn available_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(4 << 30)
}

/// The product of `dims` times `item_bytes`, or None when it overflows u64.
pub fn array_bytes(dims: impl IntoIterator<Item = u64>, item_bytes: u64) -> Option<u64> {
    dims.into_iter().try_fold(item_bytes, |acc, d| acc.checked_mul(d))
}

/// Why `bytes` (None: beyond u64) cannot be allocated: more than the memory available. None when it fits.
pub fn exceeds(bytes: Option<u64>) -> Option<String> {
    let available = available_memory();
    match bytes {
        Some(b) if b <= available => None,
        _ => Some(format!(
            "would need {} of memory; {} is available",
            bytes.map_or("more than 2^64 bytes".into(), gib),
            gib(available)
        )),
    }
}

/// Refuses `what` when `bytes` does not fit in the memory available.
pub fn ensure_fits(what: impl FnOnce() -> String, bytes: Option<u64>) -> Result<()> {
    match exceeds(bytes) {
        None => Ok(()),
        Some(why) => Err(Error::input(format!("{} {why}", what()))),
    }
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}
