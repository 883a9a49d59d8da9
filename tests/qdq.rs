//! Models quantized elsewhere: QDQ ONNX made by onnxruntime's `quantize_static` (scripts/make_qdq.py) from the
//! bundled example, int8 and int4 weights, int8 and uint8 activations. ompqc imports them with their own scales and
//! integers, compiles them without calibration data, runs them bit-exact on the host and under QEMU, agrees with
//! onnxruntime, and refuses in one line what it cannot keep exactly. With ../shared/eval, the MLPerf Tiny ResNet-8
//! and DS-CNN are quantized the same way and measured against onnxruntime.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{check, ompqc, repo};
use ompqc::data::{load_labels, load_samples, write_f32};

/// The bundled example's QDQ copies, made once per test run.
struct Models {
    dir: PathBuf,
    python: PathBuf,
    /// Per-channel int8 weights, int8 activations.
    int8: PathBuf,
    /// Per-tensor int8 weights, uint8 activations.
    uint8: PathBuf,
    /// int4 weights in every layer but the first and last (opset 21).
    int4: PathBuf,
    /// The same in onnxruntime's com.microsoft domain (opset 13).
    int4_microsoft: PathBuf,
    /// uint4 weights (zero point 8) in every layer but the first and last.
    uint4: PathBuf,
    /// The example's test inputs as the float model sees them.
    test_float: PathBuf,
}

const EXAMPLE_SCALE: f32 = 0.0625;

fn example(file: &str) -> PathBuf {
    repo().join("examples/digits").join(file)
}

fn python() -> Option<PathBuf> {
    common::python_with("onnx, onnxruntime, numpy")
}

/// `scripts/make_qdq.py MODEL CALIB OUT --scale S ARGS...`, checked.
fn make_qdq(python: &Path, model: &Path, calib: &Path, out: &Path, scale: f32, offset: f32, args: &[&str]) {
    let run = Command::new(python)
        .arg(repo().join("scripts/make_qdq.py"))
        .args([model, calib, out])
        .args(["--scale", &scale.to_string(), "--offset", &offset.to_string()])
        .args(args)
        .output()
        .unwrap();
    check(&run, &format!("make_qdq.py {} {args:?}", model.display()));
}

fn models(test: &str) -> Option<&'static Models> {
    static MODELS: OnceLock<Option<Models>> = OnceLock::new();
    let models = MODELS.get_or_init(|| {
        let python = python()?;
        let dir = std::env::temp_dir().join(format!("ompqc-qdq-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (model, calib) = (example("model.onnx"), example("calib_x.npy"));
        let path = |name: &str| dir.join(name);
        make_qdq(&python, &model, &calib, &path("int8.onnx"), EXAMPLE_SCALE, 0.0, &[]);
        make_qdq(
            &python,
            &model,
            &calib,
            &path("uint8.onnx"),
            EXAMPLE_SCALE,
            0.0,
            &["--activations", "uint8", "--per-tensor"],
        );
        make_qdq(&python, &model, &calib, &path("int4.onnx"), EXAMPLE_SCALE, 0.0, &["--int4"]);
        make_qdq(&python, &model, &calib, &path("int4_ms.onnx"), EXAMPLE_SCALE, 0.0, &["--int4", "--keep-opset"]);
        make_qdq(&python, &model, &calib, &path("uint4.onnx"), EXAMPLE_SCALE, 0.0, &["--uint4"]);
        let test = load_samples(&example("test_x.npy"), &[1, 1, 8, 8], EXAMPLE_SCALE, 0.0).unwrap();
        let test_float = path("test_float.npy");
        write_f32(&test_float, &[test.n, 1, 8, 8], &test.data).unwrap();
        Some(Models {
            int8: path("int8.onnx"),
            uint8: path("uint8.onnx"),
            int4: path("int4.onnx"),
            int4_microsoft: path("int4_ms.onnx"),
            uint4: path("uint4.onnx"),
            test_float,
            dir,
            python,
        })
    });
    if models.is_none() {
        eprintln!("{test}: skipped: no Python with onnx and onnxruntime (scripts/test.sh installs them)");
    }
    models.as_ref()
}

/// onnxruntime's outputs of `model` on float inputs, with its default optimizations (a QDQ model's layers run as
/// QLinearConv and the like), `n` samples of `len` values.
fn onnxruntime(python: &Path, model: &Path, inputs: &Path, out: &Path, n: usize, len: usize) -> Vec<f32> {
    let run = Command::new(python)
        .arg(repo().join("tests/onnxruntime_outputs.py"))
        .args([model, inputs, out])
        .arg("optimized")
        .output()
        .unwrap();
    check(&run, "onnxruntime_outputs.py");
    let outputs = load_samples(out, &[1, len], 1.0, 0.0).unwrap();
    assert_eq!(outputs.n, n);
    outputs.data
}

/// The integer model's top-1 accuracy and onnxruntime's, the share of samples whose top-1 class they agree on, and
/// the output SQNR (dB) of ompqc's outputs against onnxruntime's.
struct Agreement {
    ompqc_top1: f64,
    onnxruntime_top1: f64,
    agreement: f64,
    sqnr_db: f64,
}

fn agreement(ours: &[f32], theirs: &[f32], labels: &[i64], len: usize) -> Agreement {
    let argmax = |v: &[f32]| v.iter().enumerate().fold(0, |b, (i, &x)| if x > v[b] { i } else { b });
    let (a, b): (Vec<usize>, Vec<usize>) =
        ours.chunks(len).zip(theirs.chunks(len)).map(|(x, y)| (argmax(x), argmax(y))).unzip();
    let n = labels.len() as f64;
    let top1 = |p: &[usize]| p.iter().zip(labels).filter(|(p, &y)| **p as i64 == y).count() as f64 / n;
    let signal: f64 = theirs.iter().map(|&y| (y as f64).powi(2)).sum();
    let noise: f64 = ours.iter().zip(theirs).map(|(&x, &y)| (x as f64 - y as f64).powi(2)).sum();
    Agreement {
        ompqc_top1: top1(&a),
        onnxruntime_top1: top1(&b),
        agreement: a.iter().zip(&b).filter(|(x, y)| x == y).count() as f64 / n,
        sqnr_db: 10.0 * (signal / noise.max(1e-30)).log10(),
    }
}

/// `ompqc eval MODEL --test X --labels Y ARGS... --output OUT --json` without calibration data: the report and
/// the integer model's outputs.
fn eval(
    model: &Path,
    test: &Path,
    labels: &Path,
    args: &[&str],
    out: &Path,
    classes: usize,
) -> (serde_json::Value, Vec<f32>) {
    let run = ompqc()
        .arg("eval")
        .arg(model)
        .arg("--test")
        .arg(test)
        .arg("--labels")
        .arg(labels)
        .args(args)
        .arg("--output")
        .arg(out)
        .arg("--json")
        .output()
        .unwrap();
    check(&run, &format!("eval {}", model.display()));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let outputs = load_samples(out, &[1, classes], 1.0, 0.0).unwrap();
    assert_eq!(report["samples"].as_u64().unwrap() as usize, outputs.n);
    (report, outputs.data)
}

fn layer_bits(report: &serde_json::Value) -> Vec<u64> {
    report["layers"].as_array().unwrap().iter().filter_map(|l| l["bits"].as_u64()).collect()
}

#[test]
fn qdq_models_agree_with_onnxruntime_without_calibration() {
    let Some(m) = models("qdq_models_agree_with_onnxruntime_without_calibration") else { return };
    let labels_path = example("test_y.npy");
    let labels = load_labels(&labels_path, 540).unwrap();
    for (name, model, bits, top1_points) in [
        ("int8", &m.int8, vec![8, 8, 8, 8, 8], 1.0),
        ("uint8 activations", &m.uint8, vec![8, 8, 8, 8, 8], 1.0),
        ("int4", &m.int4, vec![8, 4, 4, 4, 8], 2.0),
        ("int4, com.microsoft domain", &m.int4_microsoft, vec![8, 4, 4, 4, 8], 2.0),
        ("uint4", &m.uint4, vec![8, 4, 4, 4, 8], 2.0),
    ] {
        let out = m.dir.join(format!("{}.ompqc.npy", model.file_stem().unwrap().to_string_lossy()));
        let len = 10;
        let (report, ours) = eval(model, &example("test_x.npy"), &labels_path, &["--input-scale", "0.0625"], &out, len);
        assert_eq!(report["calibration_samples"], 0, "{name}: evaluated without calibration data");
        assert_eq!(report["rounding"], "qdq", "{name}");
        assert_eq!(layer_bits(&report), bits, "{name}: the model's own widths");
        let ort_out = m.dir.join(format!("{}.ort.npy", model.file_stem().unwrap().to_string_lossy()));
        let theirs = onnxruntime(&m.python, model, &m.test_float, &ort_out, 540, len);
        let a = agreement(&ours, &theirs, &labels, len);
        eprintln!(
            "{name}: ompqc top-1 {:.2}%, onnxruntime {:.2}%, same top-1 on {:.2}% of samples, SQNR {:.1} dB",
            100.0 * a.ompqc_top1,
            100.0 * a.onnxruntime_top1,
            100.0 * a.agreement,
            a.sqnr_db
        );
        assert!((a.ompqc_top1 - a.onnxruntime_top1).abs() * 100.0 <= top1_points, "{name}: top-1 apart");
        assert!(a.agreement >= 0.98, "{name}: per-sample agreement {}", a.agreement);
        assert!(a.sqnr_db >= 30.0, "{name}: output SQNR {} dB against onnxruntime", a.sqnr_db);
        // The float reference is the QDQ graph in float: it agrees with onnxruntime's graph almost everywhere.
        let float_top1 = report["float_top1"].as_f64().unwrap();
        assert!((float_top1 - a.onnxruntime_top1).abs() <= 0.01, "{name}: QDQ float {float_top1}");
    }
}

/// What the model's own quantization says, read with onnx: the int32 biases and the activations' scales and zero
/// points by tensor.
fn model_quantization(python: &Path, model: &Path) -> serde_json::Value {
    let script = r#"
import json, sys, onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
biases = {n.output[0]: init[n.input[0]].tolist() for n in m.graph.node
          if n.op_type == "DequantizeLinear" and n.input[0] in init and init[n.input[0]].dtype.name == "int32"}
acts = {n.input[0]: [float(init[n.input[1]]), int(init[n.input[2]])] for n in m.graph.node if n.op_type == "QuantizeLinear"}
print(json.dumps({"biases": biases, "activations": acts}))
"#;
    let run = Command::new(python).args(["-c", script]).arg(model).output().unwrap();
    check(&run, "reading the QDQ model");
    serde_json::from_slice(&run.stdout).unwrap()
}

#[test]
fn the_integer_model_holds_the_qdq_models_own_numbers() {
    let Some(m) = models("the_integer_model_holds_the_qdq_models_own_numbers") else { return };
    for model in [&m.int8, &m.uint8, &m.int4] {
        let dir = m.dir.join(format!("{}_numbers", model.file_stem().unwrap().to_string_lossy()));
        let run = ompqc().arg("compile").arg(model).arg("-o").arg(&dir).output().unwrap();
        check(&run, "compile");
        let qgraph: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("model.qgraph.json")).unwrap()).unwrap();
        let given = model_quantization(&m.python, model);
        let unsigned = model == &m.uint8;
        // Every tensor the model quantizes keeps its scale and zero point (uint8 ones shifted by 128).
        let mut checked = 0;
        for t in qgraph["tensors"].as_array().unwrap() {
            if let Some(q) = given["activations"].get(t["name"].as_str().unwrap()) {
                assert_eq!(t["q"]["scale"].as_f64().unwrap() as f32, q[0].as_f64().unwrap() as f32);
                let zp = q[1].as_i64().unwrap() - if unsigned { 128 } else { 0 };
                assert_eq!(t["q"]["zero_point"].as_i64().unwrap(), zp, "{}", t["name"]);
                checked += 1;
            }
        }
        assert!(checked >= 6, "{checked} tensors checked");
        // Every layer's int32 bias is the model's, integer for integer.
        let biases: Vec<Vec<i64>> = given["biases"]
            .as_object()
            .unwrap()
            .values()
            .map(|b| b.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect())
            .collect();
        let layers: Vec<Vec<i64>> = qgraph["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["op"].as_object()?.values().next()?.get("bias").cloned())
            .map(|b| b.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect())
            .collect();
        assert_eq!(layers.len(), 5);
        for bias in &layers {
            assert!(biases.contains(bias), "{}: bias {bias:?} is not one of the model's", model.display());
        }
        // `inspect` shows each layer's imported width and its output's scale.
        let run = ompqc().arg("inspect").arg(model).arg("--json").output().unwrap();
        check(&run, "inspect");
        let inspection: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        let conv2 = inspection["layers"].as_array().unwrap().iter().find(|l| l["name"] == "conv2").unwrap();
        assert_eq!(conv2["qdq"]["weight_bits"], if model == &m.int4 { 4 } else { 8 });
        assert_eq!(conv2["qdq"]["per_channel"], model != &m.uint8);
        let r2 = &given["activations"]["r2"];
        assert_eq!(conv2["qdq"]["output_scale"].as_f64().unwrap() as f32, r2[0].as_f64().unwrap() as f32);
    }
}

#[test]
fn an_int4_qdq_model_compiles_without_calibration_and_runs_bit_exact() {
    let Some(m) = models("an_int4_qdq_model_compiles_without_calibration_and_runs_bit_exact") else { return };
    let dir = m.dir.join("int4_m4");
    let run = ompqc()
        .arg("compile")
        .arg(&m.int4)
        .args(["--target", "cortex-m4", "--emit", "c,rust", "--input-scale", "0.0625", "-o"])
        .arg(&dir)
        .output()
        .unwrap();
    check(&run, "compile the int4 model for cortex-m4");
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("the model's own integers and scales (QDQ)"), "{text}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["allocator"], "qdq");
    let inputs = example("test_x.npy");
    for (target, lang, limit) in [
        ("host", "c", "40"),
        ("host", "rust", "40"),
        ("cortex-m4", "c", "2"),
        ("cortex-m4", "rust", "2"),
        ("cortex-m55", "c", "2"),
    ] {
        let run = ompqc()
            .arg("run")
            .arg(&dir)
            .arg("--inputs")
            .arg(&inputs)
            .args(["--target", target, "--lang", lang, "--limit", limit])
            .output()
            .unwrap();
        check(&run, &format!("run on {target} ({lang})"));
        let text = String::from_utf8_lossy(&run.stdout);
        assert!(text.contains("bit-exact with the interpreter (0 mismatched"), "{target} {lang}: {text}");
    }
}

/// A failed command: exit code 2 and one line on stderr containing every piece of `expected`.
fn refused(out: Output, expected: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    for piece in expected {
        assert!(stderr.contains(piece), "'{piece}' not in: {stderr}");
    }
}

/// `model` with `edit` applied to its graph by a line of Python (`m` is the model).
fn edited(python: &Path, model: &Path, out: &Path, edit: &str) {
    let script = format!(
        "import sys, onnx\nfrom onnx import numpy_helper\nm = onnx.load(sys.argv[1])\n{edit}\nonnx.save(m, sys.argv[2])\n"
    );
    check(&Command::new(python).args(["-c", &script]).arg(model).arg(out).output().unwrap(), "editing a model");
}

#[test]
fn qdq_patterns_ompqc_cannot_keep_exactly_are_refused_in_one_line() {
    let Some(m) = models("qdq_patterns_ompqc_cannot_keep_exactly_are_refused_in_one_line") else { return };
    let compile = |model: &Path, args: &[&str]| {
        let dir = m.dir.join("refused");
        let out = ompqc().arg("compile").arg(model).arg("-o").arg(&dir).args(args).output().unwrap();
        assert!(!dir.exists(), "a refused compile leaves no output directory");
        out
    };
    // An asymmetric weight zero point.
    let asymmetric = m.dir.join("asymmetric.onnx");
    edited(
        &m.python,
        &m.int8,
        &asymmetric,
        "z = [t for t in m.graph.initializer if t.name == 'conv2.weight_zero_point'][0]\n\
         z.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(z) + 3, z.name))",
    );
    refused(compile(&asymmetric, &[]), &["'conv2'", "zero point 3 (asymmetric)"]);
    // Activations quantized per channel.
    let per_channel = m.dir.join("per_channel_activation.onnx");
    edited(
        &m.python,
        &m.int8,
        &per_channel,
        "import numpy as np\n\
         for name in ['r2_scale', 'r2_zero_point']:\n    t = [t for t in m.graph.initializer if t.name == name][0]\n    \
         t.CopyFrom(numpy_helper.from_array(np.repeat(numpy_helper.to_array(t), 16), name))\n\
         for n in m.graph.node:\n    if n.input[0] in ('r2', 'r2_QuantizeLinear_Output'):\n        \
         n.attribute.append(onnx.helper.make_attribute('axis', 1))",
    );
    refused(compile(&per_channel, &[]), &["'r2_QuantizeLinear'", "16 scales", "per tensor"]);
    // A QOperator model (QLinearConv): not QDQ.
    let qoperator = m.dir.join("qoperator.onnx");
    make_qdq(
        &m.python,
        &example("model.onnx"),
        &example("calib_x.npy"),
        &qoperator,
        EXAMPLE_SCALE,
        0.0,
        &["--format", "qoperator"],
    );
    refused(compile(&qoperator, &[]), &["QLinearConv"]);
    // Widths the target has no kernels for.
    let eight_only = m.dir.join("eight_only.toml");
    let target = std::fs::read_to_string(repo().join("targets/cortex-m4.toml")).unwrap();
    std::fs::write(&eight_only, target.replace("weight_bits = [2, 4, 8]", "weight_bits = [8]")).unwrap();
    refused(
        compile(&m.int4, &["--target", eight_only.to_str().unwrap()]),
        &["layer 'conv2' has 4-bit weights", "cannot run"],
    );
    // A flash budget below the model's own size is checked, not searched.
    refused(compile(&m.int4, &["--flash-budget", "1000"]), &["--flash-budget", "above the budget of 1000 bytes"]);
    let fits = m.dir.join("fits");
    let run =
        ompqc().arg("compile").arg(&m.int4).arg("-o").arg(&fits).args(["--flash-budget", "2KiB"]).output().unwrap();
    check(&run, "compile within the flash budget");
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("1,016 bytes fit the flash budget of 2,048 bytes"), "{text}");
    // Options that would change the model's own widths or weights.
    refused(compile(&m.int4, &["--bits", "4"]), &["--bits", "--requantize"]);
    refused(compile(&m.int4, &["--rounding", "nearest"]), &["--rounding", "own integer weights"]);
    // A float model still needs calibration data.
    let float_copy = m.dir.join("float_model.onnx");
    std::fs::copy(example("model.onnx"), &float_copy).unwrap();
    refused(compile(&float_copy, &[]), &["--calib is required"]);
    refused(compile(&m.int8, &["--requantize"]), &["--calib is required to re-quantize"]);
    // `run` of a model compiled without calibration data needs inputs.
    let dir = m.dir.join("no_calibration");
    check(&ompqc().arg("compile").arg(&m.int8).arg("-o").arg(&dir).output().unwrap(), "compile");
    refused(ompqc().arg("run").arg(&dir).output().unwrap(), &["compiled without calibration data", "--inputs"]);
}

#[test]
fn a_requantized_qdq_model_is_searched_like_a_float_model() {
    let Some(m) = models("a_requantized_qdq_model_is_searched_like_a_float_model") else { return };
    let out = m.dir.join("requantized.npy");
    let (report, _) = eval(
        &m.int8,
        &example("test_x.npy"),
        &example("test_y.npy"),
        &[
            "--requantize",
            "--calib",
            example("calib_x.npy").to_str().unwrap(),
            "--input-scale",
            "0.0625",
            "--flash-budget",
            "60%",
            "--allocator",
            "size-only",
        ],
        &out,
        10,
    );
    assert_eq!(report["calibration_samples"], 64);
    assert_eq!(report["allocator"], "size-only");
    let bits = layer_bits(&report);
    assert!(bits.contains(&4) || bits.contains(&2), "searched widths {bits:?}");
    assert!(report["quant_top1"].as_f64().unwrap() > 0.85, "{}", report["quant_top1"]);
}

/// ResNet-8 and DS-CNN quantized by onnxruntime on their calibration sets (per-channel int8, and int4 in every
/// layer but the first and last), evaluated by ompqc without calibration data against onnxruntime on the same QDQ
/// model. ResNet-8 on its 2,000-image set (200 images make one sample half a point).
#[test]
fn mlperf_qdq_models_agree_with_onnxruntime() {
    let Some(eval_root) = common::eval_dir("mlperf_qdq_models_agree_with_onnxruntime") else { return };
    let Some(m) = models("mlperf_qdq_models_agree_with_onnxruntime") else { return };
    for (folder, test) in [("mlperf_tiny_resnet8_cifar10", "test2"), ("mlperf_tiny_dscnn_kws", "test")] {
        let data = eval_root.join(folder);
        let (scale, offset) = common::input_map(&common::meta(&data));
        let (x, y) = (data.join(format!("{test}_x.npy")), data.join(format!("{test}_y.npy")));
        let shape: Vec<usize> = common::meta(&data)["model"]["input"]["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        let samples = load_samples(&x, &shape, scale, offset).unwrap();
        let test_float = m.dir.join(format!("{folder}_{test}.npy"));
        write_f32(&test_float, &[[samples.n].as_slice(), &shape[1..]].concat(), &samples.data).unwrap();
        let labels = load_labels(&y, samples.n).unwrap();
        for (kind, args, points) in [("int8", vec![], 1.0), ("int4", vec!["--int4"], 2.0)] {
            let model = m.dir.join(format!("{folder}_{kind}.onnx"));
            make_qdq(&m.python, &data.join("model.onnx"), &data.join("calib_x.npy"), &model, scale, offset, &args);
            let out = m.dir.join(format!("{folder}_{kind}.ompqc.npy"));
            let map = ["--input-scale".to_string(), scale.to_string(), "--input-offset".into(), offset.to_string()];
            let map: Vec<&str> = map.iter().map(String::as_str).collect();
            let len = common::meta(&data)["model"]["output"]["shape"][1].as_u64().unwrap() as usize;
            let (report, ours) = eval(&model, &x, &y, &map, &out, len);
            let bits = layer_bits(&report);
            if kind == "int4" {
                // Every weighted ONNX layer but the first and last at 4 bits (a bias added on its own after the last
                // layer is a per-channel scale at 8 bits).
                let ops = &common::meta(&data)["model"]["ops"];
                let weighted: u64 = ["Conv", "MatMul", "Gemm"].iter().filter_map(|op| ops[op].as_u64()).sum();
                assert_eq!(bits[0], 8, "{bits:?}");
                assert_eq!(bits.iter().filter(|&&b| b == 4).count() as u64, weighted - 2, "{bits:?}");
            }
            let theirs = onnxruntime(&m.python, &model, &test_float, &m.dir.join("ort.npy"), samples.n, len);
            let a = agreement(&ours, &theirs, &labels, len);
            eprintln!(
                "{folder} {kind}: ompqc top-1 {:.2}%, onnxruntime {:.2}%, same top-1 on {:.2}% of {} samples, SQNR {:.1} dB",
                100.0 * a.ompqc_top1,
                100.0 * a.onnxruntime_top1,
                100.0 * a.agreement,
                samples.n,
                a.sqnr_db
            );
            assert!((a.ompqc_top1 - a.onnxruntime_top1).abs() * 100.0 <= points, "{folder} {kind}: top-1 apart");
            assert!(a.agreement >= 0.95, "{folder} {kind}: per-sample agreement {}", a.agreement);
        }
    }
}
