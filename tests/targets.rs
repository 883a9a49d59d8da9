//! Targets: firmware under QEMU, cross-target size reports, the default flash budget and clean errors. Firmware: every emulated target runs the generated C bit-exact with
//! the interpreter (the bundled example always; MLPerf Tiny ResNet-8 and DS-CNN at 8 bits and at an `ompq` plan at
//! 50% of the int8 weight bytes when ../shared/eval is present), and `report` agrees with binutils' `size`.
//! The toolchains and QEMU come from scripts/test.sh; without them these tests print why they skip.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{check, compile_cli, eval_dir, input_map, meta, ompqc, random_calib, repo};
use ompqc::target::Target;

/// Every bundled target with an emulator.
fn emulated() -> Vec<Target> {
    Target::built_in().into_iter().filter(|t| t.emulator.is_some()).collect()
}

/// True when every emulated target's toolchain and QEMU are installed; otherwise prints why the caller skips.
fn tools_present(test: &str) -> bool {
    let missing: Vec<String> =
        emulated().iter().filter_map(|t| ompqc::run::firmware::check_runnable(t).err()).map(|e| e.message).collect();
    if !missing.is_empty() {
        eprintln!("{test}: skipped: {} (scripts/test.sh installs them)", missing.join("; "));
    }
    missing.is_empty()
}

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ompqc-fw-test-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

/// Compiles `model` for cortex-m4 into `dir` with extra arguments (widths or a search).
fn compile(model: &Path, calib: &Path, scale: f32, args: &[&str], dir: &Path) {
    compile_cli(model, calib, scale, &[&["--target", "cortex-m4"], args].concat(), dir);
}

/// Compiles the bundled example for cortex-m4 at 62.5% of its 8-bit weight bytes into `dir`.
fn compile_example(dir: &Path) {
    let example = repo().join("examples/digits");
    compile(&example.join("model.onnx"), &example.join("calib_x.npy"), 0.0625, &["--flash-budget", "62.5%"], dir);
}

/// `ompqc run DIR --target T --limit N --input-scale S --inputs X` with extra arguments.
fn run(dir: &Path, target: &str, inputs: &Path, scale: f32, limit: usize, extra: &[&str]) -> Output {
    ompqc()
        .arg("run")
        .arg(dir)
        .args(["--target", target, "--limit", &limit.to_string(), "--input-scale", &scale.to_string()])
        .arg("--inputs")
        .arg(inputs)
        .args(extra)
        .output()
        .unwrap()
}

/// Runs `dir` on `target` with up to `limit` inputs; returns the JSON result after checking bit-exactness.
fn run_bit_exact(
    dir: &Path,
    target: &str,
    inputs: &Path,
    scale: f32,
    limit: usize,
    extra: &[&str],
) -> serde_json::Value {
    let out = run(dir, target, inputs, scale, limit, &[&["--json"], extra].concat());
    check(&out, &format!("run {} on {target}", dir.display()));
    let r = json(&out);
    assert_eq!(r["target"], target);
    assert_eq!(r["inputs"], limit as u64, "{target}");
    assert_eq!(r["mismatched_bytes"], 0, "{target}: {r}");
    assert_eq!(r["bit_exact"], true, "{target}");
    let (instructions, macs) = (r["instructions_per_inference"].as_u64().unwrap(), r["macs"].as_u64().unwrap());
    // No instruction does more than 16 multiply-accumulates (Helium's VMLADAV on int8): fewer is a counting error.
    assert!(instructions * 16 > macs && macs > 0, "{target}: {instructions} instructions for {macs} MACs");
    // The painted stack: deeper than the harness's 64-byte margin, within the bound of the C's call graph.
    let used = r["stack_used"].as_u64().unwrap();
    assert!(used > 64, "{target}: {r}");
    if r["lang"] == "c" {
        assert!(used <= r["stack_bytes"].as_u64().unwrap().max(64), "{target}: {r}");
    }
    // The cycle estimate, on the cores with a timing table: at least a cycle per instruction, and under three
    // (the worst of the table's entries, the divides and long multiplies, are rare in the kernels); the time at
    // the board's clock follows from it.
    let timed = ["cortex-m3", "cortex-m4"].contains(&target);
    assert_eq!(r["cycles_estimate"].is_u64(), timed, "{target}: {r}");
    if let (Some(cycles), Some(hz)) = (r["cycles_estimate"].as_u64(), r["clock_hz"].as_u64()) {
        assert!(cycles > instructions && cycles < 3 * instructions, "{target}: {cycles} cycles, {instructions}");
        let ms = r["ms_at_clock"].as_f64().unwrap();
        assert!((ms - cycles as f64 * 1e3 / hz as f64).abs() < 1e-9, "{target}: {ms} ms");
    }
    r
}

#[test]
fn example_is_bit_exact_on_every_emulated_target_with_a_layer_profile() {
    if !tools_present("example_is_bit_exact_on_every_emulated_target_with_a_layer_profile") {
        return;
    }
    let example = repo().join("examples/digits");
    let dir = temp("example");
    compile_example(&dir);
    let mut counts = vec![];
    for target in emulated() {
        let r = run_bit_exact(&dir, &target.name, &example.join("test_x.npy"), 0.0625, 24, &[]);
        counts.push((target.name.clone(), r["instructions_per_inference"].as_u64().unwrap()));
    }
    // The Armv7-M/Armv8-M cores run the same Thumb-2 code closely; Armv6-M (M0+) has fewer, narrower instructions.
    let of = |n: &str| counts.iter().find(|(t, _)| t == n).unwrap().1;
    assert!(of("cortex-m0plus") > of("cortex-m3"), "{counts:?}");

    // The profile: one entry per scheduled layer, each with instructions (the example's residual add runs inside
    // the convolution before it and is counted there); together they are the inference less the call overhead
    // around them.
    let r = run_bit_exact(&dir, "cortex-m4", &example.join("test_x.npy"), 0.0625, 2, &["--profile"]);
    let layers = r["layers"].as_array().unwrap();
    let compiled: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let scheduled = compiled["layers"].as_array().unwrap().iter().filter(|l| l["op"] != "Reshape").count();
    let fused: Vec<&str> =
        layers.iter().filter(|l| l["op"] == "Conv+Add").map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(fused, ["block.pointwise"], "{layers:?}");
    assert_eq!(layers.len() + fused.len(), scheduled, "{layers:?}");
    // The profile follows the layers report.json marks as profiled, and names the kernel each ran.
    let profiled: Vec<(&str, &str)> = compiled["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["profiled"] == true)
        .map(|l| (l["name"].as_str().unwrap(), l["kernel"].as_str().unwrap()))
        .collect();
    let ran: Vec<(&str, &str)> =
        layers.iter().map(|l| (l["name"].as_str().unwrap(), l["kernel"].as_str().unwrap())).collect();
    assert_eq!(ran, profiled);
    assert!(ran.contains(&("block.pointwise", "conv-columns w4 + add")), "{ran:?}");
    let sum: u64 = layers.iter().map(|l| l["instructions"].as_u64().unwrap()).sum();
    let whole = r["instructions_range"][1].as_u64().unwrap();
    assert!(layers.iter().all(|l| l["instructions"].as_u64().unwrap() > 0));
    assert!(sum <= whole && sum * 100 >= whole * 99, "layers {sum} of {whole}");
    // Each layer's cycles too (cortex-m4 has a timing table): together about the estimate of the whole inference
    // (the first input's; the mean over two differs by the inputs' few data-dependent branches).
    let cycles: u64 = layers.iter().map(|l| l["cycles"].as_u64().unwrap()).sum();
    let estimate = r["cycles_estimate"].as_u64().unwrap();
    assert!(layers.iter().all(|l| l["cycles"].as_u64().unwrap() >= l["instructions"].as_u64().unwrap()));
    assert!(cycles * 100 <= estimate * 101 && cycles * 100 >= estimate * 98, "layers {cycles} of {estimate}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_kernel_path_is_bit_exact_on_every_emulated_target() {
    if !tools_present("every_kernel_path_is_bit_exact_on_every_emulated_target") {
        return;
    }
    // tests/models/kernel_paths.onnx runs the remainder of every vector and word loop (Helium's predicated tails,
    // the DSP's scalar tails, odd channels and pixels) in each kernel variant; residual_bands the adds fused into
    // convolutions, band by band; the other op models cover grouped, dilated and 1-D convolutions, pools,
    // resampling and the rest. The inner layers at 8, 4 and 2 bits (first and last stay at 8).
    let root = temp("paths");
    std::fs::create_dir_all(&root).unwrap();
    let all: &[&str] = &["8", "4", "2"];
    let four: &[&str] = &["4"];
    let models = [
        ("kernel_paths", all),
        ("residual_bands", all),
        ("conv_variants", four),
        ("pools", four),
        ("pad_se_hardswish", four),
        ("pad_pool", four),
        ("resampling", four),
        ("transposed_conv", four),
        ("log_softmax", four),
        ("slices", four),
        ("transposes", four),
        ("reductions", four),
        ("normalizations", four),
    ];
    for (model, widths) in models {
        let file = repo().join(format!("tests/models/{model}.onnx"));
        let calib = random_calib(&file, &root);
        for bits in widths {
            let dir = root.join(format!("{model}-{bits}"));
            compile(&file, &calib, 1.0, &["--bits", bits], &dir);
            for target in emulated() {
                run_bit_exact(&dir, &target.name, &calib, 1.0, 8, &[]);
            }
        }
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// ResNet-8 or DS-CNN at 8 bits and at the ompq plan for 50% of the int8 weight bytes, 20 test inputs on every
/// emulated target.
/// Patch-based execution under a RAM budget (tests/models/patch_stage.onnx: padded, strided, dilated, depthwise and
/// grouped convolutions, explicit padding, tables, a residual add reading its skip at an offset and a multiply, run
/// tile by tile, the depthwise convolutions over their inputs): bit-exact on every emulated target (every kernel
/// variant, Helium's in-place depthwise copy included), the arena within the budget, the stage profiled as one layer.
#[test]
fn a_stage_run_tile_by_tile_is_bit_exact_on_every_emulated_target() {
    if !tools_present("a_stage_run_tile_by_tile_is_bit_exact_on_every_emulated_target") {
        return;
    }
    let model = repo().join("tests/models/patch_stage.onnx");
    let root = temp("patch-stage");
    std::fs::create_dir_all(&root).unwrap();
    let (calib, dir) = (random_calib(&model, &root), root.join("compiled"));
    compile(&model, &calib, 1.0, &["--bits", "8", "--ram-budget", "6000"], &dir);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let stage = &report["tiled_stage"];
    assert!(stage["layers"].as_u64().unwrap() >= 4, "{report}");
    assert!(report["arena_bytes"].as_u64().unwrap() <= 6000);
    assert!(stage["whole_tensor_arena_bytes"].as_u64().unwrap() > 6000);
    for target in emulated() {
        run_bit_exact(&dir, &target.name, &calib, 1.0, 3, &[]);
    }
    let r = run_bit_exact(&dir, "cortex-m4", &calib, 1.0, 1, &["--profile"]);
    let profiled: Vec<&str> = r["layers"].as_array().unwrap().iter().map(|l| l["kernel"].as_str().unwrap()).collect();
    let tiled = profiled.iter().filter(|k| k.ends_with("(tiles)")).count();
    assert_eq!(tiled, 1, "the stage is one profiled layer: {profiled:?}");
    let _ = std::fs::remove_dir_all(&root);
}

fn mlperf_bit_exact(folder: &str) {
    let test = format!("mlperf_bit_exact({folder})");
    let Some(eval) = eval_dir(&test) else { return };
    if !tools_present(&test) {
        return;
    }
    let d = eval.join(folder);
    let (scale, _) = input_map(&meta(&d));
    for (tag, args) in [("w8", vec!["--bits", "8"]), ("ompq50", vec!["--allocator", "ompq", "--flash-budget", "50%"])] {
        let dir = temp(&format!("{folder}-{tag}"));
        compile(&d.join("model.onnx"), &d.join("calib_x.npy"), scale, &args, &dir);
        let compiled: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
        if tag == "ompq50" {
            let bits: Vec<u64> =
                compiled["layers"].as_array().unwrap().iter().filter_map(|l| l["bits"].as_u64()).collect();
            assert!(bits.iter().any(|&b| b < 8), "{folder}: the 50% plan must mix widths: {bits:?}");
        }
        for target in emulated() {
            let r = run_bit_exact(&dir, &target.name, &d.join("test_x.npy"), scale, 20, &[]);
            eprintln!(
                "{folder} {tag} {}: {} instructions per inference, {:.2} per MAC",
                target.name, r["instructions_per_inference"], r["instructions_per_mac"]
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn resnet8_is_bit_exact_on_every_emulated_target() {
    mlperf_bit_exact("mlperf_tiny_resnet8_cifar10");
}

#[test]
fn dscnn_is_bit_exact_on_every_emulated_target() {
    mlperf_bit_exact("mlperf_tiny_dscnn_kws");
}

/// binutils' `size` for the toolchain whose compiler is `cc` (arm-none-eabi-gcc -> arm-none-eabi-size).
fn size_tool(cc: &str) -> String {
    format!("{}size", cc.strip_suffix("gcc").unwrap_or(cc))
}

/// (text, data, bss) as binutils' `size` prints them (Berkeley format), summed over `files`.
fn binutils_size(tool: &str, files: &[PathBuf]) -> (u64, u64, u64) {
    let out = std::process::Command::new(tool).args(files).output().unwrap();
    check(&out, tool);
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().skip(1).fold((0, 0, 0), |acc, line| {
        let v: Vec<u64> = line.split_whitespace().take(3).map(|f| f.parse().unwrap()).collect();
        (acc.0 + v[0], acc.1 + v[1], acc.2 + v[2])
    })
}

/// binutils' `size` summed over the object members of the archive `lib` (it also complains of the members that are
/// not objects, as an rlib's metadata).
fn binutils_size_members(tool: &str, lib: &Path) -> (u64, u64, u64) {
    let out = std::process::Command::new(tool).arg(lib).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().filter(|l| l.contains(".o (ex ")).fold((0, 0, 0), |acc, line| {
        let v: Vec<u64> = line.split_whitespace().take(3).map(|f| f.parse().unwrap()).collect();
        (acc.0 + v[0], acc.1 + v[1], acc.2 + v[2])
    })
}

/// `report --targets all`: every figure equals what binutils' `size` prints for the same objects and image.
fn report_matches_size(dir: &Path, rust: bool) {
    // From the directory's parent, by a relative path (cargo builds the Rust elsewhere).
    let (parent, name) = (dir.parent().unwrap(), dir.file_name().unwrap());
    let out =
        ompqc().current_dir(parent).arg("report").arg(name).args(["--targets", "all", "--json"]).output().unwrap();
    check(&out, "report");
    let r = json(&out);
    let rows = r["targets"].as_array().unwrap();
    assert_eq!(rows.len(), Target::built_in().len());
    for row in rows {
        let name = row["name"].as_str().unwrap();
        assert!(row.get("error").is_none(), "{name}: {row}");
        let target = Target::load(name).unwrap();
        let build = parent.join(row["build_dir"].as_str().unwrap());
        let objects: Vec<PathBuf> = ["model.o", "model_kernels.o", "model_weights.o"].map(|f| build.join(f)).to_vec();
        let tool = size_tool(&target.toolchain.cc);
        let get = |k: &str| row[k].as_u64().unwrap();
        let (text, data, bss) = binutils_size(&tool, &objects);
        assert_eq!((get("text") + get("rodata"), get("data"), get("bss")), (text, data, bss), "{name} objects");
        assert!(get("text") > 0 && get("rodata") > 0, "{name}");
        assert_eq!(get("flash_bytes"), text + data, "{name}");
        // The stack: the deepest call chain from model_run, a few hundred bytes for the example.
        assert!((100..4096).contains(&get("stack_bytes")), "{name}: {row}");
        assert_eq!(get("ram_bytes"), data + bss + get("arena") + get("stack_bytes"), "{name}");
        let fits = get("flash_bytes") <= get("flash_capacity") && get("ram_bytes") <= get("ram_capacity");
        assert_eq!(row["fits"], fits, "{name}");
        assert_eq!((get("flash_capacity"), get("ram_capacity")), (target.flash_bytes as u64, target.ram_bytes as u64));
        if target.emulator.is_some() {
            let (text, data, bss) = binutils_size(&tool, &[build.join("firmware.elf")]);
            let image = &row["image"];
            let img = |k: &str| image[k].as_u64().unwrap();
            assert_eq!((img("text") + img("rodata"), img("data"), img("bss")), (text, data, bss), "{name} image");
            // The image holds the model, and its bss the arena.
            assert!(img("flash_bytes") > get("flash_bytes") && img("bss") >= get("arena"), "{name}: {image}");
        }
        // The generated crate's own objects, where the directory has one and the target a Rust triple (or why not:
        // its standard library is missing).
        let triple = target.toolchain.rust_target.as_deref().filter(|_| rust);
        let installed = triple.is_some_and(|t| ompqc::run::rust::check_rust_target(name, t).is_ok());
        assert_eq!(row.get("rust_error").is_some(), triple.is_some() && !installed, "{name}: {row}");
        assert_eq!(row.get("rust").is_some(), installed, "{name}: {row}");
        if installed {
            let sizes = &row["rust"];
            let lib = parent.join(sizes["library"].as_str().unwrap());
            let (text, data, bss) = binutils_size_members(&tool, &lib);
            let r = |k: &str| sizes[k].as_u64().unwrap();
            assert_eq!((r("text") + r("rodata"), r("data"), r("bss")), (text, data, bss), "{name} Rust");
            assert!(r("text") > 0 && r("flash_bytes") == text + data, "{name}: {sizes}");
        }
        let largest = row["largest_symbols"].as_array().unwrap();
        assert!(!largest.is_empty() && largest.windows(2).all(|w| w[0]["size"].as_u64() >= w[1]["size"].as_u64()));
    }
}

#[test]
fn report_across_targets_equals_binutils_size() {
    if !tools_present("report_across_targets_equals_binutils_size") {
        return;
    }
    let example = repo().join("examples/digits");
    let dir = temp("report-example");
    let args = ["--bits", "4", "--emit", "c,rust"];
    compile(&example.join("model.onnx"), &example.join("calib_x.npy"), 0.0625, &args, &dir);
    report_matches_size(&dir, true);
    let _ = std::fs::remove_dir_all(&dir);
    let Some(eval) = eval_dir("report_across_targets_equals_binutils_size (ResNet-8, DS-CNN)") else { return };
    for folder in ["mlperf_tiny_resnet8_cifar10", "mlperf_tiny_dscnn_kws"] {
        let d = eval.join(folder);
        let (scale, _) = input_map(&meta(&d));
        for (tag, args) in
            [("w8", vec!["--bits", "8"]), ("ompq50", vec!["--allocator", "ompq", "--flash-budget", "50%"])]
        {
            let dir = temp(&format!("report-{folder}-{tag}"));
            compile(&d.join("model.onnx"), &d.join("calib_x.npy"), scale, &args, &dir);
            report_matches_size(&dir, false);
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// A copy of the bundled cortex-m4 file with `edit` applied, written to `path`.
fn m4_variant(path: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("targets/cortex-m4.toml")).unwrap();
    std::fs::write(path, edit(text)).unwrap();
    path.to_path_buf()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn default_budget_is_the_target_flash_less_margin_code_and_constants() {
    let example = repo().join("examples/digits");
    let dir = temp("budget");
    std::fs::create_dir_all(&dir).unwrap();
    let tiny = m4_variant(&dir.join("tiny.toml"), |t| {
        t.replace("flash_bytes = 524288", "flash_bytes = 40000")
            .replace("code_reserve_bytes = 24576", "code_reserve_bytes = 34000")
    });
    let compiled = dir.join("w8");
    compile(&example.join("model.onnx"), &example.join("calib_x.npy"), 0.0625, &["--bits", "8"], &compiled);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(compiled.join("report.json")).unwrap()).unwrap();
    let constants = report["constant_bytes"].as_u64().unwrap() - report["weight_bytes"].as_u64().unwrap();
    let int8 = report["weight_bytes"].as_u64().unwrap();
    let search = |target: &Path| {
        ompqc()
            .arg("search")
            .arg(example.join("model.onnx"))
            .arg("--calib")
            .arg(example.join("calib_x.npy"))
            .args(["--input-scale", "0.0625", "--json", "--target"])
            .arg(target)
            .output()
            .unwrap()
    };
    let out = search(&tiny);
    check(&out, "search on the small target");
    let r = json(&out);
    // 90% of 40,000 bytes, less the 34,000-byte code reserve and the constants.
    assert_eq!(r["budget_bytes"].as_u64().unwrap(), 36_000 - 34_000 - constants);
    assert!(r["budget_bytes"].as_u64().unwrap() < int8);
    // A big device: the budget is the whole 8-bit model.
    let out = search(Path::new("cortex-m4"));
    check(&out, "search on cortex-m4");
    assert_eq!(json(&out)["budget_bytes"].as_u64().unwrap(), int8);
    // No room at all: a clean error naming the target and the way out.
    let none = m4_variant(&dir.join("none.toml"), |t| t.replace("flash_bytes = 524288", "flash_bytes = 20000"));
    let out = search(&none);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cortex-m4") && stderr(&out).contains("--flash-budget"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_targets_missing_tools_faults_and_timeouts_are_clean_errors() {
    let example = repo().join("examples/digits");
    let dir = temp("errors");
    std::fs::create_dir_all(&dir).unwrap();
    let compiled = dir.join("out");
    compile(&example.join("model.onnx"), &example.join("calib_x.npy"), 0.0625, &["--bits", "8"], &compiled);
    let run = |target: &str, extra: &[&str]| {
        ompqc().arg("run").arg(&compiled).args(["--target", target, "--limit", "2"]).args(extra).output().unwrap()
    };
    let report = |targets: &str| ompqc().arg("report").arg(&compiled).args(["--targets", targets]).output().unwrap();
    let expect = |out: Output, code: i32, needles: &[&str]| {
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(needles.iter().all(|n| err.contains(n)), "{needles:?}: {err}");
    };

    expect(run("cortex-z9", &[]), 2, &["cortex-z9", "unknown target", "cortex-m4"]);
    expect(report("cortex-m4,cortex-z9"), 2, &["cortex-z9"]);
    let no_field = m4_variant(&dir.join("nomachine.toml"), |t| t.replace("machine = \"mps2-an386\"\n", ""));
    expect(run(no_field.to_str().unwrap(), &[]), 2, &["nomachine.toml", "machine"]);
    expect(run("host", &["--profile"]), 2, &["--profile"]);
    let no_emulator = m4_variant(&dir.join("noemu.toml"), |t| t[..t.find("[emulator]").unwrap()].to_string());
    expect(run(no_emulator.to_str().unwrap(), &[]), 2, &["no emulator"]);

    // A toolchain that is not installed: `run` refuses, `report` reports it beside the targets that build.
    let missing = m4_variant(&dir.join("missing.toml"), |t| {
        t.replace("name = \"cortex-m4\"", "name = \"missing-cc\"")
            .replace("cc = \"arm-none-eabi-gcc\"", "cc = \"ompqc-no-such-gcc\"")
    });
    let missing = missing.to_str().unwrap();
    expect(run(missing, &[]), 2, &["missing-cc", "ompqc-no-such-gcc", "not installed", "gcc-arm-none-eabi"]);
    expect(report(missing), 2, &["no target could be built", "ompqc-no-such-gcc"]);
    let out = ompqc()
        .arg("report")
        .arg(&compiled)
        .args(["--json", "--targets"])
        .arg(format!("host,{missing}"))
        .output()
        .unwrap();
    check(&out, "report with one missing toolchain");
    let rows = json(&out)["targets"].as_array().unwrap().clone();
    assert!(rows[0].get("error").is_none() && rows[0]["text"].as_u64().unwrap() > 0, "{rows:?}");
    assert!(rows[1]["error"].as_str().unwrap().contains("not installed") && rows[1].get("text").is_none());

    if tools_present("bad_targets_missing_tools_faults_and_timeouts_are_clean_errors (faults, timeouts)") {
        // Firmware linked for RAM the board does not have faults at start-up: an error, not a hang.
        let bad_ram = m4_variant(&dir.join("badram.toml"), |t| t.replace("ram = 0x20000000", "ram = 0x70000000"));
        expect(run(bad_ram.to_str().unwrap(), &[]), 1, &["firmware failed", "mps2-an386"]);
        expect(run("cortex-m4", &["--timeout", "0.001"]), 1, &["did not finish within"]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_in_the_targets_directory_adds_a_target() {
    let dir = temp("dropin");
    std::fs::create_dir_all(&dir).unwrap();
    m4_variant(&dir.join("my-board.toml"), |t| {
        t.replace("name = \"cortex-m4\"", "name = \"my-board\"").replace("ram_bytes = 131072", "ram_bytes = 65536")
    });
    let out = ompqc().args(["targets", "--json"]).env("OMPQC_TARGETS", &dir).output().unwrap();
    check(&out, "targets");
    let all = json(&out);
    let names: Vec<&str> = all.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), Target::built_in().len() + 1, "{names:?}");
    let mine = all.as_array().unwrap().iter().find(|t| t["name"] == "my-board").unwrap();
    assert_eq!(mine["ram_bytes"], 65536);
    assert_eq!(mine["emulator"]["machine"], "mps2-an386");
    assert_eq!(mine["toolchain"]["cc"], "arm-none-eabi-gcc");
    // The board's clock and the timing table of run's cycle estimate come along, and the listing says so.
    assert_eq!((mine["clock_hz"].as_u64(), mine["cycle_model"].as_str()), (Some(180_000_000), Some("cortex-m4")));
    let out = ompqc().arg("targets").env("OMPQC_TARGETS", &dir).output().unwrap();
    check(&out, "targets");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("mps2-an386; cycles estimated with the cortex-m4 timings, board clock 180 MHz"), "{text}");
    // A timing table the plugin does not have is a clean error naming it.
    let bad = temp("badtiming");
    std::fs::create_dir_all(&bad).unwrap();
    m4_variant(&bad.join("odd.toml"), |t| {
        t.replace("name = \"cortex-m4\"", "name = \"odd\"")
            .replace("cycle_model = \"cortex-m4\"", "cycle_model = \"m9\"")
    });
    let out = ompqc().arg("targets").env("OMPQC_TARGETS", &bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("odd.toml") && err.contains("cycle_model: no timing table for 'm9'"), "{err}");
    let _ = std::fs::remove_dir_all(&bad);
    let example = repo().join("examples/digits");
    let out = ompqc()
        .arg("search")
        .arg(example.join("model.onnx"))
        .arg("--calib")
        .arg(example.join("calib_x.npy"))
        .args(["--input-scale", "0.0625", "--target", "my-board", "--json"])
        .env("OMPQC_TARGETS", &dir)
        .output()
        .unwrap();
    check(&out, "search --target my-board");
    assert_eq!(json(&out)["target"], "my-board");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kernel_variants_follow_the_target_features_as_each_compiler_sees_them() {
    use ompqc::emit::variants::{probe_source, variant, RULES};
    use std::io::Write;
    for target in Target::built_in() {
        if !ompqc::build::is_installed(&target.toolchain.cc) {
            eprintln!("{}: skipped: {} is not installed", target.name, target.toolchain.cc);
            continue;
        }
        let mut cc = std::process::Command::new(&target.toolchain.cc)
            .args(&target.toolchain.cflags)
            .args(["-E", "-P", "-x", "c", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        cc.stdin.take().unwrap().write_all(probe_source().as_bytes()).unwrap();
        let out = cc.wait_with_output().unwrap();
        assert!(out.status.success(), "{}: the preprocessor failed", target.name);
        let text = String::from_utf8(out.stdout).unwrap();
        let chosen: Vec<(&str, &str)> = text.lines().filter_map(|l| l.trim().split_once(' ')).collect();
        assert_eq!(chosen.len(), RULES.len(), "{}: {text}", target.name);
        for (rule, (kernel, v)) in RULES.iter().zip(chosen) {
            assert_eq!(kernel, rule.kernel);
            assert_eq!(v, variant(&target, kernel), "{}: {kernel} (features {:?})", target.name, target.features);
        }
    }
    // What the table means on the bundled boards.
    let of = |t: &str, k: &str| variant(&Target::load(t).unwrap(), k);
    assert_eq!((of("cortex-m55", "conv_columns"), of("cortex-m55", "depthwise3x3")), ("mve", "mve"));
    assert_eq!(of("cortex-m7", "depthwise3x3"), "dsp");
    assert_eq!(
        (of("cortex-m4", "conv_columns"), of("cortex-m4", "add"), of("cortex-m4", "pool")),
        ("dsp", "dsp", "portable")
    );
    assert_eq!((of("cortex-m55", "depthwise"), of("cortex-m55", "mul")), ("dsp", "dsp"));
    assert_eq!(of("rv32imac", "conv_columns"), "portable");
}

#[test]
fn a_store_past_the_output_trips_the_firmware_guards() {
    if !tools_present("a_store_past_the_output_trips_the_firmware_guards") {
        return;
    }
    // The harness follows the arena and the output with guard bytes and checks them after every inference: a
    // kernel storing a whole vector where only some lanes are the tensor's fails the run there.
    let example = repo().join("examples/digits");
    let dir = temp("guards");
    compile_example(&dir);
    let model_c = dir.join("c/model.c");
    let text = std::fs::read_to_string(&model_c).unwrap();
    let overrun = text.replacen("    (void)input;", "    output[MODEL_OUTPUT_SIZE] = 1;\n    (void)input;", 1);
    assert_ne!(overrun, text);
    std::fs::write(&model_c, overrun).unwrap();
    let out = run(&dir, "cortex-m4", &example.join("test_x.npy"), 0.0625, 2, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("wrote past the end of its arena or output"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The generated C of every bundled model, as each installed compiler builds it for its target (host gcc: the
/// portable kernels; cortex-m4: DSP; cortex-m55: Helium; rv32imac), passes GCC's static analyzer (-fanalyzer, with
/// -Werror) without a finding; on the host it also runs bit-exact under AddressSanitizer and UBSan.
#[test]
fn generated_c_passes_the_static_analyzer_for_every_kernel_variant() {
    let root = temp("analyzer");
    std::fs::create_dir_all(&root).unwrap();
    let example = repo().join("examples/digits");
    let mut dirs = vec![];
    let dir = root.join("example");
    compile_example(&dir);
    dirs.push((dir, example.join("calib_x.npy"), 0.0625));
    let models = [
        "activations",
        "batchnorm_affine",
        "conv1d",
        "conv_variants",
        "pad_se_hardswish",
        "pools",
        "pad_pool",
        "resampling",
    ];
    let widths = |m: &str| if m == "kernel_paths" || m == "residual_bands" { vec!["8", "4", "2"] } else { vec!["4"] };
    for model in models.into_iter().chain(["kernel_paths", "residual_bands"]) {
        let file = repo().join(format!("tests/models/{model}.onnx"));
        let calib = random_calib(&file, &root);
        for bits in widths(model) {
            let dir = root.join(format!("{model}-{bits}"));
            compile(&file, &calib, 1.0, &["--bits", bits], &dir);
            dirs.push((dir, calib.clone(), 1.0));
        }
    }
    let targets: Vec<Target> = ["host", "cortex-m4", "cortex-m55", "rv32imac"]
        .iter()
        .map(|t| Target::load(t).unwrap())
        .filter(|t| {
            let installed = ompqc::build::is_installed(&t.toolchain.cc);
            if !installed {
                eprintln!(
                    "{}: not analysed: {} is not installed (scripts/test.sh installs it)",
                    t.name, t.toolchain.cc
                );
            }
            installed
        })
        .collect();
    for (dir, calib, scale) in &dirs {
        let c_dir = dir.join("c");
        let mut sources: Vec<PathBuf> = std::fs::read_dir(&c_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "c") && !p.to_string_lossy().ends_with("_weights.c"))
            .collect();
        sources.sort();
        for target in &targets {
            let out = root.join("objects").join(&target.name);
            let analysed = ompqc::build::compile_objects(target, &sources, &c_dir, &["-O2", "-fanalyzer"], &out);
            assert!(analysed.is_ok(), "{} for {}: {}", dir.display(), target.name, analysed.unwrap_err().message);
        }
        let out = run(dir, "host", calib, *scale, 8, &["--json"]);
        check(&out, &format!("run {} on the host", dir.display()));
        assert_eq!((json(&out)["bit_exact"].as_bool(), json(&out)["inputs"].as_u64()), (Some(true), Some(8)));
    }
    let _ = std::fs::remove_dir_all(&root);
}
