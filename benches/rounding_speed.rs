//! Time of the learned rounding (AdaRound) of the MLPerf Tiny models in ../shared/eval, each with its calibration
//! set, every layer with weights at 2 bits but the first and the last (what `eval --bits-file` or a 2-bit plan
//! gives), and the total.
//!
//!     cargo bench --bench rounding_speed
//!
//! Layers at 8 bits round to nearest and cost nothing; a plan with fewer layers below 8 bits takes less time.

use std::path::Path;
use std::time::Instant;

use ompqc::data::load_samples;
use ompqc::import::{self, ImportOptions};
use ompqc::observe::{observe, RangeMethod};
use ompqc::quantize::adaround::Settings;
use ompqc::quantize::{LayerRows, QuantOptions, Rounding, WeightBits};

const MODELS: [&str; 4] = [
    "mlperf_tiny_resnet8_cifar10",
    "mlperf_tiny_dscnn_kws",
    "mlperf_tiny_mobilenetv1_vww",
    "mlperf_tiny_fc_autoencoder_ad",
];

fn main() {
    let eval = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval");
    if !eval.join("README.md").is_file() {
        eprintln!("rounding_speed: skipped: ../shared/eval (the MLPerf Tiny models) is not present");
        return;
    }
    let mut total = 0.0;
    for folder in MODELS {
        let dir = eval.join(folder);
        let graph = import::load(&dir.join("model.onnx"), &ImportOptions::default()).expect("import");
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).expect("meta.json")).expect("JSON");
        let map = |key: &str| meta["input_dequant"][key].as_f64().unwrap_or(0.0) as f32;
        let calib = load_samples(&dir.join("calib_x.npy"), graph.input_shape(), map("scale"), map("offset"))
            .expect("calibration set");
        let obs = observe(&graph, &calib, RangeMethod::MinMax).expect("observe");
        let layers: Vec<&str> =
            graph.nodes.iter().filter(|n| LayerRows::of(&n.op).is_some()).map(|n| n.name.as_str()).collect();
        let inner = &layers[1..layers.len() - 1];
        let bits = WeightBits { default: 8, per_layer: inner.iter().map(|&l| (l.to_string(), 2)).collect() };
        let options = QuantOptions { bits, ..QuantOptions::default() };
        let started = Instant::now();
        Rounding::AdaRound(Settings::default()).apply(&graph, &obs, &calib, options, &|_| {}).expect("adaround");
        let seconds = started.elapsed().as_secs_f64();
        total += seconds;
        println!("{folder}: {} layers at 2 bits, {} calibration samples: {seconds:.2} s", inner.len(), calib.n);
    }
    println!("all {} models: {total:.2} s", MODELS.len());
}
