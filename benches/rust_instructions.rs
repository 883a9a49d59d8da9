//! The generated Rust against the generated C: instructions per inference under QEMU (exact counts, one test input,
//! both bit-exact), their ratio and the two arenas, for the models, widths and targets issue 20 measures.
//!
//!     cargo bench --bench rust_instructions
//!
//! Reads the MLPerf Tiny folders under ../shared/eval; needs the cross toolchains, QEMU and the targets' Rust
//! standard libraries (scripts/test.sh installs them).

mod common;

use std::path::PathBuf;

use common::{eval_model, run_lang};
use ompqc::compile::{compile, Origin};
use ompqc::emit::{sha256_hex, write_output_dir, Lang, Provenance};
use ompqc::interp;
use ompqc::quantize::{QuantOptions, WeightBits};
use ompqc::run::{firmware, rust};
use ompqc::target::Target;

/// (eval folder, weight bits, targets).
const CASES: [(&str, u8, &[&str]); 7] = [
    ("mlperf_tiny_resnet8_cifar10", 8, &["cortex-m4", "cortex-m0plus", "rv32imac", "cortex-m3", "cortex-m55"]),
    ("mlperf_tiny_resnet8_cifar10", 4, &["cortex-m4", "cortex-m3", "cortex-m55"]),
    ("mlperf_tiny_dscnn_kws", 8, &["cortex-m4", "cortex-m3", "cortex-m55"]),
    ("mlperf_tiny_dscnn_kws", 2, &["cortex-m3", "cortex-m4", "cortex-m55"]),
    ("mlperf_tiny_mobilenetv1_vww", 8, &["cortex-m4", "cortex-m3", "cortex-m55"]),
    ("mlperf_tiny_fc_autoencoder_ad", 8, &["cortex-m4", "cortex-m3", "cortex-m55"]),
    ("mlperf_tiny_resnet8_cifar10", 2, &["cortex-m3", "cortex-m4", "cortex-m55"]),
];

fn main() {
    let eval = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eval");
    println!(
        "{:<30} {:>4}  {:<13} {:>14} {:>14} {:>7} {:>9} {:>9}",
        "model", "bits", "target", "C instr.", "Rust instr.", "Rust/C", "C arena", "Rust arena"
    );
    for (folder, bits, names) in CASES {
        let Some(common::EvalModel { file: model, graph, obs, test }) =
            eval_model("rust_instructions", &eval.join(folder))
        else {
            continue;
        };
        let provenance = Provenance {
            target: "cortex-m4".into(),
            model_file: "model.onnx".into(),
            model_hash: sha256_hex(&std::fs::read(&model).unwrap()),
        };
        let options = QuantOptions { bits: WeightBits::uniform(bits), ..QuantOptions::default() };
        let langs = [Lang::C, Lang::Rust];
        let c = compile(&graph, &obs, &options, "model", &provenance, &Origin::default(), &langs).expect("compile");
        let out = std::env::temp_dir().join(format!("ompqc-rust-bench-{}-{folder}-w{bits}", std::process::id()));
        write_output_dir(&out, &c.files).expect("write");
        let input = interp::quantize_input(&c.qgraph, &test).expect("quantize input");
        for name in names {
            let target = Target::load(name).unwrap();
            let ready = firmware::check_runnable(&target)
                .and_then(|_| rust::check_rust_target(name, target.toolchain.rust_target.as_deref().unwrap_or("none")));
            if let Err(e) = ready {
                eprintln!("rust_instructions: skipped {name}: {}", e.message);
                continue;
            }
            let what = format!("{folder} W{bits}");
            let [c_run, rust_run] = langs.map(|lang| run_lang(&target, &out, &c, lang, &input, &what));
            let (ci, ri) = (c_run.instructions_per_inference, rust_run.instructions_per_inference);
            println!(
                "{folder:<30} {bits:>4}  {name:<13} {ci:>14} {ri:>14} {:>7.3} {:>9} {:>9}",
                ri as f64 / ci as f64,
                c.plan.c.arena_bytes,
                c.plan.rust.arena_bytes
            );
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}
