//! An ONNX file: imported, and when that succeeds on a small model, calibrated on two random samples, quantized
//! at 4 bits, planned and emitted as C and Rust. Any panic or abort is a bug; errors are the expected outcome.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ompqc::compile::{compile, Origin};
use ompqc::data::Samples;
use ompqc::emit::{Lang, Provenance};
use ompqc::import::{import_bytes, ImportOptions};
use ompqc::observe::{observe, RangeMethod};
use ompqc::quantize::{QuantOptions, WeightBits};

/// Larger models are only imported: the compile of a big one would make each run slow.
const MAX_ELEMENTS: usize = 1 << 16;

fuzz_target!(
    // ompqc catches tract's panics on malformed models and reports them as errors; libFuzzer's hook would abort on
    // those too. The default hook prints them; a panic that escapes still aborts (libfuzzer-sys checks).
    init: drop(std::panic::take_hook()),
    |data: &[u8]| {
    let path = std::path::Path::new("fuzz.onnx");
    let Ok(imported) = import_bytes(data, path, &ImportOptions::default()) else { return };
    let Ok(graph) = imported.into_graph(path) else { return };
    if graph.tensors.iter().any(|t| t.shape.iter().product::<usize>() > MAX_ELEMENTS) {
        return;
    }
    let shape = graph.input_shape().to_vec();
    let len: usize = shape.iter().product();
    let calib = Samples { n: 2, sample_shape: shape, data: (0..2 * len).map(|i| (i % 7) as f32 - 3.0).collect() };
    let Ok(obs) = observe(&graph, &calib, RangeMethod::MinMax) else { return };
    let options = QuantOptions { bits: WeightBits::uniform(4), ..QuantOptions::default() };
    let provenance = Provenance { target: "host".into(), model_file: "fuzz.onnx".into(), model_hash: String::new() };
    let _ = compile(&graph, &obs, &options, "fuzz", &provenance, &Origin::default(), &[Lang::C, Lang::Rust]);
    }
);
