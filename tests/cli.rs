//! The `ompqc` binary: inspect and predict on the bundled example and the real models, and a clean one-line
//! error with exit code 2 for every kind of bad input.

mod common;

use std::path::{Path, PathBuf};

use common::{eval_dir, ompqc, repo, write_npy};
use tract_onnx::prelude::Framework;

fn example() -> PathBuf {
    repo().join("examples/digits")
}

/// Runs ompqc and returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = ompqc().args(args).output().expect("the ompqc binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Asserts a clean input error: exit 2, one line on stderr naming `culprit`, nothing that looks like a panic.
fn assert_input_error(args: &[&str], culprit: &str) -> String {
    let (code, _, err) = run(args);
    assert_eq!(code, 2, "{args:?}: exit code {code}, stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: expected one line, got: {err}");
    assert!(err.starts_with("ompqc: ") || err.starts_with("error: "), "{args:?}: {err}");
    assert!(err.contains(culprit), "{args:?}: the message does not name {culprit}: {err}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "{args:?}: {err}");
    err
}

fn inspect_json(model: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["inspect", s(model), "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "inspect {}: {err}", model.display());
    serde_json::from_str(&out).expect("inspect --json prints one JSON document")
}

/// The names of the ONNX nodes that carry weights (Conv, Gemm, MatMul).
fn weighted_nodes(model: &Path) -> Vec<String> {
    let proto = tract_onnx::onnx().proto_model_for_path(model).unwrap();
    let graph = proto.graph.unwrap();
    graph
        .node
        .iter()
        .filter(|n| ["Conv", "Gemm", "MatMul"].contains(&n.op_type.as_str()))
        .map(|n| n.name.clone())
        .collect()
}

fn assert_lists_every_layer(model: &Path, extra: &[&str]) {
    let json = inspect_json(model, extra);
    let layers = json["layers"].as_array().unwrap();
    let names: Vec<&str> = layers.iter().map(|l| l["name"].as_str().unwrap()).collect();
    let expected = weighted_nodes(model);
    assert!(!expected.is_empty());
    for name in &expected {
        assert!(names.contains(&name.as_str()), "{}: layer {name} is missing from {names:?}", model.display());
    }
    let macs: u64 = layers.iter().map(|l| l["macs"].as_u64().unwrap()).sum();
    assert_eq!(macs, json["total_macs"].as_u64().unwrap());
    assert!(json["unsupported"].as_array().unwrap().is_empty());
    eprintln!("{}: {} layers, {} weighted, {macs} MACs", model.display(), layers.len(), expected.len());
}

#[test]
fn inspect_the_example() {
    let model = example().join("model.onnx");
    let (code, out, err) = run(&["inspect", s(&model)]);
    assert_eq!(code, 0, "{err}");
    for layer in ["conv1", "conv2", "block.depthwise", "block.pointwise", "block.add", "pool", "fc"] {
        assert!(out.contains(layer), "{layer} missing from:\n{out}");
    }
    assert!(out.contains("DepthwiseConv") && out.contains("+relu"), "{out}");
    let json = inspect_json(&model, &[]);
    // conv1 8x8x8 outputs of 9 MACs, conv2 16x4x4 of 72, depthwise 16x4x4 of 9, pointwise 16x4x4 of 16, fc 10 of 16.
    assert_eq!(json["total_macs"].as_u64(), Some(512 * 9 + 256 * 72 + 256 * 9 + 256 * 16 + 160));
    assert_eq!(json["layers"].as_array().unwrap().len(), 8);
}

#[test]
fn inspect_lists_every_layer_of_every_real_model() {
    let Some(eval) = eval_dir("inspect_lists_every_layer_of_every_real_model") else {
        return;
    };
    for entry in std::fs::read_dir(&eval).unwrap() {
        let dir = entry.unwrap().path();
        for file in ["model.onnx", "model_unfolded_bn.onnx"] {
            if dir.join(file).is_file() {
                assert_lists_every_layer(&dir.join(file), &[]);
            }
        }
    }
    for file in ["mobilenetv2_0.35_96.onnx", "mobilenetv2_1.0_224.onnx"] {
        assert_lists_every_layer(&eval.join("random_arch").join(file), &[]);
    }
    let ppocr = eval.join("extra_unlabelled/ppocr_mobile_v2_cls/model_original.onnx");
    assert_input_error(&["inspect", s(&ppocr)], "--input-shape");
    assert_lists_every_layer(&ppocr, &["--input-shape", "1,3,48,192"]);
}

#[test]
fn predict_reproduces_the_example_accuracy() {
    let dir = example();
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("meta.json")).unwrap()).unwrap();
    let (code, out, err) = run(&[
        "predict",
        s(&dir.join("model.onnx")),
        "--inputs",
        s(&dir.join("test_x.npy")),
        "--labels",
        s(&dir.join("test_y.npy")),
        "--input-scale",
        "0.0625",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["inputs"].as_u64(), Some(540));
    let top1 = json["top1"].as_f64().unwrap();
    assert_eq!((top1 * 1e4).round() / 1e4, meta["float_top1_numpy"].as_f64().unwrap(), "the numpy trainer's accuracy");
}

#[test]
fn bad_models_are_clean_errors() {
    let tmp = std::env::temp_dir().join(format!("ompqc-cli-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let model = std::fs::read(example().join("model.onnx")).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.onnx", vec![]),
        ("truncated.onnx", model[..model.len() / 2].to_vec()),
        ("random.onnx", (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect()),
        ("text.onnx", b"this is not a model\n".to_vec()),
    ];
    for (name, bytes) in cases {
        let path = tmp.join(name);
        std::fs::write(&path, bytes).unwrap();
        assert_input_error(&["inspect", s(&path)], name);
        assert_input_error(&["predict", s(&path), "--inputs", s(&example().join("test_x.npy"))], name);
    }
    assert_input_error(&["inspect", s(&tmp.join("missing.onnx"))], "missing.onnx");
    let unsupported = repo().join("tests/models/unsupported_ops.onnx");
    let err = assert_input_error(&["inspect", s(&unsupported)], "unsupported_ops.onnx");
    assert!(err.contains("'concat_2' (Concat") && err.contains("'hardmax_3' (Hardmax"), "{err}");
    let (_, out, _) = run(&["inspect", s(&unsupported)]);
    assert!(out.contains("2 unsupported nodes") && out.contains("hardmax_3 (Hardmax)"), "{out}");
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn bad_data_files_are_clean_errors() {
    let tmp = std::env::temp_dir().join(format!("ompqc-npy-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let model = example().join("model.onnx");
    let write = |name: &str, shape: &[u64], dtype: &str, bytes: Vec<u8>| {
        let path = tmp.join(name);
        let mut header = format!(
            "{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({}), }}",
            shape.iter().map(|d| format!("{d},")).collect::<String>()
        );
        while (10 + header.len() + 1) % 64 != 0 {
            header.push(' ');
        }
        header.push('\n');
        let mut data = b"\x93NUMPY\x01\x00".to_vec();
        data.extend_from_slice(&(header.len() as u16).to_le_bytes());
        data.extend_from_slice(header.as_bytes());
        data.extend_from_slice(&bytes);
        std::fs::write(&path, data).unwrap();
        path
    };
    let wrong_shape = write("wrong_shape.npy", &[4, 1, 8, 9], "|u1", vec![0; 4 * 72]);
    let err = assert_input_error(&["predict", s(&model), "--inputs", s(&wrong_shape)], "wrong_shape.npy");
    assert!(err.contains("[1, 1, 8, 8]"), "the message gives the expected shape: {err}");
    let wrong_dtype = write("wrong_dtype.npy", &[2, 1, 8, 8], "<f8", vec![0; 2 * 64 * 8]);
    assert_input_error(&["predict", s(&model), "--inputs", s(&wrong_dtype)], "wrong_dtype.npy");
    let short = write("short.npy", &[4, 1, 8, 8], "|u1", vec![0; 10]);
    assert_input_error(&["predict", s(&model), "--inputs", s(&short)], "short.npy");
    let garbage = tmp.join("garbage.npy");
    std::fs::write(&garbage, b"not numpy").unwrap();
    assert_input_error(&["predict", s(&model), "--inputs", s(&garbage)], "garbage.npy");
    let inputs = example().join("test_x.npy");
    let labels = write("labels.npy", &[3], "<i4", vec![0; 12]);
    assert_input_error(&["predict", s(&model), "--inputs", s(&inputs), "--labels", s(&labels)], "labels.npy");
    assert_input_error(&["inspect", s(&model), "--input-shape", "1,x,8,8"], "--input-shape");
    assert_input_error(&["inspect", s(&model), "--input-shape", "1,2,8,8"], "--input-shape");
    assert_input_error(&["inspect"], "<MODEL>");
    assert_input_error(&["inspect", s(&model), "--bogus"], "--bogus");
    assert_input_error(&["frobnicate"], "frobnicate");
    std::fs::remove_dir_all(&tmp).unwrap();
}

fn eval_args<'a>(dir: &'a Path, test: &'a str) -> Vec<String> {
    vec![
        "eval".into(),
        s(&dir.join("model.onnx")).into(),
        "--calib".into(),
        s(&dir.join("calib_x.npy")).into(),
        "--test".into(),
        test.into(),
        "--input-scale".into(),
        "0.0625".into(),
    ]
}

#[test]
fn eval_reports_accuracy_and_every_layer() {
    let dir = example();
    let test = dir.join("test_x.npy");
    let mut args = eval_args(&dir, s(&test));
    args.extend(["--labels".into(), s(&dir.join("test_y.npy")).into(), "--bits".into(), "4".into(), "--json".into()]);
    let args: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    for field in ["float_top1", "quant_top1", "agreement", "weight_bytes", "budget_bytes", "layers", "output_sqnr_db"] {
        assert!(json.get(field).is_some(), "eval --json lacks {field}: {out}");
    }
    let layers = json["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 8);
    let weighted: Vec<&serde_json::Value> = layers.iter().filter(|l| !l["bits"].is_null()).collect();
    assert_eq!(weighted.len(), 5);
    assert!(weighted.iter().all(|l| l["bits"] == 4 && l["weight_bytes"].as_u64().unwrap() > 0));
    let total: u64 = layers.iter().map(|l| l["weight_bytes"].as_u64().unwrap()).sum();
    assert_eq!(json["weight_bytes"].as_u64(), Some(total));
    // conv1: 8 rows of 9 four-bit weights, ceil(36/8) = 5 bytes a row.
    assert_eq!(layers[0]["weight_bytes"].as_u64(), Some(8 * 5));
    assert!(json["quant_top1"].as_f64().unwrap() > 0.85);
}

#[test]
fn eval_rejects_bad_data_and_bits_files() {
    let dir = example();
    let tmp = std::env::temp_dir().join(format!("ompqc-eval-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    // A test set of another model's shape.
    let mnist_like = tmp.join("mnist_like.npy");
    write_npy(&mnist_like, "|u1", &[2, 1, 28, 28], &[0; 2 * 28 * 28]);
    let args = eval_args(&dir, s(&mnist_like));
    let args: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
    assert_input_error(&args, "mnist_like.npy");

    let test = dir.join("test_x.npy");
    for (file, text, culprit) in [
        ("unknown.json", r#"{"conv1": 4, "conv9": 2}"#, "conv9"),
        ("unknown.toml", "conv1 = 4\n\"block.add\" = 2\n", "block.add"),
        ("width.toml", "fc = 9\n", "9 bits"),
        ("broken.json", "{conv1: 4", "broken.json"),
    ] {
        let path = tmp.join(file);
        std::fs::write(&path, text).unwrap();
        let mut args = eval_args(&dir, s(&test));
        args.extend(["--bits-file".into(), s(&path).into()]);
        let args: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
        let err = assert_input_error(&args, culprit);
        assert!(err.contains(file), "{err}");
    }
    let good = tmp.join("good.toml");
    std::fs::write(&good, "conv1 = 8\n\"block.pointwise\" = 2\nfc = 4\n").unwrap();
    let mut args = eval_args(&dir, s(&test));
    args.extend(["--bits-file".into(), s(&good).into(), "--json".into()]);
    let args: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let bits: Vec<Option<u64>> = json["layers"].as_array().unwrap().iter().map(|l| l["bits"].as_u64()).collect();
    assert_eq!(bits, [Some(8), Some(8), Some(8), Some(2), None, None, None, Some(4)]);
    let mut args = eval_args(&dir, s(&test));
    args.extend(["--bits".into(), "9".into()]);
    let args: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
    assert_input_error(&args, "--bits");
    std::fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn eval_rounds_with_adaround_unless_told_to_round_to_nearest() {
    let dir = example();
    let test = dir.join("test_x.npy");
    let eval = |extra: &[&str]| {
        let mut args = eval_args(&dir, s(&test));
        args.extend(["--labels", s(&dir.join("test_y.npy")), "--bits", "2", "--json"].map(String::from));
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(|a| a.as_str()).collect();
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        (serde_json::from_str::<serde_json::Value>(&out).unwrap(), err)
    };
    let (learned, progress) = eval(&[]);
    assert_eq!(learned["rounding"], "adaround");
    // A line per layer on stderr, the five layers with weights all at 2 bits.
    let lines: Vec<&str> = progress.lines().filter(|l| l.starts_with("adaround ")).collect();
    assert_eq!(lines.len(), 5, "{progress}");
    assert!(lines[0].starts_with("adaround 1/5: 'conv1' at 2 bits, "), "{progress}");
    for fast in [&["--fast"][..], &["--rounding", "nearest"]] {
        let (nearest, quiet) = eval(fast);
        assert_eq!(nearest["rounding"], "nearest");
        assert!(quiet.is_empty(), "{quiet}");
        // The same widths and bytes, other weights.
        assert_eq!(nearest["weight_bytes"], learned["weight_bytes"]);
        assert_ne!(nearest["output_sqnr_db"], learned["output_sqnr_db"]);
    }
    let mut both = eval_args(&dir, s(&test));
    both.extend(["--fast", "--rounding", "adaround"].map(String::from));
    let both: Vec<&str> = both.iter().map(|a| a.as_str()).collect();
    assert_input_error(&both, "--fast");
    let mut bogus = eval_args(&dir, s(&test));
    bogus.extend(["--rounding", "stochastic"].map(String::from));
    let bogus: Vec<&str> = bogus.iter().map(|a| a.as_str()).collect();
    assert_input_error(&bogus, "--rounding");
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// The arena must fit a RAM budget: `--ram-budget` or the target's RAM less its stack reserve and the input and
/// output buffers. A model that does not fit is a one-line error naming the budget, the smallest arena reachable
/// and the layer at the peak, and leaves no output directory; one that fits records the budget in report.json.
#[test]
fn the_arena_must_fit_the_ram_budget() {
    let ex = example();
    let (model, calib) = (ex.join("model.onnx"), ex.join("calib_x.npy"));
    let dir = std::env::temp_dir().join(format!("ompqc-cli-ram-{}", std::process::id()));
    let base = ["--calib", s(&calib), "--input-scale", "0.0625", "--target", "cortex-m4"];
    let compile = |extra: &[&'static str]| -> Vec<String> {
        let args = [&["compile", s(&model)], &base[..], extra, &["-o", s(&dir)]].concat();
        args.into_iter().map(String::from).collect()
    };
    // The example's arena: 1,736 bytes on whole tensors (1,592 tile by tile), its peak at the second convolution.
    let plot = dir.with_extension("plot");
    let args = [compile(&["--bits", "8", "--ram-budget", "1KiB"]), vec!["--plot".into(), s(&plot).into()]].concat();
    let err = assert_input_error(&refs(&args), "--ram-budget 1KiB (1024 bytes)");
    assert!(err.contains("is 1592 bytes") && err.contains("1736 bytes on whole tensors"), "{err}");
    assert!(err.contains("layer 'conv2' (Conv)"), "{err}");
    assert!(!dir.exists(), "a failed compile left {}", dir.display());
    // The picture of why: the live bytes per layer above the budget's line.
    let svg = std::fs::read_to_string(plot.join("memory.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("arena 1,736, RAM budget 1,024"), "{svg}");
    std::fs::remove_dir_all(&plot).unwrap();
    for command in ["search", "eval"] {
        let mut args = vec![command, s(&model)];
        args.extend_from_slice(&base);
        if command == "eval" {
            args.extend_from_slice(&["--test", s(&calib)]);
        }
        args.extend_from_slice(&["--ram-budget", "1000"]);
        assert_input_error(&args, "--ram-budget 1000 (1000 bytes)");
    }
    assert_input_error(&refs(&compile(&["--ram-budget", "lots"])), "--ram-budget lots");
    // rv32imac's board: 16,384 bytes of RAM, 4,096 of stack reserve, 64 input and 10 output bytes.
    let rv32 = ["--target", "rv32imac", "--bits", "8", "--plot", s(&plot), "-o", s(&dir)];
    let args = [&["compile", s(&model)], &base[..4], &rv32[..]].concat();
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("RAM: arena 1,736 bytes of a 12,214 byte budget (whole tensors), on a board of 16,384"),
        "{out}"
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["ram_budget_bytes"], 12_214);
    assert_eq!(report["board_ram_bytes"], 16_384);
    assert_eq!(report["memory_schedule"], "whole tensors");
    // The picture: the live bytes per layer under the budget's line.
    let svg = std::fs::read_to_string(plot.join("memory.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("arena 1,736, RAM budget 12,214"), "{svg}");
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&plot).unwrap();
}

/// A model over its RAM budget runs its first layers tile by tile (tests/models/patch_stage.onnx at 6,000 bytes,
/// its whole-tensor arena 10,672): compile says so, report.json records the stage, both the C and the Rust arena fit,
/// memory.svg draws before and after; under the smallest arena any schedule reaches it exits 2 saying how far
/// tiling got, with no output directory.
#[test]
fn a_model_over_its_ram_budget_runs_its_first_layers_tile_by_tile() {
    let model = repo().join("tests/models/patch_stage.onnx");
    let root = std::env::temp_dir().join(format!("ompqc-cli-tiles-{}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    let calib = common::random_calib(&model, &root);
    let (dir, plot) = (root.join("out"), root.join("plot"));
    let args = |budget: &'static str| -> Vec<String> {
        let args = ["compile", s(&model), "--calib", s(&calib), "--target", "cortex-m4", "--bits", "8"];
        let tail = ["--emit", "c,rust", "--ram-budget", budget, "--plot", s(&plot), "-o", s(&dir)];
        [&args[..], &tail[..]].concat().into_iter().map(String::from).collect()
    };
    let (code, out, err) = run(&refs(&args("6000")));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("patch-based execution: layers 1-") && out.contains("tile by tile on a"), "{out}");
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    let stage = &report["tiled_stage"];
    assert!(stage["layers"].as_u64().unwrap() >= 4 && stage["grid"].as_array().unwrap().len() == 2, "{report}");
    assert!(stage["extra_macs_percent"].as_f64().unwrap() > 0.0, "{report}");
    assert!(report["memory_schedule"].as_str().unwrap().contains("tile by tile"), "{report}");
    assert!(report["arena_bytes"].as_u64().unwrap() <= 6000 && report["rust_arena_bytes"].as_u64().unwrap() <= 6000);
    let whole = stage["whole_tensor_arena_bytes"].as_u64().unwrap();
    assert!(whole > 6000, "{report}");
    let svg = std::fs::read_to_string(plot.join("memory.svg")).unwrap();
    let grey = format!("(grey: {} on whole tensors), RAM budget 6,000", ompqc::report::inspect::thousands(whole));
    assert!(svg.contains(&grey), "{svg}");
    std::fs::remove_dir_all(&dir).unwrap();
    // Below anything reachable: the error says tiling got the arena below the whole-tensor one, yet not enough.
    let err = assert_input_error(&refs(&args("1000")), "--ram-budget 1000 (1000 bytes)");
    assert!(err.contains("running its first layers tile by tile") && err.contains(&format!("{whole} bytes")), "{err}");
    assert!(!dir.exists());
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn predict_and_eval_write_raw_outputs() {
    let dir = example();
    let tmp = std::env::temp_dir().join(format!("ompqc-outputs-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let (model, test) = (dir.join("model.onnx"), dir.join("test_x.npy"));
    // predict: the float outputs, N first: tract's.
    let float_path = tmp.join("float.npy");
    let args = ["predict", s(&model), "--inputs", s(&test), "--input-scale", "0.0625", "--output", s(&float_path)];
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let float = ompqc::data::load_samples(&float_path, &[1, 10], 1.0, 0.0).unwrap();
    assert_eq!(float.n, 540);
    let samples = ompqc::data::load_samples(&test, &[1, 1, 8, 8], 0.0625, 0.0).unwrap();
    common::assert_close("predict --output", &float.data, &common::tract_outputs(&model, &samples), 10, 1e-5);
    // eval: the integer model's dequantized outputs: int8 levels, agreeing with float on the top class.
    let quant_path = tmp.join("quant.npy");
    let mut args = eval_args(&dir, s(&test));
    args.extend(["--bits", "8", "--fast", "--output", s(&quant_path)].map(String::from));
    let (code, _, err) = run(&refs(&args));
    assert_eq!(code, 0, "{err}");
    let quant = ompqc::data::load_samples(&quant_path, &[1, 10], 1.0, 0.0).unwrap();
    assert_eq!((quant.n, quant.data.len()), (540, 5400));
    let mut levels: Vec<u32> = quant.data.iter().map(|v| v.to_bits()).collect();
    levels.sort_unstable();
    levels.dedup();
    assert!(levels.len() <= 256, "{} distinct values", levels.len());
    let top = |v: &[f32]| (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b });
    let agree = (0..540).filter(|&i| top(float.sample(i)) == top(quant.sample(i))).count();
    assert!(agree >= 530, "{agree} of 540 agree");
    // One model's outputs only.
    let mut args = eval_args(&dir, s(&test));
    args.extend(["--allocator", "all", "--output", s(&tmp.join("x.npy"))].map(String::from));
    assert_input_error(&refs(&args), "--output");
    std::fs::remove_dir_all(&tmp).unwrap();
}
