//! Generated code: C that is warning-free C99, clean under AddressSanitizer and UBSan, and equal to the reference
//! interpreter on every test input, byte for byte, for every model with test data at 8, 4 and 2 bits and at an
//! `ompq` plan at 50% of the 8-bit weights; the generated Rust equal to it at 8 bits and at the `ompq` plan.
//! Also: the arena against the peak of live tensors, the weight bytes in the object file, byte-identical outputs
//! across runs, and clean errors.

mod common;

use std::path::{Path, PathBuf};

use common::{eval_dir, input_map, meta, ompqc, repo};
use ompqc::compile::{compile, Compilation, Origin};
use ompqc::data::{load_samples, Samples};
use ompqc::emit::{sha256_hex, write_output_dir, Lang, Provenance};
use ompqc::import::{self, ImportOptions};
use ompqc::interp;
use ompqc::ir::Graph;
use ompqc::observe::{observe, Observations, RangeMethod};
use ompqc::plan::{Kernel, Owner};
use ompqc::quantize::{QuantOptions, WeightBits};
use ompqc::run::run_host;
use ompqc::search::{search, Allocator, Budget, SearchOptions};
use ompqc::target::Target;

struct Model {
    file: PathBuf,
    graph: Graph,
    obs: Observations,
    calib: Samples,
    test: Samples,
}

fn load(file: &Path, test: Samples) -> Model {
    let dir = file.parent().unwrap();
    let graph = import::load(file, &ImportOptions::default()).unwrap();
    let (scale, offset) = input_map(&meta(dir));
    let calib = load_samples(&dir.join("calib_x.npy"), graph.input_shape(), scale, offset).unwrap();
    let obs = observe(&graph, &calib, RangeMethod::MinMax).unwrap();
    Model { file: file.to_path_buf(), graph, obs, calib, test }
}

fn test_set(dir: &Path, graph_shape: &[usize]) -> Samples {
    let (scale, offset) = input_map(&meta(dir));
    load_samples(&dir.join("test_x.npy"), graph_shape, scale, offset).unwrap()
}

fn compile_with(m: &Model, bits: WeightBits, name: &str) -> Compilation {
    compile_langs(m, bits, name, &[Lang::C])
}

fn compile_langs(m: &Model, bits: WeightBits, name: &str, langs: &[Lang]) -> Compilation {
    let provenance = Provenance {
        target: "host".into(),
        model_file: m.file.file_name().unwrap().to_string_lossy().into(),
        model_hash: sha256_hex(&std::fs::read(&m.file).unwrap()),
    };
    let options = QuantOptions { bits, ..QuantOptions::default() };
    compile(&m.graph, &m.obs, &options, name, &provenance, &Origin::default(), langs).unwrap()
}

fn temp(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("ompqc-emit-{}-{tag}", std::process::id()))
}

/// Compiles at 8, 4 and 2 bits and at an ompq plan at 50%, runs every test input under the sanitizers and
/// compares with the interpreter; at 8 bits and at the ompq plan the generated Rust too. Returns the 8-bit
/// compilation.
fn bit_exact_everywhere(label: &str, m: &Model) -> Compilation {
    let target = Target::load("host").unwrap();
    // With the first and last layers at 8 bits, 50% is out of reach for models whose first layer is most of the
    // weights (the digits MLP): search those without pins.
    let ompq_at = |options: &SearchOptions| {
        search(&m.graph, &m.obs, &m.calib, &target, Some(Budget::Percent(50.0)), Allocator::Ompq, options)
    };
    let unpinned = SearchOptions { pins: "none".parse().unwrap(), ..SearchOptions::default() };
    let ompq = ompq_at(&SearchOptions::default()).or_else(|_| ompq_at(&unpinned)).unwrap().plan().weight_bits();
    let mut eight = None;
    for (tag, bits) in [
        ("w8", WeightBits::uniform(8)),
        ("w4", WeightBits::uniform(4)),
        ("w2", WeightBits::uniform(2)),
        ("ompq50", ompq),
    ] {
        let langs: &[Lang] = if tag == "w8" || tag == "ompq50" { &[Lang::C, Lang::Rust] } else { &[Lang::C] };
        let compiled = compile_langs(m, bits, "net", langs);
        let dir = temp(&format!("{label}-{tag}"));
        write_output_dir(&dir, &compiled.files).unwrap();
        let input = interp::quantize_input(&compiled.qgraph, &m.test).unwrap();
        let r = run_host(&dir, "net", &compiled.qgraph, &input, m.test.n, Lang::C, true).unwrap();
        if langs.contains(&Lang::Rust) {
            let rust = run_host(&dir, "net", &compiled.qgraph, &input, m.test.n, Lang::Rust, false).unwrap();
            eprintln!("{label} {tag} Rust: {} inputs, {} mismatched bytes", rust.inputs, rust.mismatched_bytes);
            assert!(rust.bit_exact && rust.inputs == m.test.n, "{label} {tag} Rust: {:?}", rust.first_mismatch);
        }
        std::fs::remove_dir_all(&dir).unwrap();
        eprintln!(
            "{label} {tag}: {} inputs, {} mismatched bytes; weights {} B, arena {} B (peak live {} B, {})",
            r.inputs,
            r.mismatched_bytes,
            compiled.report.weight_bytes,
            compiled.plan.c.arena_bytes,
            compiled.plan.c.peak_live_bytes,
            compiled.plan.c.strategy
        );
        assert!(r.bit_exact && r.inputs == m.test.n, "{label} {tag}: first mismatch at {:?}", r.first_mismatch);
        if tag == "w8" {
            eight = Some(compiled);
        }
    }
    eight.unwrap()
}

fn eval_model(folder: &str) -> Option<Model> {
    let dir = eval_dir(folder)?.join(folder);
    let graph = import::load(&dir.join("model.onnx"), &ImportOptions::default()).unwrap();
    let test = test_set(&dir, graph.input_shape());
    Some(load(&dir.join("model.onnx"), test))
}

fn mlperf(folder: &str) -> Option<Compilation> {
    let m = eval_model(folder)?;
    let c = bit_exact_everywhere(folder, &m);
    let ratio = c.plan.c.arena_bytes as f64 / c.plan.c.peak_live_bytes as f64;
    eprintln!("{folder}: arena {} B, peak live {} B, ratio {ratio:.3}", c.plan.c.arena_bytes, c.plan.c.peak_live_bytes);
    assert!(
        ratio <= 1.10,
        "{folder}: arena {} is more than 1.10 x the peak of live tensors {}",
        c.plan.c.arena_bytes,
        c.plan.c.peak_live_bytes
    );
    Some(c)
}

#[test]
fn resnet8_c_is_bit_exact() {
    let Some(c) = mlperf("mlperf_tiny_resnet8_cifar10") else { return };
    // Its residual adds run inside their convolutions: no step holds a block's input and its second convolution's
    // input and output (16 x 32 x 32 each in the first block) at once. TFLite Micro's arena: 55,104 bytes.
    let scratch = c.plan.kernels.iter().map(|k| k.scratch.c()).max().unwrap();
    assert!(c.plan.c.arena_bytes <= 2 * 16 * 32 * 32 + scratch, "arena {} B", c.plan.c.arena_bytes);
}

#[test]
fn dscnn_c_is_bit_exact() {
    mlperf("mlperf_tiny_dscnn_kws");
}

#[test]
fn vww_c_is_bit_exact() {
    mlperf("mlperf_tiny_mobilenetv1_vww");
}

#[test]
fn fc_autoencoder_c_is_bit_exact() {
    let folder = "mlperf_tiny_fc_autoencoder_ad";
    let Some(dir) = eval_dir(folder).map(|d| d.join(folder)) else { return };
    let bytes = std::fs::read(dir.join("test_x.npy")).unwrap();
    let files = npyz::NpyFile::new(&bytes[..]).unwrap().into_vec::<f32>().unwrap();
    // The model sees 640-value windows every 128 values: every window of every test file.
    let mut data = Vec::new();
    for file in files.chunks(25600) {
        (0..196).for_each(|w| data.extend_from_slice(&file[w * 128..w * 128 + 640]));
    }
    let test = Samples { n: data.len() / 640, sample_shape: vec![1, 640], data };
    let m = load(&dir.join("model.onnx"), test);
    let c = bit_exact_everywhere(folder, &m);
    assert!(c.plan.c.arena_bytes as f64 <= 1.10 * c.plan.c.peak_live_bytes as f64);
}

#[test]
fn small_models_c_is_bit_exact() {
    for folder in ["mnist_lenet5", "digits_lenet_cnn", "digits_mlp", "digits_mobilenet_ds_residual"] {
        if let Some(m) = eval_model(folder) {
            bit_exact_everywhere(folder, &m);
        }
    }
}

/// The plan reserves the scratch of the kernel that runs: tests/models/pad_pool.onnx starts with a one-channel 3x3
/// convolution, which has one group yet runs on the depthwise 3x3 kernel (plan::kernels checks that first), so it
/// gets that kernel's padded int16 plane and band of sums in C (once it got the one-group kernel's columns, and the
/// plane overflowed them) and its int8 plane in Rust; the standalone pad after it runs in both languages.
#[test]
fn the_plan_reserves_the_scratch_of_the_kernel_that_runs() {
    let file = repo().join("tests/models/pad_pool.onnx");
    let graph = import::load(&file, &ImportOptions::default()).unwrap();
    let calib = common::random_samples(graph.input_shape(), 8, 5);
    let obs = observe(&graph, &calib, RangeMethod::MinMax).unwrap();
    let m = Model { file, graph, obs, calib: calib.clone(), test: calib };
    for bits in [8, 2] {
        let compiled = compile_langs(&m, WeightBits::uniform(bits), "net", &[Lang::C, Lang::Rust]);
        let (plan, conv) = (&compiled.plan, compiled.plan.kernels[0]);
        assert_eq!(conv.kernel, Kernel::Depthwise3x3);
        // The 9 x 7 output's windows as an int16 plane of 11 x 9, then the sums of a band of at least 32: its rows of
        // 7 are shorter than 8 under columns of 9, so it is walked along the columns, 4 columns of 9. Helium takes
        // the same plane, and the sums' place holds its interleaved rows (3 * (11 + 8 + 3) + 16 = 82 bytes).
        let plane_and_sums = (2 * 11 * 9usize).next_multiple_of(4) + 4 * 9 * 4;
        assert_eq!(
            (conv.scratch.portable, conv.scratch.dsp, conv.scratch.mve),
            (plane_and_sums, plane_and_sums, plane_and_sums)
        );
        // Rust's plane is int8 with a byte of slack (its DSP loop's word loads), and its sums stay on the stack.
        assert_eq!(conv.scratch.rust, (11 * 9usize + 1).next_multiple_of(4));
        assert_eq!(plan.kernels[1].kernel, Kernel::Pad);
        // The scratch and the 9 x 7 output are live together; the Rust arena is the smaller.
        assert!(plan.c.arena_bytes >= plane_and_sums + 9 * 7, "{plan:?}");
        assert!(plan.rust.arena_bytes >= 100 + 9 * 7 && plan.rust.arena_bytes < plan.c.arena_bytes, "{plan:?}");
        // The blocks the plan lists (what compile --plot draws): the conv's scratch among them, and at the peak
        // step exactly the peak of live bytes, which no step exceeds.
        let live_at =
            |s: usize| -> usize { plan.c.live.iter().filter(|l| l.first <= s && s <= l.last).map(|l| l.bytes).sum() };
        assert!(plan.c.live.iter().any(|l| l.owner == Owner::Scratch(0) && l.bytes == plane_and_sums));
        assert_eq!(live_at(plan.c.peak_step), plan.c.peak_live_bytes);
        assert!((0..=plan.kernels.len() + 1).all(|s| live_at(s) <= plan.c.peak_live_bytes));
        let dir = temp(&format!("pad-pool-{bits}"));
        write_output_dir(&dir, &compiled.files).unwrap();
        let c = std::fs::read_to_string(dir.join("c/net.c")).unwrap();
        assert!(c.contains(&format!("net_depthwise3x3_w{bits}(")) && c.contains("net_pad("), "{c}");
        let input = interp::quantize_input(&compiled.qgraph, &m.test).unwrap();
        for (lang, sanitize) in [(Lang::C, true), (Lang::Rust, false)] {
            let r = run_host(&dir, "net", &compiled.qgraph, &input, m.test.n, lang, sanitize).unwrap();
            assert!(r.bit_exact && r.inputs == 8, "{bits} bits {lang:?}: first mismatch at {:?}", r.first_mismatch);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Residual adds run inside the convolution before them (plan::fusion): the four adds of
/// tests/models/residual_bands.onnx (after a padded stride-2 conv, a 1x1 conv reading its input in place, a
/// depthwise and a grouped conv; several bands of rows each) are bit-exact in C and Rust under the sanitizers at
/// 8, 4 and 2 bits; each writes over its residual unless its convolution reads that tensor.
#[test]
fn residual_adds_run_inside_their_convolutions() {
    let file = repo().join("tests/models/residual_bands.onnx");
    let graph = import::load(&file, &ImportOptions::default()).unwrap();
    let calib = common::random_samples(graph.input_shape(), 8, 3);
    let obs = observe(&graph, &calib, RangeMethod::MinMax).unwrap();
    let m = Model { file, graph, obs, calib: calib.clone(), test: calib };
    for bits in [8, 4, 2] {
        let compiled = compile_langs(&m, WeightBits::uniform(bits), "net", &[Lang::C, Lang::Rust]);
        let (g, plan) = (&compiled.qgraph, &compiled.plan);
        let fused: Vec<(usize, usize)> =
            plan.kernels.iter().enumerate().filter_map(|(ix, k)| k.band.map(|b| (ix, b.add))).collect();
        assert_eq!(fused.len(), 4, "{bits} bits: fused (conv, add) nodes {fused:?}");
        for &(conv, add) in &fused {
            let residual = *g.nodes[add].inputs.iter().find(|&&t| t != g.nodes[conv].output).unwrap();
            let reads_residual = g.nodes[conv].inputs[0] == residual;
            let over_residual = plan.c.places[residual] == plan.c.places[g.nodes[add].output];
            assert_eq!(over_residual, !reads_residual && g.nodes[add].output != g.output, "add {add}");
        }
        let dir = temp(&format!("residual-{bits}"));
        write_output_dir(&dir, &compiled.files).unwrap();
        let c = std::fs::read_to_string(dir.join("c/net.c")).unwrap();
        assert_eq!(c.matches("net_conv_add(").count(), 4, "{c}");
        assert!(c.contains(&format!("_w{bits}, ")), "the band kernel runs the {bits}-bit convolution: {c}");
        assert!(!c.contains("net_add("), "{c}");
        let input = interp::quantize_input(g, &m.test).unwrap();
        for (lang, sanitize) in [(Lang::C, true), (Lang::Rust, false)] {
            let r = run_host(&dir, "net", g, &input, m.test.n, lang, sanitize).unwrap();
            assert!(r.bit_exact && r.inputs == 8, "{bits} bits {lang:?}: first mismatch at {:?}", r.first_mismatch);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Patch-based execution (plan::tiling) of tests/models/patch_stage.onnx, whose output is a feature map computed from
/// the stage's output: every stage end on a 2x2 grid and the deepest on uneven grids, at 8 and 4 bits, bit-exact in C
/// under the sanitizers (the deepest on two grids in Rust too); each tiled arena below the whole-tensor one; and a RAM budget between the
/// two picks a tiled plan that fits it, with the depthwise convolutions written over their inputs (in C and Rust).
#[test]
fn stages_run_tile_by_tile_bit_exact_in_c_and_rust() {
    use ompqc::plan::tiling::candidates;
    use ompqc::plan::Plan;
    let file = repo().join("tests/models/patch_stage.onnx");
    let graph = import::load(&file, &ImportOptions::default()).unwrap();
    let calib = common::random_samples(graph.input_shape(), 6, 11);
    let obs = observe(&graph, &calib, RangeMethod::MinMax).unwrap();
    let m = Model { file, graph, obs, calib: calib.clone(), test: calib };
    let provenance =
        Provenance { target: "host".into(), model_file: "patch_stage.onnx".into(), model_hash: "-".into() };
    for bits in [8, 4] {
        let compiled = compile_with(&m, WeightBits::uniform(bits), "net");
        let q = &compiled.qgraph;
        let whole = compiled.plan.c.arena_bytes;
        let input = interp::quantize_input(q, &m.test).unwrap();
        let all = candidates(q);
        let deepest = all.iter().map(|s| s.end).max().unwrap();
        let ends: std::collections::BTreeSet<usize> = all.iter().map(|s| s.end).collect();
        assert!(ends.len() >= 4 && deepest >= 12, "stage ends {ends:?}");
        let chosen = all
            .into_iter()
            .filter(|s| (s.grid == [2, 2]) || (s.end == deepest && [[3, 1], [1, 3], [4, 4], [3, 2]].contains(&s.grid)));
        for (k, stage) in chosen.enumerate() {
            let (end, grid) = (stage.end, stage.grid);
            let plan = Plan::with_stage(q, Some(stage), true).unwrap();
            assert!(plan.c.arena_bytes < whole || end < 4, "end {end} {grid:?}: {} of {whole}", plan.c.arena_bytes);
            let dir = temp(&format!("tiles-{bits}-{k}"));
            let rust = bits == 8 && end == deepest && (grid == [2, 2] || grid == [3, 1]);
            let mut files = vec![];
            for (f, text) in ompqc::emit::c::emit(q, &plan.kernels, &plan.c, "net", &provenance).unwrap() {
                files.push((format!("c/{f}"), text.into_bytes()));
            }
            if rust {
                for (f, text) in ompqc::emit::rust::emit(q, &plan.kernels, &plan.rust, "net", &provenance).unwrap() {
                    files.push((format!("rust/{f}"), text.into_bytes()));
                }
            }
            write_output_dir(&dir, &files).unwrap();
            if rust {
                let lib = std::fs::read_to_string(dir.join("rust/src/lib.rs")).unwrap();
                assert!(lib.contains("kernels::depthwise_in_place::<"), "the Rust depthwise runs over its input");
            }
            let langs: &[(Lang, bool)] =
                if rust { &[(Lang::C, true), (Lang::Rust, false)] } else { &[(Lang::C, true)] };
            for &(lang, sanitize) in langs {
                let r = run_host(&dir, "net", q, &input, m.test.n, lang, sanitize).unwrap();
                eprintln!("{bits} bits, end {end} {grid:?} {lang:?}: arena {} of {whole}", plan.c.arena_bytes);
                assert!(
                    r.bit_exact && r.inputs == 6,
                    "{bits} bits, end {end} {grid:?} {lang:?}: {:?}",
                    r.first_mismatch
                );
            }
            std::fs::remove_dir_all(&dir).unwrap();
        }
        // A budget only a stage meets.
        let budget = whole / 2;
        let plan = Plan::new(q, Some(budget), false).unwrap();
        assert!(plan.stage().is_some() && plan.c.arena_bytes <= budget, "{} > {budget}", plan.c.arena_bytes);
        assert!(plan.kernels.iter().any(|k| k.in_place), "the depthwise convolutions write over their inputs");
    }
}

fn example() -> Model {
    let dir = repo().join("examples/digits");
    let graph = import::load(&dir.join("model.onnx"), &ImportOptions::default()).unwrap();
    let test = test_set(&dir, graph.input_shape());
    load(&dir.join("model.onnx"), test)
}

#[test]
fn example_c_is_bit_exact_and_its_object_holds_the_packed_weights() {
    let m = example();
    bit_exact_everywhere("example", &m);
    // The packed bytes in the compiled object are the bytes the search counted.
    let compiled = compile_with(
        &m,
        WeightBits { default: 4, per_layer: [("conv1".to_string(), 8), ("fc".into(), 2)].into() },
        "net",
    );
    let dir = temp("object");
    write_output_dir(&dir, &compiled.files).unwrap();
    let object = dir.join("net_weights.o");
    let status = std::process::Command::new("gcc")
        .args(["-std=c99", "-O2", "-c"])
        .arg(dir.join("c/net_weights.c"))
        .arg("-o")
        .arg(&object)
        .status()
        .unwrap();
    assert!(status.success());
    use object::{Object, ObjectSymbol};
    let data = std::fs::read(&object).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let in_object: u64 =
        file.symbols().filter(|s| s.name().is_ok_and(|n| n.ends_with("_weights"))).map(|s| s.size()).sum();
    let search_counted: usize = m
        .graph
        .nodes
        .iter()
        .filter_map(|n| ompqc::quantize::LayerRows::of(&n.op).map(|r| (n.name.clone(), r)))
        .map(|(name, r)| {
            let bits = match name.as_str() {
                "conv1" => 8,
                "fc" => 2,
                _ => 4,
            };
            ompqc::ir::pack::weight_bytes(r.rows, r.k, bits)
        })
        .sum();
    assert_eq!(in_object as usize, search_counted);
    assert_eq!(compiled.report.weight_bytes, search_counted);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn outputs_are_byte_identical_and_record_their_origin() {
    let model = repo().join("examples/digits/model.onnx");
    // The search (calibration, sensitivities) splits its samples, and learned rounding its rows, over
    // OMPQC_THREADS workers: one, the default (one per core) and more workers than cores must give the same bytes.
    let run = |dir: &Path, threads: Option<&str>| {
        let mut cmd = ompqc();
        if let Some(t) = threads {
            cmd.env("OMPQC_THREADS", t);
        }
        let out = cmd
            .arg("compile")
            .arg(&model)
            .args(["--target", "cortex-m4", "--flash-budget", "60%", "--name", "digits", "--emit", "c,rust", "-o"])
            .arg(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let (a, b, c) = (temp("det-a"), temp("det-b"), temp("det-c"));
    run(&a, None);
    run(&b, Some("1"));
    run(&c, Some("5"));
    let mut files: Vec<PathBuf> = walk(&a);
    files.sort();
    assert!(files.len() >= 12, "{files:?}");
    for other in [&b, &c] {
        let mut theirs: Vec<PathBuf> =
            walk(other).iter().map(|f| f.strip_prefix(other).unwrap().to_path_buf()).collect();
        theirs.sort();
        let ours: Vec<&Path> = files.iter().map(|f| f.strip_prefix(&a).unwrap()).collect();
        assert_eq!(ours, theirs.iter().map(|p| p.as_path()).collect::<Vec<_>>());
        for f in &files {
            let rel = f.strip_prefix(&a).unwrap();
            assert!(std::fs::read(f).unwrap() == std::fs::read(other.join(rel)).unwrap(), "{} differs", rel.display());
        }
    }
    let header = std::fs::read_to_string(a.join("c/digits.h")).unwrap();
    let hash = sha256_hex(&std::fs::read(&model).unwrap());
    let version = format!("ompqc {}", env!("CARGO_PKG_VERSION"));
    for needle in [version.as_str(), "cortex-m4", hash.as_str(), "conv1: 8 bits", "DIGITS_ARENA_SIZE"] {
        assert!(header.contains(needle), "header lacks {needle}:\n{header}");
    }
    let run_out = ompqc().arg("run").arg(&a).args(["--json"]).output().unwrap();
    assert!(run_out.status.success(), "{}", String::from_utf8_lossy(&run_out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&run_out.stdout).unwrap();
    assert_eq!(
        (json["bit_exact"].as_bool(), json["mismatched_bytes"].as_u64(), json["inputs"].as_u64()),
        (Some(true), Some(0), Some(64))
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(a.join("report.json")).unwrap()).unwrap();
    for field in ["target", "weight_bytes", "arena_bytes", "peak_live_bytes", "macs", "layers"] {
        assert!(report.get(field).is_some(), "report.json lacks {field}");
    }
    assert_eq!(report["layers"][0]["name"], "conv1");
    // The plan has layers below 8 bits: learned rounding (the default) made their weights.
    assert!(report["layers"].as_array().unwrap().iter().any(|l| l["bits"].as_u64().is_some_and(|b| b < 8)));
    assert_eq!(report["rounding"], "adaround");
    for d in [a, b, c] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn bad_compile_requests_are_clean_errors() {
    let model = repo().join("examples/digits/model.onnx");
    let compile = |extra: &[&str]| {
        let out = ompqc().arg("compile").arg(&model).args(extra).output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let blocker = temp("blocker");
    std::fs::write(&blocker, "a file, not a directory").unwrap();
    let under_file = blocker.join("out");
    let (code, err) = compile(&["-o", under_file.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("cannot write") && err.trim_end().lines().count() == 1, "{err}");
    assert!(!under_file.exists());
    let parent = std::env::temp_dir();
    let leftovers = std::fs::read_dir(&parent)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(&format!("partial-{}", std::process::id())))
        .count();
    assert_eq!(leftovers, 0, "a partial output directory was left behind");
    std::fs::remove_file(&blocker).unwrap();

    let out = temp("badname");
    for name in ["9lives", "my-model", "int", ""] {
        let (code, err) = compile(&["--name", name, "-o", out.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains("not a C identifier"), "{err}");
        assert!(!out.exists());
    }
    // A width the C kernels do not pack.
    let (code, err) = compile(&["--bits", "3", "-o", out.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("2-, 4- and 8-bit"), "{err}");
    assert!(!out.exists());
    // A directory that is not ompqc's is not overwritten.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let (code, err) = compile(&["-o", out.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine");
    std::fs::remove_dir_all(&out).unwrap();
    // An op the C emitter has no kernel for: a reshape between two channels-last layouts.
    let reshape = repo().join("tests/models/reshape_4d.onnx");
    let calib = temp("reshape_calib.npy");
    common::write_npy(&calib, "<f4", &[4, 2, 4, 4], &[0u8; 4 * 32 * 4]);
    let out3 = ompqc()
        .arg("compile")
        .arg(&reshape)
        .args(["--calib", calib.to_str().unwrap(), "--bits", "8", "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out3.stderr);
    assert_eq!(out3.status.code(), Some(2), "{err}");
    assert!(err.contains("reshape_") && err.contains("code generators"), "{err}");
    assert!(!out.exists());
    std::fs::remove_file(&calib).unwrap();
    // Another model needs its calibration data.
    let other = repo().join("tests/models/conv1d.onnx");
    let out2 = ompqc().arg("compile").arg(&other).output().unwrap();
    assert_eq!(out2.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out2.stderr).contains("--calib is required"));
}
