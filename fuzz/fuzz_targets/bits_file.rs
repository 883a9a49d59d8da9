//! A per-layer bits file for the bundled example model, as JSON (first byte even) or TOML (odd).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use ompqc::import::{load, ImportOptions};
use ompqc::ir::Graph;
use ompqc::quantize::parse_bits;

fn example() -> &'static Graph {
    static GRAPH: OnceLock<Graph> = OnceLock::new();
    GRAPH.get_or_init(|| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/digits/model.onnx");
        load(&path, &ImportOptions::default()).expect("the bundled example imports")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    if let Ok(text) = std::str::from_utf8(rest) {
        let _ = parse_bits(text, kind % 2 == 1, "fuzz.bits", example());
    }
});
