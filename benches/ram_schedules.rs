//! RAM budgets and the schedules that meet them (issue 18): per model and budget, the plan the planner picks
//! (whole tensors, depthwise convolutions in place, or a stage run tile by tile), its C arena, the extra MACs and
//! the instructions per inference under QEMU on cortex-m4 (exact counts, one input) against the same model on whole
//! tensors, every run checked bit-exact with the interpreter. MobileNetV2-1.0 at 224x224 runs on the host instead
//! (its weights do not fit the emulated board's flash).
//!
//!     cargo bench --bench ram_schedules
//!
//! Reads ../shared/eval (MLPerf Tiny VWW, ResNet-8, DS-CNN and the random-weight MobileNetV2s); needs the cross
//! toolchains and QEMU (scripts/test.sh installs them). The random-weight models get N(0, 1) inputs.

mod common;

use std::path::{Path, PathBuf};

use common::{input_map, run_once};
use ompqc::compile::{compile, Compilation, Origin};
use ompqc::data::{load_samples, Samples};
use ompqc::emit::{write_output_dir, Lang, Provenance};
use ompqc::import::{self, ImportOptions};
use ompqc::interp;
use ompqc::ir::Graph;
use ompqc::observe::{observe, Observations, RangeMethod};
use ompqc::plan::ram::RamBudget;
use ompqc::quantize::{QuantOptions, WeightBits};
use ompqc::run::firmware;
use ompqc::run::run_host;
use ompqc::target::Target;

struct Model {
    name: &'static str,
    graph: Graph,
    obs: Observations,
    test: Samples,
}

/// An MLPerf Tiny model with its calibration and one test input.
fn mlperf(eval: &Path, name: &'static str) -> Option<Model> {
    let dir = eval.join(name);
    let graph = import::load(&dir.join("model.onnx"), &ImportOptions::default()).ok()?;
    let (scale, offset) = input_map(&dir);
    let calib = load_samples(&dir.join("calib_x.npy"), graph.input_shape(), scale, offset).expect("calib");
    let test = load_samples(&dir.join("test_x.npy"), graph.input_shape(), scale, offset).expect("test").take(1);
    let obs = observe(&graph, &calib, RangeMethod::MinMax).expect("observe");
    Some(Model { name, graph, obs, test })
}

/// N(0, 1) samples of `shape` (Box-Muller over a xorshift).
fn normal(shape: &[usize], n: usize, seed: u64) -> Samples {
    let len: usize = shape.iter().product();
    let mut x = seed | 1;
    let mut uniform = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    let data: Vec<f32> = (0..n * len)
        .map(|_| ((-2.0 * uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos()) as f32)
        .collect();
    Samples { data, n, sample_shape: shape.to_vec() }
}

/// A random-weight architecture from ../shared/eval/random_arch with random calibration and test inputs.
fn random_arch(eval: &Path, name: &'static str, calib_n: usize) -> Option<Model> {
    let graph = import::load(&eval.join("random_arch").join(format!("{name}.onnx")), &ImportOptions::default()).ok()?;
    let calib = normal(graph.input_shape(), calib_n, 7);
    let test = normal(graph.input_shape(), 1, 11);
    let obs = observe(&graph, &calib, RangeMethod::MinMax).expect("observe");
    Some(Model { name, graph, obs, test })
}

fn compile_for(m: &Model, target: &Target, budget: Option<&str>) -> Result<Compilation, String> {
    let io = m.graph.tensors[m.graph.input].elems() + m.graph.tensors[m.graph.output].elems();
    let ram_budget = Some(RamBudget::new(budget, target, io).map_err(|e| e.message)?);
    let origin = Origin { ram_budget, ..Origin::default() };
    let provenance = Provenance { target: target.name.clone(), model_file: m.name.into(), model_hash: "-".into() };
    let options = QuantOptions { bits: WeightBits::uniform(8), ..QuantOptions::default() };
    compile(&m.graph, &m.obs, &options, "model", &provenance, &origin, &[Lang::C]).map_err(|e| e.message)
}

/// Instructions per inference on `target` (None: bit-exact on the host, no count).
fn instructions(m: &Model, c: &Compilation, target: Option<&Target>) -> Option<u64> {
    let out = std::env::temp_dir().join(format!("ompqc-bench-ram-{}-{}", std::process::id(), m.name));
    write_output_dir(&out, &c.files).expect("write");
    let input = interp::quantize_input(&c.qgraph, &m.test).expect("quantize input");
    let count = match target {
        Some(t) => Some(run_once(t, &out, c, &input, m.name).instructions_per_inference),
        None => {
            let r = run_host(&out, "model", &c.qgraph, &input, 1, Lang::C, false).expect("run on the host");
            assert!(r.bit_exact, "{}: not bit-exact on the host", m.name);
            None
        }
    };
    let _ = std::fs::remove_dir_all(&out);
    count
}

fn main() {
    let eval = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eval");
    let m4 = Target::load("cortex-m4").unwrap();
    if let Err(e) = firmware::check_runnable(&m4) {
        eprintln!("ram_schedules: skipped: {}", e.message);
        return;
    }
    println!(
        "{:<28} {:<20} {:>9} {:>10}  {:<62} {:>9} {:>14} {:>8}",
        "model (W8, cortex-m4)", "RAM budget", "budget", "arena", "schedule", "extra MAC", "instructions", "ratio"
    );
    // (model, its budgets (None: the target's default), whether to run it under QEMU)
    type Case<'a> = (Option<Model>, Vec<Option<&'a str>>, bool);
    let runs: Vec<Case> = vec![
        (mlperf(&eval, "mlperf_tiny_mobilenetv1_vww"), vec![Some("4MiB"), Some("28KiB"), Some("4KiB"), None], true),
        (random_arch(&eval, "mobilenetv2_0.35_96", 8), vec![Some("4MiB"), None, Some("48000")], true),
        (random_arch(&eval, "mobilenetv2_1.0_224", 2), vec![Some("4MiB"), Some("320KiB")], false),
        (mlperf(&eval, "mlperf_tiny_resnet8_cifar10"), vec![Some("4MiB"), None], false),
        (mlperf(&eval, "mlperf_tiny_dscnn_kws"), vec![Some("4MiB"), None], false),
    ];
    for (model, budgets, emulate) in runs {
        let Some(m) = model else {
            eprintln!("ram_schedules: a model of ../shared/eval is missing; skipped");
            continue;
        };
        let mut whole: Option<(u64, Vec<usize>)> = None;
        for budget in budgets {
            let label = budget.map_or("the target's default".to_string(), |b| format!("--ram-budget {b}"));
            let c = match compile_for(&m, &m4, budget) {
                Ok(c) => c,
                Err(e) => {
                    println!("{:<28} {label:<20} exits 2: {e}", m.name);
                    continue;
                }
            };
            let r = &c.report;
            let extra = r.tiled_stage.as_ref().map_or("-".into(), |s| format!("{:.1}%", s.extra_macs_percent));
            let count = instructions(&m, &c, emulate.then_some(&m4));
            let offsets: Vec<usize> = r.layers.iter().filter_map(|l| l.arena_offset).collect();
            let (count_text, ratio) = match (count, &whole) {
                (Some(n), Some((w, _))) => (n.to_string(), format!("{:.3}", n as f64 / *w as f64)),
                (Some(n), None) => (n.to_string(), "1".into()),
                (None, _) => ("bit-exact (host)".into(), "-".into()),
            };
            let same = match &whole {
                Some((_, o)) if r.tiled_stage.is_none() && *o == offsets => " (the whole-tensor plan)",
                _ => "",
            };
            println!(
                "{:<28} {label:<20} {:>9} {:>10}  {:<62} {extra:>9} {count_text:>14} {ratio:>8}{same}",
                m.name,
                r.ram_budget_bytes.unwrap_or(0),
                r.arena_bytes,
                r.memory_schedule,
            );
            if whole.is_none() {
                whole = Some((count.unwrap_or(0), offsets));
            }
        }
    }
}
