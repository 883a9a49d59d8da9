//! The ONNX backend node tests through ompqc's importer and float executor. tests/onnx_node_suite.py writes them
//! from the installed `onnx` package's own test-case code (scripts/test.sh installs onnx into target/pyenv). Every
//! test either imports and computes the expected outputs within the test's tolerances, or is refused with a
//! reason; the summary (passed, refused by reason) prints and is in the README. No wrong value, no panic.

mod common;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;

use ompqc::data::load_samples;
use ompqc::import::{self, ImportOptions};

/// A Python with onnx and numpy.
fn python() -> Option<PathBuf> {
    common::python_with("onnx, numpy")
}

/// What became of one test.
enum Outcome {
    Passed,
    Refused(String),
    Wrong(String),
}

/// The reason a refusal is counted under: the operator ompqc lacks, or the converted operator and why.
fn refusal(path: &Path) -> Option<String> {
    match import::import(path, &ImportOptions::default()) {
        Err(e) if e.message.contains("has batch dimension") => {
            Some("the input's axis 0 has a fixed size above 1 (ompqc compiles batch 1)".into())
        }
        Err(e) => Some(format!("model: {}", e.message.split(": ").nth(1).unwrap_or(&e.message))),
        Ok(imported) => imported.unsupported.first().map(|u| {
            if u.reason.contains("no such operator") {
                "operator not converted".to_string()
            } else {
                format!("{}: {}", u.op_type, without_lists(u.reason.split(['(', ':']).next().unwrap_or("").trim()))
            }
        }),
    }
}

/// A reason with its shapes and axis lists elided ("B of shape [..] must be 2-D"), so that like refusals count together.
fn without_lists(reason: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in reason.chars() {
        match c {
            '[' => {
                if depth == 0 {
                    out.push_str("[..]");
                }
                depth += 1;
            }
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn run_case(dir: &Path) -> Outcome {
    let path = dir.join("model.onnx");
    if let Some(reason) = refusal(&path) {
        return Outcome::Refused(reason);
    }
    let graph = match import::load(&path, &ImportOptions::default()) {
        Ok(g) => g,
        Err(e) => return Outcome::Refused(format!("model: {}", e.message)),
    };
    let case: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("case.json")).unwrap()).unwrap();
    let (rtol, atol) = (case["rtol"].as_f64().unwrap(), case["atol"].as_f64().unwrap());
    let input = match load_samples(&dir.join("input.npy"), graph.input_shape(), 1.0, 0.0) {
        Ok(s) => s,
        Err(e) => return Outcome::Refused(format!("input: {}", e.message.split(": ").nth(1).unwrap_or(""))),
    };
    let ours = match ompqc::exec::run(&graph, &input) {
        Ok(o) => o,
        Err(e) => return Outcome::Wrong(format!("the executor failed: {}", e.message)),
    };
    let expected = match load_samples(&dir.join("expected.npy"), graph.output_shape(), 1.0, 0.0) {
        Ok(s) if s.n == input.n => s,
        Ok(s) => return Outcome::Wrong(format!("{} expected samples for {} inputs", s.n, input.n)),
        Err(e) => {
            return Outcome::Wrong(format!(
                "the output shape {:?} is not the test's: {}",
                graph.output_shape(),
                e.message
            ))
        }
    };
    let bad = ours.data.iter().zip(&expected.data).position(|(&a, &b)| {
        let (a, b) = (a as f64, b as f64);
        !((a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= atol + rtol * b.abs())
    });
    match bad {
        Some(i) => Outcome::Wrong(format!("value {i}: {} instead of {}", ours.data[i], expected.data[i])),
        None if ours.data.len() != expected.data.len() => Outcome::Wrong("output length".into()),
        None => Outcome::Passed,
    }
}

#[test]
fn onnx_node_tests_pass_or_are_refused_with_a_reason() {
    let Some(python) = python() else {
        eprintln!("onnx_node_tests_pass_or_are_refused_with_a_reason: skipped: no Python with onnx (scripts/test.sh installs it)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("ompqc-node-suite-{}", std::process::id()));
    let out = Command::new(&python).arg(common::repo().join("tests/onnx_node_suite.py")).arg(&dir).output().unwrap();
    common::check(&out, "tests/onnx_node_suite.py");
    let listing: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("cases.json")).unwrap()).unwrap();
    let cases = listing["cases"].as_object().unwrap();
    let (mut passed, mut refused, mut wrong) = (0, BTreeMap::<String, usize>::new(), Vec::new());
    for (name, info) in cases {
        if let Some(reason) = info["skipped"].as_str() {
            *refused.entry(format!("test form: {reason}")).or_default() += 1;
            continue;
        }
        match catch_unwind(AssertUnwindSafe(|| run_case(&dir.join(name)))) {
            Ok(Outcome::Passed) => passed += 1,
            Ok(Outcome::Refused(reason)) => *refused.entry(reason).or_default() += 1,
            Ok(Outcome::Wrong(why)) => wrong.push(format!("{name}: {why}")),
            Err(_) => wrong.push(format!("{name}: panicked")),
        }
    }
    let mut reasons: Vec<(&String, &usize)> = refused.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    eprintln!(
        "ONNX {} node tests: {} in all, {passed} passed, {} refused:",
        listing["onnx"],
        cases.len(),
        refused.values().sum::<usize>()
    );
    for (reason, count) in reasons {
        eprintln!("  {count:5}  {reason}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(wrong.is_empty(), "{} wrong results or panics:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(passed + refused.values().sum::<usize>(), cases.len());
    // What passes today, so a regression shows (raise it as operators land).
    assert!(passed >= 202, "{passed} passed");
}

/// Every op-coverage model ompqc runs in float (tests/models) computes onnxruntime's outputs within 1e-4 of each
/// sample's magnitude. onnxruntime comes with onnx into scripts/test.sh's target/pyenv.
#[test]
fn the_op_models_match_onnxruntime() {
    let Some(python) = python() else {
        eprintln!("the_op_models_match_onnxruntime: skipped: no Python with onnx (scripts/test.sh installs it)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("ompqc-ort-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let models = [
        "conv_variants",
        "conv1d",
        "batchnorm_affine",
        "activations",
        "pools",
        "pad_se_hardswish",
        "pad_pool",
        "more_activations",
        "math_functions",
        "resampling",
        "transposed_conv",
        "log_softmax",
        "slices",
        "normalizations",
        "lrn",
        "transposes",
        "reductions",
        "more_arithmetic",
        "upsample",
        "pad_modes",
    ];
    for name in models {
        let path = common::repo().join("tests/models").join(format!("{name}.onnx"));
        let graph = import::load(&path, &ImportOptions::default()).unwrap();
        let samples = common::random_samples(graph.input_shape(), 4, 3);
        let shape: Vec<usize> = std::iter::once(samples.n).chain(graph.input_shape()[1..].iter().copied()).collect();
        let bytes: Vec<u8> = samples.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        let (input, output) = (dir.join(format!("{name}.x.npy")), dir.join(format!("{name}.y.npy")));
        common::write_npy(&input, "<f4", &shape, &bytes);
        let out = Command::new(&python)
            .arg(common::repo().join("tests/onnxruntime_outputs.py"))
            .args([&path, &input, &output])
            .output()
            .unwrap();
        if out.status.code() == Some(3) {
            eprintln!(
                "the_op_models_match_onnxruntime: skipped: onnxruntime is not installed (scripts/test.sh installs it)"
            );
            return;
        }
        common::check(&out, &format!("onnxruntime on {name}"));
        let reference = load_samples(&output, graph.output_shape(), 1.0, 0.0).unwrap();
        let ours = ompqc::exec::run(&graph, &samples).unwrap();
        let worst = common::assert_close(name, &ours.data, &reference.data, ours.sample_len, 1e-4);
        eprintln!("{name}: worst relative difference from onnxruntime {worst:.1e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
