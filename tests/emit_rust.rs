//! The generated Rust crate as a Rust user meets it: `cargo fmt --check` and `cargo clippy -D warnings` clean on
//! crates that use every kernel, byte-identical across runs, bit-exact under QEMU on cortex-m4 when the
//! thumbv7em-none-eabihf standard library is installed, and clean errors. (Bit-exactness on the host for every
//! model is in tests/emit.rs.)

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{check, compile_cli, eval_dir, input_map, meta, ompqc, random_calib, repo};

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ompqc-rust-test-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Compiles `model` into `dir` as C and Rust with extra arguments.
fn compile(model: &Path, calib: &Path, scale: f32, args: &[&str], dir: &Path) {
    compile_cli(model, calib, scale, &[&["--emit", "c,rust"], args].concat(), dir);
}

fn cargo(args: &[&str], dir: &Path, target_dir: &Path) -> Output {
    Command::new(env!("CARGO")).args(args).current_dir(dir).env("CARGO_TARGET_DIR", target_dir).output().unwrap()
}

/// Whether `cargo fmt` and `cargo clippy` are installed; otherwise prints why the caller skips.
fn lint_tools(test: &str) -> bool {
    let have =
        |tool: &str| Command::new(env!("CARGO")).args([tool, "--version"]).output().is_ok_and(|o| o.status.success());
    let ok = have("fmt") && have("clippy");
    if !ok {
        eprintln!("{test}: skipped: cargo fmt or cargo clippy is not installed (rustup component add rustfmt clippy)");
    }
    ok
}

#[test]
fn generated_crates_pass_rustfmt_and_clippy_for_every_kernel() {
    if !lint_tools("generated_crates_pass_rustfmt_and_clippy_for_every_kernel") {
        return;
    }
    let root = temp("lint");
    std::fs::create_dir_all(&root).unwrap();
    let target_dir = root.join("target");
    let example = repo().join("examples/digits");
    let mut crates = vec![];
    let dir = root.join("example");
    compile(&example.join("model.onnx"), &example.join("calib_x.npy"), 0.0625, &["--flash-budget", "62.5%"], &dir);
    crates.push(dir);
    // Together these use every kernel: convs (grouped, 1-D, strided, dilated; with a fused add), dense, add
    // (broadcast in kernel_paths), mul, tables, pools, concat, transpose, softmax and a standalone pad, at 8 and 2
    // bits.
    for model in [
        "activations",
        "batchnorm_affine",
        "conv1d",
        "conv_variants",
        "pad_se_hardswish",
        "pools",
        "residual_bands",
        "kernel_paths",
        "pad_pool",
    ] {
        let file = repo().join(format!("tests/models/{model}.onnx"));
        let calib = random_calib(&file, &root);
        for bits in ["8", "2"] {
            let dir = root.join(format!("{model}-{bits}"));
            compile(&file, &calib, 1.0, &["--bits", bits], &dir);
            crates.push(dir);
        }
    }
    let mut kernels = std::collections::BTreeSet::new();
    for dir in &crates {
        let krate = dir.join("rust");
        let lib = std::fs::read_to_string(krate.join("src/lib.rs")).unwrap();
        kernels.extend(
            lib.lines().filter_map(|l| l.trim().strip_prefix("kernels::")?.split(['(', ':']).next().map(String::from)),
        );
        assert!(lib.contains("#![no_std]") && !lib.contains("unsafe {"), "{}", krate.display());
        check(&cargo(&["fmt", "--check"], &krate, &target_dir), &format!("cargo fmt --check in {}", krate.display()));
        let clippy = cargo(&["clippy", "--quiet", "--", "-D", "warnings"], &krate, &target_dir);
        check(&clippy, &format!("cargo clippy in {}", krate.display()));
        // The ISA features' code, for their cores (the 2-bit crates hold no kernel the 8-bit ones do not).
        if dir.ends_with("-2") {
            continue;
        }
        for (triple, feature) in
            [("thumbv7m-none-eabi", "armv7m"), ("thumbv7em-none-eabihf", "dsp"), ("thumbv8m.main-none-eabihf", "mve")]
        {
            if ompqc::run::rust::check_rust_target(triple, triple).is_err() {
                eprintln!("generated_crates_pass_rustfmt_and_clippy_for_every_kernel: {triple} is not installed");
                continue;
            }
            let args = ["clippy", "--quiet", "--target", triple, "--features", feature, "--", "-D", "warnings"];
            check(
                &cargo(&args, &krate, &target_dir),
                &format!("cargo clippy --features {feature} in {}", krate.display()),
            );
        }
    }
    let all = [
        "add",
        "avg_pool",
        "concat_part",
        "conv_add",
        "conv_columns",
        "conv_grouped",
        "dense",
        "depthwise",
        "global_avg_pool",
        "max_pool",
        "mul",
        "pad",
        "softmax",
        "table",
        "transpose",
    ];
    for k in all {
        assert!(kernels.contains(k), "no crate used kernel {k}: {kernels:?}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn generated_crates_are_byte_identical_across_runs() {
    let example = repo().join("examples/digits");
    let (a, b) = (temp("same-a"), temp("same-b"));
    for dir in [&a, &b] {
        compile(&example.join("model.onnx"), &example.join("calib_x.npy"), 0.0625, &["--flash-budget", "50%"], dir);
    }
    for file in ["Cargo.toml", "rustfmt.toml", "src/lib.rs", "src/kernels.rs", "src/weights.rs"] {
        let (x, y) =
            (std::fs::read(a.join("rust").join(file)).unwrap(), std::fs::read(b.join("rust").join(file)).unwrap());
        assert!(!x.is_empty() && x == y, "rust/{file} differs between two runs");
    }
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}

#[test]
fn rust_errors_are_clean() {
    let example = repo().join("examples/digits");
    let dir = temp("errors");
    let out = ompqc()
        .arg("compile")
        .arg(example.join("model.onnx"))
        .args(["--emit", "c,go", "-o"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("'go' is not c or rust"));
    assert!(!dir.exists(), "no output directory after a bad --emit");
    // A directory compiled for C only has no crate to run.
    let out = ompqc().arg("compile").arg(example.join("model.onnx")).arg("-o").arg(&dir).output().unwrap();
    check(&out, "compile");
    let out = ompqc().arg("run").arg(&dir).args(["--lang", "rust"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--emit rust") && err.trim().lines().count() == 1, "{err}");
    // A Rust target whose standard library rustup does not have: exit 2 naming the rustup command.
    let rust_dir = temp("errors-rust");
    compile_cli(&example.join("model.onnx"), &example.join("calib_x.npy"), 0.0625, &["--emit", "rust"], &rust_dir);
    let board = rust_dir.with_extension("toml");
    let text = std::fs::read_to_string(repo().join("targets/cortex-m4.toml")).unwrap();
    std::fs::write(&board, text.replace("thumbv7em-none-eabihf", "thumbv7em-ompqc-none")).unwrap();
    if ompqc::run::firmware::check_runnable(&ompqc::target::Target::load(board.to_str().unwrap()).unwrap()).is_ok() {
        let out = ompqc()
            .arg("run")
            .arg(&rust_dir)
            .args(["--lang", "rust", "--limit", "1", "--target", board.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("rustup target add thumbv7em-ompqc-none"), "{err}");
    }
    let _ = std::fs::remove_dir_all(&rust_dir);
    let _ = std::fs::remove_file(&board);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether QEMU and the Rust standard library of `target` are installed; otherwise prints why the caller skips.
fn runs_rust_on(target: &str, test: &str) -> bool {
    let t = ompqc::target::Target::load(target).unwrap();
    let triple = t.toolchain.rust_target.clone().unwrap();
    let ready =
        ompqc::run::firmware::check_runnable(&t).and_then(|_| ompqc::run::rust::check_rust_target(target, &triple));
    if let Err(e) = &ready {
        eprintln!("{test}: skipped: {}", e.message);
    }
    ready.is_ok()
}

#[test]
fn resnet8_rust_is_bit_exact_under_qemu_on_cortex_m4() {
    let test = "resnet8_rust_is_bit_exact_under_qemu_on_cortex_m4";
    let Some(eval) = eval_dir(test) else { return };
    if !runs_rust_on("cortex-m4", test) {
        return;
    }
    let d = eval.join("mlperf_tiny_resnet8_cifar10");
    let (scale, _) = input_map(&meta(&d));
    let dir = temp("resnet8-m4");
    compile(&d.join("model.onnx"), &d.join("calib_x.npy"), scale, &["--bits", "8"], &dir);
    let mut counts = vec![];
    for lang in ["rust", "c"] {
        let out = ompqc()
            .arg("run")
            .arg(&dir)
            .args([
                "--target",
                "cortex-m4",
                "--lang",
                lang,
                "--limit",
                "5",
                "--json",
                "--input-scale",
                &scale.to_string(),
            ])
            .arg("--inputs")
            .arg(d.join("test_x.npy"))
            .output()
            .unwrap();
        check(&out, &format!("run --lang {lang}"));
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (r["lang"].as_str(), r["bit_exact"].as_bool(), r["mismatched_bytes"].as_u64()),
            (Some(lang), Some(true), Some(0))
        );
        counts.push(r["instructions_per_inference"].as_u64().unwrap());
    }
    eprintln!("{test}: cortex-m4 instructions per inference: Rust {}, C {}", counts[0], counts[1]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The test models and compile arguments that reach every assembly loop of the DSP and Helium (with a RAM budget,
/// patch_stage's first stage runs tile by tile, its depthwise written over its input).
const KERNEL_MODELS: [(&str, &[&str]); 10] = [
    ("kernel_paths", &["--bits", "8"]),
    ("kernel_paths", &["--bits", "4"]),
    ("kernel_paths", &["--bits", "2"]),
    ("residual_bands", &["--bits", "8"]),
    ("patch_stage", &["--bits", "8"]),
    ("patch_stage", &["--bits", "8", "--ram-budget", "6000"]),
    ("pools", &["--bits", "8"]),
    ("pad_se_hardswish", &["--bits", "8"]),
    ("wide_channels", &["--bits", "8"]),
    ("wide_channels", &["--bits", "2"]),
];

/// The DSP's assembly loops (depthwise 3x3 rows at strides 1 and 2, walked along rows or columns, with odd widths;
/// column convolutions at 8, 4 and 2 bits, in blocks of 64 channels; dense layers with and without a tail of inputs
/// and of rows; the gather's copies) against the interpreter.
#[test]
fn the_kernel_models_are_bit_exact_in_rust_under_qemu_on_cortex_m4() {
    let test = "the_kernel_models_are_bit_exact_in_rust_under_qemu_on_cortex_m4";
    kernel_models_are_bit_exact(test, "cortex-m4", &KERNEL_MODELS);
}

/// Helium's loops (the column convolutions' pairs of rows at 8, 4 and 2 bits with their predicated tail of words, a
/// pixel alone, in place, odd channels and blocks of 64 channels; the columns in their fields' order with a tail;
/// their requantization; the gather's copies; depthwise 3x3 rows at strides 1 and 2, walked along rows or columns,
/// in place, their strided planes and outputs; adds; dense layers with and without a tail of inputs) against the
/// interpreter.
#[test]
fn the_kernel_models_are_bit_exact_in_rust_under_qemu_on_cortex_m55() {
    let test = "the_kernel_models_are_bit_exact_in_rust_under_qemu_on_cortex_m55";
    kernel_models_are_bit_exact(test, "cortex-m55", &KERNEL_MODELS);
}

/// Each (model under tests/models, compile arguments) compiled for `target` and run there in Rust on three inputs,
/// bit-exact with the interpreter.
fn kernel_models_are_bit_exact(test: &str, target: &str, models: &[(&str, &[&str])]) {
    if !runs_rust_on(target, test) {
        return;
    }
    let root = temp(&format!("kernel-models-{target}"));
    std::fs::create_dir_all(&root).unwrap();
    for (i, (model, args)) in models.iter().enumerate() {
        let file = repo().join(format!("tests/models/{model}.onnx"));
        let calib = random_calib(&file, &root);
        let dir = root.join(format!("{model}-{i}"));
        compile(&file, &calib, 1.0, &[args, &["--target", target][..]].concat(), &dir);
        let out = ompqc()
            .arg("run")
            .arg(&dir)
            .args(["--target", target, "--lang", "rust", "--limit", "3", "--json", "--input-scale", "1"])
            .arg("--inputs")
            .arg(&calib)
            .output()
            .unwrap();
        check(&out, &format!("run {model} ({}) --lang rust on {target}", args.join(" ")));
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (r["bit_exact"].as_bool(), r["mismatched_bytes"].as_u64(), r["inputs"].as_u64()),
            (Some(true), Some(0), Some(3)),
            "{model} ({}) on {target}: {r}",
            args.join(" ")
        );
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn the_example_crate_is_bit_exact_under_qemu_on_every_target_and_profiles_its_layers() {
    let test = "the_example_crate_is_bit_exact_under_qemu_on_every_target_and_profiles_its_layers";
    let example = repo().join("examples/digits");
    let dir = temp("every-target");
    compile(&example.join("model.onnx"), &example.join("calib_x.npy"), 0.0625, &["--flash-budget", "60%"], &dir);
    let run = |target: &str, lang: &str, profile: bool| -> serde_json::Value {
        let mut cmd = ompqc();
        cmd.arg("run").arg(&dir).args(["--target", target, "--lang", lang, "--limit", "4", "--json"]);
        cmd.args(["--input-scale", "0.0625", "--inputs"]).arg(example.join("test_x.npy"));
        if profile {
            cmd.arg("--profile");
        }
        let out = cmd.output().unwrap();
        check(&out, &format!("run --target {target} --lang {lang}"));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let mut ran = 0;
    for target in ompqc::target::Target::built_in() {
        let Some(triple) = target.toolchain.rust_target.clone() else { continue };
        let ready = ompqc::run::firmware::check_runnable(&target)
            .and_then(|_| ompqc::run::rust::check_rust_target(&target.name, &triple));
        if let Err(e) = ready {
            eprintln!("{test}: {} skipped: {}", target.name, e.message);
            continue;
        }
        let r = run(&target.name, "rust", false);
        assert_eq!(
            (r["bit_exact"].as_bool(), r["mismatched_bytes"].as_u64(), r["inputs"].as_u64()),
            (Some(true), Some(0), Some(4)),
            "{}: {r}",
            target.name
        );
        eprintln!("{test}: {} Rust: {} instructions per inference", target.name, r["instructions_per_inference"]);
        ran += 1;
    }
    if ran == 0 {
        eprintln!("{test}: skipped: no target ran");
        return;
    }
    // The Rust profile reports the layers the C's does, each counted inside the whole inference.
    let Some(m4) = ompqc::target::Target::built_in().into_iter().find(|t| t.name == "cortex-m4") else { return };
    if ompqc::run::rust::check_rust_target("cortex-m4", m4.toolchain.rust_target.as_deref().unwrap()).is_err() {
        return;
    }
    let (c, rust) = (run("cortex-m4", "c", true), run("cortex-m4", "rust", true));
    let names = |r: &serde_json::Value| -> Vec<String> {
        r["layers"].as_array().unwrap().iter().map(|l| l["name"].as_str().unwrap().to_string()).collect()
    };
    assert!(!names(&c).is_empty() && names(&c) == names(&rust), "{c} {rust}");
    let sum: u64 = rust["layers"].as_array().unwrap().iter().map(|l| l["instructions"].as_u64().unwrap()).sum();
    let total = rust["instructions_per_inference"].as_u64().unwrap();
    assert!(sum > total / 2 && sum <= total, "layers {sum} of {total}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The functions of a generated crate's assembly (`cargo rustc --emit asm`) whose name contains `kernels` and one of
/// `names`: (name, its lines).
fn asm_functions(asm: &str, names: &[&str]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = vec![];
    let mut current: Option<usize> = None;
    for line in asm.lines() {
        if let Some(label) = line.strip_suffix(':').filter(|l| l.starts_with("_ZN") && l.contains("7kernels")) {
            current = names.iter().find(|n| label.contains(&format!("{}{n}17h", n.len()))).map(|n| {
                out.push((n.to_string(), vec![]));
                out.len() - 1
            });
            continue;
        }
        if line.starts_with(".Lfunc_end") || line.trim_start().starts_with(".fnend") {
            current = None;
        }
        if let Some(i) = current {
            out[i].1.push(line.to_string());
        }
    }
    out
}

#[test]
fn the_kernels_inner_loops_have_no_panic_path_on_any_target() {
    let test = "the_kernels_inner_loops_have_no_panic_path_on_any_target";
    if !lint_tools(test) {
        return;
    }
    let root = temp("no-panic");
    std::fs::create_dir_all(&root).unwrap();
    let example = repo().join("examples/digits");
    let variants = repo().join("tests/models/conv_variants.onnx");
    let cases = [
        (example.join("model.onnx"), example.join("calib_x.npy"), 0.0625, "8"),
        (variants.clone(), random_calib(&variants, &root), 1.0, "2"),
    ];
    // The functions holding the per-element loops: the multiply-accumulates of column convolutions, dense layers,
    // depthwise 3x3 rows (the DSP's loop, else one row at a time) and other depthwise windows; the depthwise planes'
    // gather and their requantization.
    let hot = ["dot2x2", "dot1x4", "rows3x3", "row3x3", "row_by_tap", "plane_channel", "row_with"];
    let mut seen = std::collections::BTreeSet::new();
    for (i, (model, calib, scale, bits)) in cases.iter().enumerate() {
        let dir = root.join(format!("case{i}"));
        compile(model, calib, *scale, &["--bits", bits], &dir);
        for (triple, features) in [
            ("thumbv7em-none-eabihf", "dsp"),
            ("thumbv7m-none-eabi", "armv7m"),
            ("thumbv6m-none-eabi", ""),
            ("riscv32imac-unknown-none-elf", ""),
            ("thumbv8m.main-none-eabihf", "mve"),
        ] {
            if let Err(e) = ompqc::run::rust::check_rust_target(triple, triple) {
                eprintln!("{test}: {triple} skipped: {}", e.message);
                continue;
            }
            let target_dir = root.join("target");
            let mut args = vec!["rustc", "--quiet", "--release", "--target", triple];
            if !features.is_empty() {
                args.extend(["--features", features]);
            }
            args.extend(["--", "--emit", "asm", "-C", "opt-level=2"]);
            if features == "mve" {
                // The assembler takes Helium's instructions for this core only.
                args.extend(["-C", "target-cpu=cortex-m55"]);
            }
            let out = cargo(&args, &dir.join("rust"), &target_dir);
            check(&out, &format!("cargo rustc --emit asm for {triple}"));
            let deps = target_dir.join(triple).join("release/deps");
            let asm_file = std::fs::read_dir(&deps)
                .unwrap()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.extension().is_some_and(|x| x == "s"))
                .expect("an assembly file");
            let asm = std::fs::read_to_string(&asm_file).unwrap();
            for (name, lines) in asm_functions(&asm, &hot) {
                let panics: Vec<&String> = lines
                    .iter()
                    .filter(|l| l.contains("panic") || l.contains("slice_index") || l.contains("unwrap_failed"))
                    .collect();
                assert!(panics.is_empty(), "{triple}: {name} has panic paths: {panics:?}");
                seen.insert(name);
            }
            let _ = std::fs::remove_file(&asm_file);
        }
    }
    if seen.is_empty() {
        eprintln!("{test}: skipped: no Rust target installed");
        return;
    }
    let expected = ["dot1x4", "dot2x2", "plane_channel", "row3x3", "row_by_tap", "row_with", "rows3x3"];
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), expected);
    let _ = std::fs::remove_dir_all(&root);
}

/// Compiles op-coverage model `name` at 8 bits and runs it in C under the sanitizers and in Rust on the host:
/// bit-exact with the interpreter.
fn bit_exact_on_the_host(name: &str) {
    let root = temp(name);
    std::fs::create_dir_all(&root).unwrap();
    let file = repo().join("tests/models").join(format!("{name}.onnx"));
    let calib = random_calib(&file, &root);
    let dir = root.join("w8");
    compile(&file, &calib, 1.0, &["--bits", "8"], &dir);
    for lang in ["c", "rust"] {
        let out = ompqc()
            .arg("run")
            .arg(&dir)
            .args(["--lang", lang, "--json", "--input-scale", "1", "--inputs"])
            .arg(&calib)
            .output()
            .unwrap();
        check(&out, &format!("{name}: run --lang {lang}"));
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!((r["bit_exact"].as_bool(), r["inputs"].as_u64()), (Some(true), Some(8)), "{name}: {lang}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// The activations that run as tables (elu, selu, celu, softplus, softsign, gelu, mish, thresholded relu, PRelu,
/// neg, abs), a global max pool and a Sum.
#[test]
fn table_activations_are_bit_exact_in_c_and_rust_on_the_host() {
    bit_exact_on_the_host("more_activations");
}

/// ONNX's math functions, Swish, Shrink and Pow (tables); resampling: nearest, linear, and antialiased cubic; Div of
/// two activations.
#[test]
fn math_functions_and_resampling_are_bit_exact_in_c_and_rust_on_the_host() {
    bit_exact_on_the_host("math_functions");
    bit_exact_on_the_host("resampling");
    bit_exact_on_the_host("upsample");
    bit_exact_on_the_host("pad_modes");
    bit_exact_on_the_host("more_arithmetic");
}

/// ConvTranspose (a spread then a convolution), PRelu per channel and Sub of two activations.
#[test]
fn transposed_convolutions_are_bit_exact_in_c_and_rust_on_the_host() {
    bit_exact_on_the_host("transposed_conv");
}

/// LogSoftmax over a tensor's channels and over a classifier's outputs; Split, Slice, Transpose and reductions.
#[test]
fn log_softmax_slices_and_transposes_are_bit_exact_in_c_and_rust_on_the_host() {
    bit_exact_on_the_host("log_softmax");
    bit_exact_on_the_host("slices");
    bit_exact_on_the_host("transposes");
    bit_exact_on_the_host("reductions");
}

/// InstanceNormalization and LayerNormalization (integer statistics and square root).
#[test]
fn normalizations_are_bit_exact_in_c_and_rust_on_the_host() {
    bit_exact_on_the_host("normalizations");
}
