//! A .npy file read as model inputs of shape [N, 1, 8, 8] and as labels.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ompqc::data::{parse_labels, parse_samples};

fuzz_target!(|data: &[u8]| {
    let _ = parse_samples(data, "fuzz.npy", &[1, 1, 8, 8], 0.5, -1.0);
    let _ = parse_labels(data, "fuzz.npy", 10);
});
