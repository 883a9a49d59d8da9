//! A target description file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ompqc::target::Target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(target) = Target::parse(text, "fuzz.toml") {
            let _ = target.widths();
        }
    }
});
