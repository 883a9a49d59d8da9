//! Learned rounding (AdaRound) on the MLPerf Tiny models of ../shared/eval, against the bars of the rounding issue:
//! activations int8, the first and last layers at 8 bits and the others at 4 or 2 bits, or as `auto` plans them at
//! 50% of the 8-bit weight bytes with the search measuring under the same rounding. Skipped, with a printed reason,
//! when ../shared/eval is absent; the bundled example runs always.

mod common;

use std::path::Path;

use common::{eval_dir, input_map, meta, repo};
use ompqc::data::{load_labels, load_samples, Samples};
use ompqc::import::{self, ImportOptions};
use ompqc::ir::Graph;
use ompqc::measure::compare;
use ompqc::observe::{observe, Observations, RangeMethod};
use ompqc::quantize::adaround::Settings;
use ompqc::quantize::{quantize, LayerRows, QuantOptions, Rounding, WeightBits};
use ompqc::search::{search, Allocator, Budget, SearchOptions};
use ompqc::target::Target;

/// The rounding `compile`, `eval` and `search` use by default.
fn adaround() -> Rounding {
    Rounding::AdaRound(Settings::default())
}

struct Model {
    dir: std::path::PathBuf,
    graph: Graph,
    calib: Samples,
    obs: Observations,
}

impl Model {
    fn load(dir: &Path) -> Model {
        let graph = import::load(&dir.join("model.onnx"), &ImportOptions::default()).unwrap();
        let calib = Model::samples_of(dir, &graph, "calib");
        let obs = observe(&graph, &calib, RangeMethod::MinMax).unwrap();
        Model { dir: dir.to_path_buf(), graph, calib, obs }
    }

    fn samples_of(dir: &Path, graph: &Graph, prefix: &str) -> Samples {
        let (scale, offset) = input_map(&meta(dir));
        load_samples(&dir.join(format!("{prefix}_x.npy")), graph.input_shape(), scale, offset).unwrap()
    }

    /// Every layer with weights at `bits` but the first and the last, which stay at 8.
    fn uniform(&self, bits: u8) -> WeightBits {
        let layers: Vec<&str> =
            self.graph.nodes.iter().filter(|n| LayerRows::of(&n.op).is_some()).map(|n| n.name.as_str()).collect();
        let per_layer = layers[1..layers.len() - 1].iter().map(|&name| (name.to_string(), bits)).collect();
        WeightBits { default: 8, per_layer }
    }

    /// Top-1 (%) on each of `sets` with the weights at `bits`, rounded by `rounding` on the calibration samples.
    fn top1(&self, bits: &WeightBits, rounding: &Rounding, sets: &[&str]) -> Vec<f64> {
        let options = QuantOptions { bits: bits.clone(), ..QuantOptions::default() };
        let options = rounding.apply(&self.graph, &self.obs, &self.calib, options, &|_| {}).unwrap();
        let q = quantize(&self.graph, &self.obs, &options).unwrap();
        sets.iter()
            .map(|set| {
                let test = Model::samples_of(&self.dir, &self.graph, set);
                let labels = load_labels(&self.dir.join(format!("{set}_y.npy")), test.n).unwrap();
                compare(&self.graph, &q, &test, Some(&labels)).unwrap().quant_top1.unwrap() * 100.0
            })
            .collect()
    }

    /// The `auto` plan at `percent` of the 8-bit weight bytes, searched under `rounding`.
    fn auto(&self, percent: f64, rounding: &Rounding) -> WeightBits {
        let target = Target::load("cortex-m4").unwrap();
        let options = SearchOptions { rounding: rounding.clone(), ..SearchOptions::default() };
        let budget = Some(Budget::Percent(percent));
        let r = search(&self.graph, &self.obs, &self.calib, &target, budget, Allocator::Auto, &options).unwrap();
        eprintln!("auto at {percent}%: {} plan, {} bytes", r.plan().allocator.name(), r.plan().weight_bytes);
        r.plan().weight_bits()
    }
}

fn eval_model(folder: &str) -> Option<Model> {
    eval_dir(folder).map(|d| Model::load(&d.join(folder)))
}

#[test]
fn resnet8_holds_its_accuracy_at_4_and_2_bits() {
    let Some(m) = eval_model("mlperf_tiny_resnet8_cifar10") else { return };
    // (bits, bar on the 200 official images, bar on the 2000 of test2)
    for (bits, bar, bar2) in [(4, 85.0, 75.0), (2, 74.0, 63.0)] {
        let top1 = m.top1(&m.uniform(bits), &adaround(), &["test", "test2"]);
        let nearest = m.top1(&m.uniform(bits), &Rounding::Nearest, &["test"])[0];
        eprintln!(
            "ResNet-8 W{bits}A8: adaround {:.2}% / {:.2}% (test / test2), nearest {nearest:.2}%",
            top1[0], top1[1]
        );
        assert!(top1[0] >= bar && top1[1] >= bar2, "W{bits}: {top1:?} below {bar} / {bar2}");
        assert!(top1[0] > nearest, "W{bits}: learned rounding {:.2}% does not beat nearest {nearest:.2}%", top1[0]);
    }
}

#[test]
fn dscnn_holds_its_accuracy_at_2_bits_and_under_half_the_bytes() {
    let Some(m) = eval_model("mlperf_tiny_dscnn_kws") else { return };
    let w2 = m.top1(&m.uniform(2), &adaround(), &["test"])[0];
    let auto = m.top1(&m.auto(50.0, &adaround()), &adaround(), &["test"])[0];
    eprintln!("DS-CNN: W2A8 {w2:.2}%, auto at 50% {auto:.2}%");
    assert!(w2 >= 80.0, "W2A8 {w2:.2}% is below 80%");
    assert!(auto >= 87.0, "auto at 50% {auto:.2}% is below 87%");
}

#[test]
fn vww_under_half_the_bytes_stays_within_1_5_points_of_w8a8() {
    let Some(m) = eval_model("mlperf_tiny_mobilenetv1_vww") else { return };
    let w8 = m.top1(&WeightBits::uniform(8), &Rounding::Nearest, &["test"])[0];
    let auto = m.top1(&m.auto(50.0, &adaround()), &adaround(), &["test"])[0];
    eprintln!("VWW: auto at 50% {auto:.2}%, W8A8 {w8:.2}%");
    assert!(auto >= w8 - 1.5, "auto at 50% {auto:.2}% is more than 1.5 points below W8A8 {w8:.2}%");
}

#[test]
fn the_bundled_example_under_half_the_bytes_keeps_more_accuracy_with_learned_rounding() {
    let m = Model::load(&repo().join("examples/digits"));
    let top1 = |rounding: Rounding| m.top1(&m.auto(50.0, &rounding), &rounding, &["test"])[0];
    let (learned, nearest) = (top1(adaround()), top1(Rounding::Nearest));
    eprintln!("digits, auto at 50%: adaround {learned:.2}%, nearest {nearest:.2}%");
    assert!(learned > nearest, "adaround {learned:.2}% vs nearest {nearest:.2}%");
}
