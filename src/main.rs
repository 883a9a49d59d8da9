//! The `ompqc` command line: parse, call the library, print.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use serde::Serialize;

use ompqc::data::{load_labels, load_samples, Samples};
use ompqc::import::{self, ImportOptions};
use ompqc::ir::Graph;
use ompqc::observe::{observe, Observations, RangeMethod};
use ompqc::quantize::adaround::Settings;
use ompqc::quantize::{load_bits_file, quantize, LayerRows, QuantOptions, Rounding, WeightBits};
use ompqc::report::compile::CompileReport;
use ompqc::report::eval::{EvalReport, EvalTable};
use ompqc::report::inspect::{inspect, thousands};
use ompqc::report::plots;
use ompqc::search::{self, Allocator, Budget, SearchOptions, Tap};
use ompqc::target::Target;
use ompqc::{exec, measure, Error, Result};

#[derive(Parser)]
#[command(
    name = "ompqc",
    version,
    about = "Mixed-precision quantizing compiler from ONNX to integer C and Rust for microcontrollers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The layer table (op, shapes, parameters, MACs) and every unsupported node.
    Inspect {
        model: PathBuf,
        #[command(flatten)]
        model_opts: ModelOpts,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Runs the float model on a .npy of inputs and prints the top-1 classes (and accuracy with --labels).
    Predict {
        model: PathBuf,
        /// Inputs: uint8, int8 or float32 in the model's input layout, N first.
        #[arg(long)]
        inputs: PathBuf,
        /// Integer class labels, one per input.
        #[arg(long)]
        labels: Option<PathBuf>,
        #[command(flatten)]
        model_opts: ModelOpts,
        #[command(flatten)]
        input_map: InputMap,
        #[arg(long)]
        json: bool,
    },
    /// Quantizes the model and measures the integer model (the reference interpreter) against float on test data:
    /// top-1, agreement with float, output SQNR and every layer's SQNR.
    Eval {
        model: PathBuf,
        /// Calibration inputs (activation ranges, bias correction).
        #[arg(long)]
        calib: PathBuf,
        /// Test inputs.
        #[arg(long)]
        test: PathBuf,
        /// Integer class labels of the test inputs.
        #[arg(long)]
        labels: Option<PathBuf>,
        #[command(flatten)]
        bits: BitsArgs,
        #[command(flatten)]
        search: SearchArgs,
        #[command(flatten)]
        quant: QuantArgs,
        #[command(flatten)]
        model_opts: ModelOpts,
        #[command(flatten)]
        input_map: InputMap,
        #[arg(long)]
        json: bool,
    },
    /// Chooses each layer's weight width for a target and a flash budget (OMPQ and the baselines) and prints the
    /// numbers behind the choice.
    Search {
        model: PathBuf,
        /// Calibration inputs: the first --samples drive the search, the rest score `auto`'s candidates.
        #[arg(long)]
        calib: PathBuf,
        #[command(flatten)]
        search: SearchArgs,
        #[command(flatten)]
        quant: QuantArgs,
        /// Write the ORM heat map and the bit allocation as SVG files into this directory.
        #[arg(long)]
        plot: Option<PathBuf>,
        #[command(flatten)]
        model_opts: ModelOpts,
        #[command(flatten)]
        input_map: InputMap,
        #[arg(long)]
        json: bool,
    },
    /// Quantizes the model with widths chosen for the target and generates C: DIR/c/ (NAME.h, NAME.c,
    /// NAME_weights.c and the kernels), DIR/report.txt and DIR/report.json.
    Compile {
        model: PathBuf,
        /// Calibration inputs (required unless the model is the bundled example).
        #[arg(long)]
        calib: Option<PathBuf>,
        #[command(flatten)]
        bits: BitsArgs,
        #[command(flatten)]
        search: SearchArgs,
        #[command(flatten)]
        quant: QuantArgs,
        /// Prefix of the generated files and symbols (a C identifier); default: the model file's stem.
        #[arg(long)]
        name: Option<String>,
        /// The output directory (default: NAME_ompqc).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// The languages to generate: c, rust or c,rust (DIR/c/, DIR/rust/).
        #[arg(long, default_value = "c")]
        emit: String,
        #[command(flatten)]
        model_opts: ModelOpts,
        #[command(flatten)]
        input_map: InputMap,
        #[arg(long)]
        json: bool,
    },
    /// Builds a compiled model with a harness, runs it on inputs and compares every output byte with the
    /// reference interpreter: on the host under the sanitizers, or as firmware under QEMU with instruction counts.
    Run {
        /// An `ompqc compile` output directory.
        dir: PathBuf,
        /// Where to run: host (the build machine's gcc, under AddressSanitizer and UBSan) or a target with an
        /// emulator entry (cortex-m0plus, cortex-m3, cortex-m4, cortex-m7, cortex-m33, cortex-m55, rv32imac).
        #[arg(long, default_value = "host")]
        target: String,
        /// Inputs (.npy); default: the calibration data the model was compiled with.
        #[arg(long)]
        inputs: Option<PathBuf>,
        /// Run at most this many of the inputs.
        #[arg(long)]
        limit: Option<usize>,
        /// The generated code to run: c (DIR/c) or rust (DIR/rust).
        #[arg(long, default_value = "c", value_parser = ["c", "rust"])]
        lang: String,
        /// Instructions per layer (emulated targets).
        #[arg(long)]
        profile: bool,
        /// Wall-clock limit of each emulator run in seconds (default: scaled with the work).
        #[arg(long)]
        timeout: Option<f64>,
        /// Build without the sanitizers (host; faster).
        #[arg(long)]
        no_sanitize: bool,
        #[command(flatten)]
        input_map: InputMap,
        #[arg(long)]
        json: bool,
    },
    /// Compiles a compiled model's C with each target's toolchain at -Os and reports the sizes of the objects and
    /// of a linked firmware image, across targets.
    Report {
        /// An `ompqc compile` output directory.
        dir: PathBuf,
        /// Comma-separated target names or files, or `all` (default: the target the model was compiled for).
        #[arg(long)]
        targets: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The known targets: bundled, and any in ./targets or $OMPQC_TARGETS.
    Targets {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct BitsArgs {
    /// The weight width of every layer with weights (2..8), instead of a search.
    #[arg(long, value_parser = clap::value_parser!(u8).range(2..=8), conflicts_with_all = ["bits_file", "allocator", "flash_budget"])]
    bits: Option<u8>,
    /// Per-layer weight widths, instead of a search: a JSON object or TOML table of layer name -> bits; unlisted
    /// layers get 8.
    #[arg(long, conflicts_with_all = ["allocator", "flash_budget"])]
    bits_file: Option<PathBuf>,
}

#[derive(Args)]
struct SearchArgs {
    /// The target device: a bundled name (see `ompqc targets`) or a .toml file.
    #[arg(long, default_value = "host")]
    target: String,
    /// Weight flash budget: bytes (65536, 48KiB, 1.5MiB) or a percentage of the 8-bit weights (50%).
    #[arg(long)]
    flash_budget: Option<String>,
    /// ompq, size-only, uniform, sensitivity or auto (the default: the best of the four on held-out samples).
    #[arg(long)]
    allocator: Option<String>,
    /// Calibration samples for the ORM features and sensitivities; the remaining ones score `auto`.
    #[arg(long, default_value_t = 32)]
    samples: usize,
    /// OMPQ's beta in theta = exp(-beta * gamma).
    #[arg(long, default_value_t = 1.0)]
    beta: f64,
    /// Use the debiased CKA estimator.
    #[arg(long)]
    debiased: bool,
    /// Which tensor represents a layer: block (after the residual add it feeds) or layer.
    #[arg(long, default_value = "block", value_parser = ["block", "layer"])]
    tap: String,
    /// Layers kept at 8 bits: first, last, layer names, or none.
    #[arg(long, default_value = "first,last")]
    pin: String,
}

#[derive(Args)]
struct QuantArgs {
    /// How activation ranges are chosen: minmax, percentile[:P] or mse.
    #[arg(long, default_value = "minmax")]
    act_range: RangeMethod,
    /// Do not fold the expected shift caused by weight rounding into the biases.
    #[arg(long)]
    no_bias_correction: bool,
    /// How weights below 8 bits are rounded: adaround (learned on the calibration data; the default) or nearest.
    #[arg(long, default_value = "adaround", value_parser = ["adaround", "nearest"])]
    rounding: String,
    /// Round to nearest (fast, less accurate below 8 bits): --rounding nearest.
    #[arg(long, conflicts_with = "rounding")]
    fast: bool,
}

#[derive(Args)]
struct ModelOpts {
    /// The full input shape for models with dynamic dimensions, e.g. 1,3,48,192.
    #[arg(long, value_parser = parse_shape)]
    input_shape: Option<Shape>,
}

/// A comma-separated shape (a newtype, so clap takes it as one value).
#[derive(Clone, Debug)]
struct Shape(Vec<usize>);

#[derive(Args)]
struct InputMap {
    /// Stored values map to the float input as x * scale + offset (default 1).
    #[arg(long)]
    input_scale: Option<f32>,
    /// (default 0)
    #[arg(long, allow_hyphen_values = true)]
    input_offset: Option<f32>,
}

impl InputMap {
    fn scale(&self) -> f32 {
        self.input_scale.unwrap_or(1.0)
    }

    fn offset(&self) -> f32 {
        self.input_offset.unwrap_or(0.0)
    }
}

fn parse_shape(s: &str) -> std::result::Result<Shape, String> {
    s.split(',')
        .map(|d| d.trim().parse::<usize>().map_err(|_| format!("'{d}' is not a dimension (expected e.g. 1,3,48,192)")))
        .collect::<std::result::Result<_, _>>()
        .map(Shape)
}

impl ModelOpts {
    fn import_options(&self) -> ImportOptions {
        ImportOptions { input_shape: self.input_shape.as_ref().map(|s| s.0.clone()) }
    }
}

/// Prints one JSON document, or the text report.
fn emit(json: bool, value: &impl Serialize, text: impl FnOnce() -> String) -> Result<()> {
    if json {
        print_json(value)
    } else {
        print!("{}", text());
        Ok(())
    }
}

fn print_json(value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::internal(format!("JSON output: {e}")))?;
    println!("{text}");
    Ok(())
}

fn cmd_inspect(model: &Path, opts: &ModelOpts, json: bool) -> Result<()> {
    let imported = import::import(model, &opts.import_options())?;
    let table = inspect(&model.display().to_string(), &imported);
    if json {
        print_json(&table)?;
    } else {
        print!("{}", table.to_text());
    }
    imported.into_graph(model).map(|_| ())
}

#[derive(Serialize)]
struct Prediction {
    model: String,
    inputs: usize,
    predictions: Vec<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top1: Option<f64>,
}

fn cmd_predict(
    model: &Path,
    inputs: &Path,
    labels: Option<&Path>,
    opts: &ModelOpts,
    map: &InputMap,
    json: bool,
) -> Result<()> {
    let graph = import::load(model, &opts.import_options())?;
    let samples = load_samples(inputs, graph.input_shape(), map.scale(), map.offset())?;
    let labels = labels.map(|l| load_labels(l, samples.n)).transpose()?;
    let predictions = exec::run(&graph, &samples)?.top1();
    let top1 = labels.map(|l| {
        let correct = predictions.iter().zip(&l).filter(|(p, y)| **p as i64 == **y).count();
        correct as f64 / samples.n.max(1) as f64
    });
    let result = Prediction { model: model.display().to_string(), inputs: samples.n, predictions, top1 };
    if json {
        return print_json(&result);
    }
    let shown: Vec<String> = result.predictions.iter().take(32).map(|p| p.to_string()).collect();
    let more = if result.inputs > 32 { format!(" ... ({} in all)", result.inputs) } else { String::new() };
    println!("top-1 classes: {}{more}", shown.join(" "));
    if let Some(t) = result.top1 {
        println!("float top-1 accuracy: {:.2}% of {}", 100.0 * t, result.inputs);
    }
    Ok(())
}

/// The model and its data sets, loaded with the same input mapping.
struct Loaded {
    graph: Graph,
    calib: Samples,
}

fn load_model_and_calib(model: &Path, calib: &Path, opts: &ModelOpts, map: &InputMap) -> Result<Loaded> {
    let graph = import::load(model, &opts.import_options())?;
    let calib = load_samples(calib, graph.input_shape(), map.scale(), map.offset())?;
    Ok(Loaded { graph, calib })
}

impl QuantArgs {
    fn options(&self, bits: WeightBits) -> QuantOptions {
        QuantOptions { bits, bias_correction: !self.no_bias_correction, ..QuantOptions::default() }
    }

    fn rounding(&self) -> Rounding {
        if self.fast || self.rounding == "nearest" {
            Rounding::Nearest
        } else {
            Rounding::AdaRound(Settings::default())
        }
    }

    /// The options for `bits` with the chosen rounding applied on the calibration data.
    fn rounded(&self, graph: &Graph, obs: &Observations, calib: &Samples, bits: WeightBits) -> Result<QuantOptions> {
        self.rounding().apply(graph, obs, calib, self.options(bits), &print_progress)
    }
}

/// Progress lines go to stderr, so that reports on stdout stay clean.
fn print_progress(line: &str) {
    eprintln!("{line}");
}

/// What `--allocator` asks for: one allocator, or (eval only) all of them side by side.
enum Wanted {
    One(Allocator),
    All,
}

impl SearchArgs {
    fn setup(&self, quant: &QuantArgs, allow_all: bool) -> Result<(Target, Option<Budget>, Wanted, SearchOptions)> {
        let target = Target::load(&self.target)?;
        let budget = self.flash_budget.as_deref().map(Budget::parse).transpose()?;
        let wanted = match self.allocator.as_deref() {
            Some("all") if allow_all => Wanted::All,
            Some(a) => Wanted::One(a.parse().map_err(|e: String| Error::input(format!("--allocator {e}")))?),
            None => Wanted::One(Allocator::Auto),
        };
        let pins = self.pin.parse().map_err(|e: String| Error::input(format!("--pin {e}")))?;
        let tap = if self.tap == "layer" { Tap::Layer } else { Tap::Block };
        let options = SearchOptions {
            samples: self.samples,
            beta: self.beta,
            debiased: self.debiased,
            tap,
            pins,
            quant: quant.options(WeightBits::uniform(8)),
            rounding: quant.rounding(),
            progress: print_progress,
        };
        Ok((target, budget, wanted, options))
    }
}

#[allow(clippy::too_many_arguments)]
fn cmd_eval(
    model: &Path,
    calib: &Path,
    test: &Path,
    labels: Option<&Path>,
    bits: &BitsArgs,
    search_args: &SearchArgs,
    quant: &QuantArgs,
    opts: &ModelOpts,
    map: &InputMap,
    json: bool,
) -> Result<()> {
    let Loaded { graph, calib: calib_set } = load_model_and_calib(model, calib, opts, map)?;
    let test_set = load_samples(test, graph.input_shape(), map.scale(), map.offset())?;
    let labels = labels.map(|l| load_labels(l, test_set.n)).transpose()?;
    let observations = observe(&graph, &calib_set, quant.act_range)?;
    let name = model.display().to_string();
    let evaluate = |widths: WeightBits| -> Result<EvalReport> {
        let options = quant.rounded(&graph, &observations, &calib_set, widths)?;
        let qgraph = quantize(&graph, &observations, &options)?;
        let comparison = measure::compare(&graph, &qgraph, &test_set, labels.as_deref())?;
        let mut report = EvalReport::new(&name, &graph, &qgraph, &comparison, calib_set.n);
        report.rounding = quant.rounding().name().to_string();
        Ok(report)
    };
    let searching = bits.bits.is_none()
        && bits.bits_file.is_none()
        && (search_args.allocator.is_some() || search_args.flash_budget.is_some());
    if !searching {
        let per_layer = bits.bits_file.as_deref().map(|f| load_bits_file(f, &graph)).transpose()?.unwrap_or_default();
        let report = evaluate(WeightBits { default: bits.bits.unwrap_or(8), per_layer })?;
        return emit(json, &report, || report.to_text());
    }
    let (target, budget, wanted, options) = search_args.setup(quant, true)?;
    let allocator = match wanted {
        Wanted::One(a) => a,
        Wanted::All => Allocator::Auto,
    };
    let result = search::search(&graph, &observations, &calib_set, &target, budget, allocator, &options)?;
    match wanted {
        Wanted::One(_) => {
            let mut report = evaluate(result.plan().weight_bits())?;
            report.budget_bytes = Some(result.budget_bytes);
            report.allocator = Some(result.plan().allocator.name().to_string());
            emit(json, &report, || report.to_text())
        }
        Wanted::All => {
            let reports = result.candidates.iter().map(|p| evaluate(p.weight_bits())).collect::<Result<Vec<_>>>()?;
            let table = EvalTable::new(&name, &result, &reports);
            emit(json, &table, || table.to_text())
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn cmd_search(
    model: &Path,
    calib: &Path,
    search_args: &SearchArgs,
    quant: &QuantArgs,
    plot: Option<&Path>,
    opts: &ModelOpts,
    map: &InputMap,
    json: bool,
) -> Result<()> {
    let Loaded { graph, calib } = load_model_and_calib(model, calib, opts, map)?;
    let observations = observe(&graph, &calib, quant.act_range)?;
    let (target, budget, wanted, options) = search_args.setup(quant, false)?;
    let Wanted::One(allocator) = wanted else { unreachable!("search takes one allocator") };
    let result = search::search(&graph, &observations, &calib, &target, budget, allocator, &options)?;
    if let Some(dir) = plot {
        plots::write(dir, &result)?;
    }
    emit(json, &result, || ompqc::report::search::to_text(&model.display().to_string(), &result))
}

/// The bundled example's calibration set and input scale, when `model` is the bundled example.
fn example_calibration(model: &Path, bytes: &[u8]) -> Option<(PathBuf, f32)> {
    const EXAMPLE: &[u8] = include_bytes!("../examples/digits/model.onnx");
    let calib = model.parent()?.join("calib_x.npy");
    (bytes == EXAMPLE && calib.is_file()).then_some((calib, 0.0625))
}

#[allow(clippy::too_many_arguments)]
fn cmd_compile(
    model: &Path,
    calib: Option<&Path>,
    bits: &BitsArgs,
    search_args: &SearchArgs,
    quant: &QuantArgs,
    name: Option<&str>,
    output: Option<&Path>,
    emit_langs: &str,
    opts: &ModelOpts,
    map: &InputMap,
    json: bool,
) -> Result<()> {
    let langs = ompqc::emit::Lang::parse_list(emit_langs)?;
    let bytes = std::fs::read(model).map_err(|e| Error::input(format!("{}: cannot read: {e}", model.display())))?;
    let stem = model.file_stem().map(|s| s.to_string_lossy().replace(['-', '.', ' '], "_")).unwrap_or_default();
    let name = name.map(str::to_string).unwrap_or(stem);
    ompqc::emit::check_name(&name)?;
    let dir = output.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(format!("{name}_ompqc")));
    ompqc::emit::check_output_dir(&dir)?;
    let (calib, default_scale) = match (calib, example_calibration(model, &bytes)) {
        (Some(c), _) => (c.to_path_buf(), 1.0),
        (None, Some(example)) => example,
        (None, None) => {
            return Err(Error::input(format!("{}: --calib is required (calibration inputs)", model.display())))
        }
    };
    let (scale, offset) = (map.input_scale.unwrap_or(default_scale), map.offset());
    let graph = import::load(model, &opts.import_options())?;
    let calib_set = load_samples(&calib, graph.input_shape(), scale, offset)?;
    let observations = observe(&graph, &calib_set, quant.act_range)?;
    let (widths, allocator, budget_bytes, target_name) = if bits.bits.is_some() || bits.bits_file.is_some() {
        let per_layer = bits.bits_file.as_deref().map(|f| load_bits_file(f, &graph)).transpose()?.unwrap_or_default();
        let target = Target::load(&search_args.target)?;
        (WeightBits { default: bits.bits.unwrap_or(8), per_layer }, None, None, target.name)
    } else {
        let (target, budget, wanted, options) = search_args.setup(quant, false)?;
        let Wanted::One(allocator) = wanted else { unreachable!("compile takes one allocator") };
        let r = search::search(&graph, &observations, &calib_set, &target, budget, allocator, &options)?;
        (r.plan().weight_bits(), Some(r.plan().allocator.name().to_string()), Some(r.budget_bytes), target.name)
    };
    let provenance = ompqc::emit::Provenance {
        target: target_name,
        model_file: model.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
        model_hash: ompqc::emit::sha256_hex(&bytes),
    };
    let origin = ompqc::compile::Origin {
        allocator,
        budget_bytes,
        rounding: quant.rounding().name().to_string(),
        calibration: std::fs::canonicalize(&calib).unwrap_or(calib.clone()).display().to_string(),
        input_scale: scale,
        input_offset: offset,
    };
    // Refused widths fail here, before the rounding's work.
    for node in graph.nodes.iter().filter(|n| LayerRows::of(&n.op).is_some()) {
        ompqc::emit::schedule::check_width(&node.name, node.op.kind(), widths.for_layer(&node.name))?;
    }
    let options = quant.rounded(&graph, &observations, &calib_set, widths)?;
    let compiled = ompqc::compile::compile(&graph, &observations, &options, &name, &provenance, &origin, &langs)?;
    ompqc::emit::write_output_dir(&dir, &compiled.files)?;
    emit(json, &compiled.report, || format!("{}wrote {}\n", compiled.report.to_text(), dir.display()))
}

/// The compile report of an output directory (it names the model and how it was compiled).
fn load_compile_report(dir: &Path) -> Result<CompileReport> {
    std::fs::read_to_string(dir.join("report.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| Error::input(format!("{}: not an `ompqc compile` output directory", dir.display())))
}

struct RunOptions<'a> {
    target: &'a str,
    inputs: Option<&'a Path>,
    limit: Option<usize>,
    lang: ompqc::emit::Lang,
    profile: bool,
    timeout: Option<f64>,
    no_sanitize: bool,
}

fn cmd_run(dir: &Path, o: &RunOptions, map: &InputMap, json: bool) -> Result<()> {
    let target = Target::load(o.target)?;
    if target.name != "host" {
        ompqc::run::firmware::check_runnable(&target)?;
    } else if o.profile {
        return Err(Error::input("--profile counts instructions under an emulator: give an emulated --target"));
    }
    if o.profile && o.lang == ompqc::emit::Lang::Rust {
        return Err(Error::input("--profile measures the layers of the generated C: use --lang c"));
    }
    let code = dir.join(o.lang.dir());
    if !code.is_dir() {
        return Err(Error::input(format!(
            "{}: no generated {} here; compile with --emit {}",
            dir.display(),
            if o.lang == ompqc::emit::Lang::Rust { "Rust" } else { "C" },
            o.lang.dir()
        )));
    }
    let report = load_compile_report(dir)?;
    let qgraph = ompqc::run::load_qgraph(dir)?;
    let inputs = o.inputs.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(&report.calibration));
    let shape = qgraph.tensor(qgraph.input).shape.clone();
    let scale = map.input_scale.unwrap_or(report.input_scale);
    let offset = map.input_offset.unwrap_or(report.input_offset);
    let mut samples = load_samples(&inputs, &shape, scale, offset)?;
    if let Some(limit) = o.limit {
        if limit == 0 {
            return Err(Error::input("--limit 0: nothing to run"));
        }
        samples = samples.take(limit.min(samples.n));
    }
    let quantized = ompqc::interp::quantize_input(&qgraph, &samples)?;
    let output_bytes = samples.n * qgraph.tensor(qgraph.output).elems();
    let verdict = |exact: bool, mismatched: usize| {
        format!(
            "{} ({mismatched} mismatched output bytes of {output_bytes})",
            if exact { "bit-exact with the interpreter" } else { "DIFFERENT from the interpreter" }
        )
    };
    let (exact, mismatched) = if target.name == "host" {
        let result = ompqc::run::run_host(dir, &report.name, &qgraph, &quantized, samples.n, o.lang, !o.no_sanitize)?;
        emit(json, &result, || {
            format!(
                "{} inputs on the host ({}): {}; {} MACs per inference\n",
                result.inputs,
                if o.lang == ompqc::emit::Lang::Rust { "Rust" } else { "C" },
                verdict(result.bit_exact, result.mismatched_bytes),
                thousands(result.macs)
            )
        })?;
        (result.bit_exact, result.mismatched_bytes)
    } else {
        let timeout = match o.timeout {
            Some(t) if t > 0.0 && t.is_finite() => Some(std::time::Duration::from_secs_f64(t)),
            Some(t) => return Err(Error::input(format!("--timeout {t}: expected a positive number of seconds"))),
            None => None,
        };
        let request = ompqc::run::firmware::RunRequest {
            dir,
            name: &report.name,
            graph: &qgraph,
            arena: report.arena_bytes,
            lang: o.lang,
            input: &quantized,
            n: samples.n,
            profile: o.profile,
            timeout,
        };
        let result = ompqc::run::firmware::run(&target, &request)?;
        emit(json, &result, || {
            let mut text = format!(
                "{} inputs on {} ({}) under QEMU {}: {}\n{} instructions per inference ({} to {}), {} MACs: {:.2} \
                 instructions per MAC\n",
                result.inputs,
                result.target,
                if o.lang == ompqc::emit::Lang::Rust { "Rust" } else { "C" },
                result.machine,
                verdict(result.bit_exact, result.mismatched_bytes),
                thousands(result.instructions_per_inference),
                thousands(result.instructions_range.0),
                thousands(result.instructions_range.1),
                thousands(result.macs),
                result.instructions_per_mac
            );
            for l in result.layers.iter().flatten() {
                let per_mac =
                    if l.macs > 0 { format!("{:.2}", l.instructions as f64 / l.macs as f64) } else { "-".into() };
                text.push_str(&format!(
                    "  {:<28} {:<14} {:>12} instructions {:>11} MACs {:>7} per MAC\n",
                    l.name,
                    l.op,
                    thousands(l.instructions),
                    thousands(l.macs),
                    per_mac
                ));
            }
            text
        })?;
        (result.bit_exact, result.mismatched_bytes)
    };
    if exact {
        Ok(())
    } else {
        Err(Error::internal(format!("{mismatched} output bytes differ from the interpreter")))
    }
}

fn cmd_report(dir: &Path, targets: Option<&str>, json: bool) -> Result<()> {
    let compiled = load_compile_report(dir)?;
    let targets = match targets.map(str::trim) {
        None => vec![Target::load(&compiled.target)?],
        Some("all") => Target::all()?,
        Some(list) => list.split(',').map(|t| Target::load(t.trim())).collect::<Result<Vec<_>>>()?,
    };
    let qgraph = ompqc::run::load_qgraph(dir)?;
    let sizes = ompqc::run::firmware::Sizes::of(&qgraph, compiled.arena_bytes);
    let report = ompqc::report::targets::report(dir, &compiled.name, sizes, &targets);
    emit(json, &report, || report.to_text())?;
    match report.targets.iter().find(|r| r.sizes.is_some()) {
        Some(_) => Ok(()),
        None => Err(Error::input(format!(
            "no target could be built: {}",
            report.targets.iter().filter_map(|r| r.error.as_deref()).collect::<Vec<_>>().join("; ")
        ))),
    }
}

fn cmd_targets(json: bool) -> Result<()> {
    let targets = Target::all()?;
    if json {
        return print_json(&targets);
    }
    for t in targets {
        let installed = if ompqc::build::is_installed(&t.toolchain.cc) { "" } else { " (not installed)" };
        let emulator = t.emulator.as_ref().map_or("none".to_string(), |e| format!("{} -M {}", e.qemu, e.machine));
        println!(
            "{:<14} {:<15} features [{}]  weights {:?}  flash {:>9}  RAM {:>8}\n{:14} cc {}{installed}; emulator {emulator}\n{:14} kernels: {}\n{:14} {}",
            t.name,
            t.architecture,
            t.features.join(", "),
            t.weight_bits,
            thousands(t.flash_bytes as u64),
            thousands(t.ram_bytes as u64),
            "",
            t.toolchain.cc,
            "",
            ompqc::emit::variants::summary(&t),
            "",
            t.description
        );
    }
    Ok(())
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Inspect { model, model_opts, json } => cmd_inspect(&model, &model_opts, json),
        Command::Predict { model, inputs, labels, model_opts, input_map, json } => {
            cmd_predict(&model, &inputs, labels.as_deref(), &model_opts, &input_map, json)
        }
        Command::Eval { model, calib, test, labels, bits, search, quant, model_opts, input_map, json } => {
            cmd_eval(&model, &calib, &test, labels.as_deref(), &bits, &search, &quant, &model_opts, &input_map, json)
        }
        Command::Search { model, calib, search, quant, plot, model_opts, input_map, json } => {
            cmd_search(&model, &calib, &search, &quant, plot.as_deref(), &model_opts, &input_map, json)
        }
        Command::Compile { model, calib, bits, search, quant, name, output, emit, model_opts, input_map, json } => {
            cmd_compile(
                &model,
                calib.as_deref(),
                &bits,
                &search,
                &quant,
                name.as_deref(),
                output.as_deref(),
                &emit,
                &model_opts,
                &input_map,
                json,
            )
        }
        Command::Run { dir, target, inputs, limit, lang, profile, timeout, no_sanitize, input_map, json } => {
            let lang = if lang == "rust" { ompqc::emit::Lang::Rust } else { ompqc::emit::Lang::C };
            let options =
                RunOptions { target: &target, inputs: inputs.as_deref(), limit, lang, profile, timeout, no_sanitize };
            cmd_run(&dir, &options, &input_map, json)
        }
        Command::Report { dir, targets, json } => cmd_report(&dir, targets.as_deref(), json),
        Command::Targets { json } => cmd_targets(json),
    }
}

/// Parses the command line; a usage error becomes one line naming the option, with exit code 2.
fn parse() -> Result<Cli> {
    Cli::try_parse().map_err(|e| {
        if !e.use_stderr() {
            e.exit(); // --help and --version print and exit 0
        }
        // clap's message runs until the blank line before its usage hint.
        let text = e.to_string();
        let message: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
        Error::input(message.join(" ").trim_start_matches("error: ").to_string())
    })
}

fn main() -> ExitCode {
    // A panic is a bug in ompqc: report it on one line with exit code 1 instead of a backtrace dump
    // (OMPQC_DEBUG=1 keeps Rust's panic report, for debugging ompqc itself).
    if std::env::var_os("OMPQC_DEBUG").is_none() {
        std::panic::set_hook(Box::new(|_| {}));
    }
    match std::panic::catch_unwind(|| parse().and_then(run)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("ompqc: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            // A closed pipe on stdout (`ompqc targets | head`) ends the output; it is not an error of ompqc's.
            if msg.contains("Broken pipe") {
                return ExitCode::SUCCESS;
            }
            eprintln!("ompqc: internal error (please report): {msg}");
            ExitCode::from(1)
        }
    }
}
