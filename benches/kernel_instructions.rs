//! Instructions per inference under QEMU (exact counts, `-icount shift=0`), the cycle estimate on the cores with a
//! timing table (cortex-m3, cortex-m4) and code size, for the MLPerf Tiny
//! models at uniform W8, W4 and W2, on the targets issue 8 measures: cortex-m3, cortex-m4, cortex-m55 and rv32imac.
//! Counts are of one test input (the FC autoencoder's test files hold whole recordings: one calibration window
//! instead; they vary by well under 0.1% between inputs); text is the model's code at -Os.
//!
//!     cargo bench --bench kernel_instructions [-- MODEL_FOLDER ...]
//!
//! Default folders (under ../shared/eval): mlperf_tiny_resnet8_cifar10, mlperf_tiny_dscnn_kws,
//! mlperf_tiny_mobilenetv1_vww, mlperf_tiny_fc_autoencoder_ad. Needs the cross toolchains and QEMU (scripts/test.sh installs them).

mod common;

use std::path::PathBuf;

use common::{eval_model, run_once};
use ompqc::build::firmware::Buffers;
use ompqc::compile::{compile, Origin};
use ompqc::emit::{sha256_hex, write_output_dir, Lang, Provenance};
use ompqc::interp;
use ompqc::quantize::{QuantOptions, WeightBits};
use ompqc::report::targets;
use ompqc::run::firmware;
use ompqc::target::Target;

const TARGETS: [&str; 4] = ["cortex-m3", "cortex-m4", "cortex-m55", "rv32imac"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let folders: Vec<String> = if args.is_empty() {
        [
            "mlperf_tiny_resnet8_cifar10",
            "mlperf_tiny_dscnn_kws",
            "mlperf_tiny_mobilenetv1_vww",
            "mlperf_tiny_fc_autoencoder_ad",
        ]
        .map(String::from)
        .to_vec()
    } else {
        args
    };
    let eval = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eval");
    let targets: Vec<Target> = TARGETS.iter().map(|t| Target::load(t).unwrap()).collect();
    if let Some(e) = targets.iter().find_map(|t| firmware::check_runnable(t).err()) {
        eprintln!("kernel_instructions: skipped: {}", e.message);
        return;
    }
    println!(
        "{:<30} {:>4}  {:<11} {:>14} {:>8} {:>14} {:>8} {:>8}",
        "model", "bits", "target", "instructions", "per MAC", "cycles (est.)", "per MAC", "text"
    );
    for folder in folders {
        let Some(common::EvalModel { file: model, graph, obs, test }) =
            eval_model("kernel_instructions", &eval.join(&folder))
        else {
            continue;
        };
        for bits in [8, 4, 2] {
            let provenance = Provenance {
                target: "cortex-m4".into(),
                model_file: "model.onnx".into(),
                model_hash: sha256_hex(&std::fs::read(&model).unwrap()),
            };
            let options = QuantOptions { bits: WeightBits::uniform(bits), ..QuantOptions::default() };
            let c =
                compile(&graph, &obs, &options, "model", &provenance, &Origin::default(), &[Lang::C]).expect("compile");
            let out = std::env::temp_dir().join(format!("ompqc-bench-{}-{folder}-w{bits}", std::process::id()));
            write_output_dir(&out, &c.files).expect("write");
            let input = interp::quantize_input(&c.qgraph, &test).expect("quantize input");
            let sizes = Buffers::of(&c.qgraph, c.plan.c.arena_bytes);
            let report = targets::report(&out, "model", sizes, &targets);
            for (target, row) in targets.iter().zip(&report.targets) {
                let r = run_once(target, &out, &c, &input, &format!("{folder} W{bits}"));
                let text = row.sizes.as_ref().map_or("-".into(), |s| s.text.to_string());
                let (cycles, per_mac) = match r.cycles_estimate {
                    Some(c) => (c.to_string(), format!("{:.2}", c as f64 / r.macs as f64)),
                    None => ("-".into(), "-".into()),
                };
                println!(
                    "{folder:<30} {bits:>4}  {:<11} {:>14} {:>8.2} {cycles:>14} {per_mac:>8} {:>8}",
                    target.name, r.instructions_per_inference, r.instructions_per_mac, text
                );
            }
            let _ = std::fs::remove_dir_all(&out);
        }
    }
    println!("\n{REFERENCES}");
}

/// Published whole-inference figures on a Cortex-M4 (MLPerf Tiny v1.2/v1.3 closed division, NUCLEO-L4R5ZI at
/// 120 MHz), as cycles: the bar issue 19 sets.
const REFERENCES: &str =
    "References, cortex-m4 at 120 MHz (MLPerf Tiny v1.2/v1.3 results, NUCLEO-L4R5ZI), cycles per inference:
  ST X-CUBE-AI: ResNet-8 19.8 M (165 ms), DS-CNN 5.18 M (43.2 ms), VWW 10.7 M (88.9 ms)
  Plumerai:     ResNet-8 20.2 M (168 ms), DS-CNN 5.74 M (47.8 ms), VWW 11.9 M (98.8 ms)
  FC autoencoder: X-CUBE-AI 0.58 M, Plumerai 0.49 M";
