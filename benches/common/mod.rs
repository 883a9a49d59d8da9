//! What the benchmarks share: the eval folders' input mapping and one bit-exact firmware run.

use std::path::Path;

use ompqc::compile::Compilation;
use ompqc::emit::Lang;
use ompqc::run::firmware::{self, FirmwareRun, RunRequest};
use ompqc::target::Target;

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
