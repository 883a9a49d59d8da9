//! Time per phase of the bit-width search: features + Gram matrices, ORM, LP and knapsack for `ompq`, and the
//! sensitivity pass, on one model with N calibration samples.
//!
//!     cargo bench --bench search_speed [-- MODEL.onnx [N]]
//!
//! Default: the random-weight MobileNetV2-1.0 at 224x224 from ../shared/eval/random_arch with N = 32 random
//! inputs, widths {2, 4, 8}, budget 62.5% of the 8-bit weights.

use std::path::PathBuf;
use std::time::Instant;

use ompqc::data::Samples;
use ompqc::import::{self, ImportOptions};
use ompqc::observe::{observe, RangeMethod};
use ompqc::search::{search, Allocator, Budget, SearchOptions};
use ompqc::target::Target;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let model = args.first().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/random_arch/mobilenetv2_1.0_224.onnx")
    });
    let n: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(32);
    if !model.is_file() {
        eprintln!("search_speed: skipped: {} not found (pass a model path)", model.display());
        return;
    }
    let graph = import::load(&model, &ImportOptions::default()).expect("import");
    let shape = graph.input_shape().to_vec();
    let len: usize = shape.iter().product();
    let data = (0..n * len).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
    let calib = Samples { n, sample_shape: shape, data };
    let target = Target::load("cortex-m4").unwrap();
    let options = SearchOptions { samples: n, ..SearchOptions::default() };

    let t = Instant::now();
    let obs = observe(&graph, &calib, RangeMethod::MinMax).expect("observe");
    println!("model {}, N = {n}: calibration (activation ranges) {:.2} s", model.display(), t.elapsed().as_secs_f64());
    for allocator in [Allocator::Ompq, Allocator::Sensitivity] {
        let t = Instant::now();
        let r =
            search(&graph, &obs, &calib, &target, Some(Budget::Percent(62.5)), allocator, &options).expect("search");
        let total = t.elapsed().as_secs_f64();
        println!("search --allocator {}: {total:.2} s in all, {} layers", allocator.name(), r.layers.len());
        for phase in &r.timings {
            println!("  {:<28} {:>8.2} s", phase.phase, phase.seconds);
        }
    }
}
