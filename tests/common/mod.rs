//! Helpers shared by the integration tests: where the data is, tract as the float oracle, comparisons.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use ompqc::data::Samples;
use tract_onnx::prelude::*;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// ../shared/eval when present; otherwise prints why the caller skips.
pub fn eval_dir(test: &str) -> Option<PathBuf> {
    let dir = repo().join("../shared/eval");
    if dir.join("README.md").is_file() {
        Some(dir)
    } else {
        eprintln!("{test}: skipped: ../shared/eval (the real-model evaluation set) is not present");
        None
    }
}

pub fn meta(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("meta.json")).expect("meta.json");
    serde_json::from_str(&text).expect("meta.json is JSON")
}

/// (scale, offset) mapping stored input values to the float model input.
pub fn input_map(meta: &serde_json::Value) -> (f32, f32) {
    let d = &meta["input_dequant"];
    (d["scale"].as_f64().unwrap() as f32, d["offset"].as_f64().unwrap() as f32)
}

/// Deterministic inputs uniform in [-1, 1) (xorshift), for models without test data.
pub fn random_samples(shape: &[usize], n: usize, seed: u64) -> Samples {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let len: usize = shape.iter().product();
    let data = (0..n * len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect();
    Samples { n, sample_shape: shape.to_vec(), data }
}

/// tract's float outputs for every sample, sample-major.
pub fn tract_outputs(model: &Path, samples: &Samples) -> Vec<f32> {
    let fact = InferenceFact::dt_shape(f32::datum_type(), samples.sample_shape.as_slice());
    let runnable = tract_onnx::onnx()
        .model_for_path(model)
        .and_then(|m| m.with_input_fact(0, fact))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .unwrap_or_else(|e| panic!("tract cannot run {}: {e:?}", model.display()));
    let mut out = Vec::new();
    for i in 0..samples.n {
        let input = Tensor::from_shape(&samples.sample_shape, samples.sample(i)).unwrap();
        let result = runnable.run(tvec!(input.into())).unwrap();
        out.extend(result[0].cast_to::<f32>().unwrap().to_plain_array_view::<f32>().unwrap().iter().copied());
    }
    out
}

/// Asserts that every sample of `ours` is within `rel` of `reference`, relative to the largest magnitude of that
/// reference sample. Returns the worst relative error seen.
pub fn assert_close(what: &str, ours: &[f32], reference: &[f32], sample_len: usize, rel: f32) -> f32 {
    assert_eq!(ours.len(), reference.len(), "{what}: output sizes differ");
    let mut worst = 0.0f32;
    for (s, (a, b)) in ours.chunks(sample_len).zip(reference.chunks(sample_len)).enumerate() {
        let magnitude = b.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(f32::MIN_POSITIVE);
        let diff = a.iter().zip(b).fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(a.iter().all(|v| v.is_finite()), "{what}: sample {s} has non-finite outputs");
        let err = diff / magnitude;
        assert!(
            err <= rel,
            "{what}: sample {s}: max |diff| {diff} is {err:e} of the magnitude {magnitude} (limit {rel:e})"
        );
        worst = worst.max(err);
    }
    worst
}

/// A Python that imports `modules` (e.g. "onnx, numpy"): $OMPQC_PYTHON, scripts/test.sh's target/pyenv, or
/// python3.
pub fn python_with(modules: &str) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("OMPQC_PYTHON").map(PathBuf::from),
        Some(repo().join("target/pyenv/bin/python")),
        Some(PathBuf::from("python3")),
    ];
    let imports = format!("import {modules}");
    candidates
        .into_iter()
        .flatten()
        .find(|p| std::process::Command::new(p).args(["-c", &imports]).output().is_ok_and(|o| o.status.success()))
}

/// The binary under test.
pub fn ompqc() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_ompqc"))
}

/// Writes a .npy file of raw little-endian `data` with the given dtype descriptor (`|u1`, `<f4`, ...) and shape.
pub fn write_npy(path: &Path, descr: &str, shape: &[usize], data: &[u8]) {
    let dims: String = shape.iter().map(|d| format!("{d},")).collect();
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).unwrap();
}

/// ROC AUC of scores against binary labels (1 = positive), ties counted half.
pub fn auc(scores: &[f64], labels: &[i64]) -> f64 {
    let (mut pairs, mut wins) = (0.0, 0.0);
    for (s1, _) in scores.iter().zip(labels).filter(|(_, &y)| y == 1) {
        for (s0, _) in scores.iter().zip(labels).filter(|(_, &y)| y == 0) {
            pairs += 1.0;
            wins += if s1 > s0 {
                1.0
            } else if s1 == s0 {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / pairs
}

/// Asserts that a command succeeded, showing its output otherwise.
pub fn check(out: &std::process::Output, what: &str) {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `ompqc compile MODEL --calib CALIB --input-scale SCALE -o DIR ARGS...`, checked.
pub fn compile_cli(model: &Path, calib: &Path, scale: f32, args: &[&str], dir: &Path) {
    let out = ompqc()
        .arg("compile")
        .arg(model)
        .arg("--calib")
        .arg(calib)
        .args(["--input-scale", &scale.to_string(), "-o"])
        .arg(dir)
        .args(args)
        .output()
        .unwrap();
    check(&out, &format!("compile {} {args:?}", model.display()));
}

/// Eight random float inputs (uniform in [-1, 1), fixed seed) for an op-coverage model, from its input shape,
/// written as DIR/MODEL.npy.
pub fn random_calib(model: &Path, dir: &Path) -> PathBuf {
    let out = ompqc().arg("inspect").arg(model).arg("--json").output().unwrap();
    check(&out, "inspect");
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut shape: Vec<usize> =
        info["input"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    shape[0] = 8;
    let n: usize = shape.iter().product();
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let data: Vec<u8> = (0..n)
        .flat_map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0).to_le_bytes()
        })
        .collect();
    let path = dir.join(format!("{}.npy", model.file_stem().unwrap().to_string_lossy()));
    write_npy(&path, "<f4", &shape, &data);
    path
}
