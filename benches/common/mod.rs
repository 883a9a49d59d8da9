//! What the benchmarks share: the eval folders' input mapping and one bit-exact firmware run.

use std::path::{Path, PathBuf};

use ompqc::compile::Compilation;
use ompqc::data::{load_samples, Samples};
use ompqc::emit::Lang;
use ompqc::import::{self, ImportOptions};
use ompqc::ir::Graph;
use ompqc::observe::{observe, Observations, RangeMethod};
use ompqc::run::firmware::{self, FirmwareRun, RunRequest};
use ompqc::target::Target;

/// An eval folder's model, ready to compile: its file, graph, ranges on the calibration data and one test input (the
/// FC autoencoder's test files hold whole recordings: a calibration window instead).
#[allow(dead_code)]
pub struct EvalModel {
    pub file: PathBuf,
    pub graph: Graph,
    pub obs: Observations,
    pub test: Samples,
}

/// The model of eval folder `dir`, or None (said on stderr for `bench`) when the folder is absent.
#[allow(dead_code)]
pub fn eval_model(bench: &str, dir: &Path) -> Option<EvalModel> {
    let file = dir.join("model.onnx");
    if !file.is_file() {
        eprintln!("{bench}: skipped {}: {} not found", dir.display(), file.display());
        return None;
    }
    let graph = import::load(&file, &ImportOptions::default()).expect("import");
    let (scale, offset) = input_map(dir);
    let calib = load_samples(&dir.join("calib_x.npy"), graph.input_shape(), scale, offset).expect("calib");
    let test = load_samples(&dir.join("test_x.npy"), graph.input_shape(), scale, offset)
        .unwrap_or_else(|_| calib.clone())
        .take(1);
    let obs = observe(&graph, &calib, RangeMethod::MinMax).expect("observe");
    Some(EvalModel { file, graph, obs, test })
}

/// (scale, offset) of the stored inputs, from the folder's meta.json.
pub fn input_map(dir: &Path) -> (f32, f32) {
    let text = std::fs::read_to_string(dir.join("meta.json")).expect("meta.json");
    let meta: serde_json::Value = serde_json::from_str(&text).expect("meta.json is JSON");
    let d = &meta["input_dequant"];
    (d["scale"].as_f64().unwrap_or(1.0) as f32, d["offset"].as_f64().unwrap_or(0.0) as f32)
}

/// One quantized input of compilation `c`, written to `dir`, run on `target` under QEMU; panics unless bit-exact.
#[allow(dead_code)]
pub fn run_once(target: &Target, dir: &Path, c: &Compilation, input: &[i8], what: &str) -> FirmwareRun {
    run_lang(target, dir, c, Lang::C, input, what)
}

/// run_once of the generated `lang`.
pub fn run_lang(target: &Target, dir: &Path, c: &Compilation, lang: Lang, input: &[i8], what: &str) -> FirmwareRun {
    let request =
        RunRequest { dir, report: &c.report, graph: &c.qgraph, lang, input, n: 1, profile: false, timeout: None };
    let r = firmware::run(target, &request).expect("run");
    assert!(r.bit_exact, "{what} on {}: not bit-exact", target.name);
    r
}
