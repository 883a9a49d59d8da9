//! The `ompqc` command line: parse, call the library, print.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use serde::Serialize;

use ompqc::data::{load_labels, load_samples};
use ompqc::import::{self, ImportOptions};
use ompqc::observe::{observe, RangeMethod};
use ompqc::quantize::{load_bits_file, quantize, QuantOptions, WeightBits};
use ompqc::report::eval::EvalReport;
use ompqc::report::inspect::inspect;
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
        quant: QuantArgs,
        #[command(flatten)]
        model_opts: ModelOpts,
        #[command(flatten)]
        input_map: InputMap,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct QuantArgs {
    /// The weight width of every layer with weights (2..8).
    #[arg(long, value_parser = clap::value_parser!(u8).range(2..=8), conflicts_with = "bits_file")]
    bits: Option<u8>,
    /// Per-layer weight widths: a JSON object or TOML table of layer name -> bits; unlisted layers get 8.
    #[arg(long)]
    bits_file: Option<PathBuf>,
    /// How activation ranges are chosen: minmax, percentile[:P] or mse.
    #[arg(long, default_value = "minmax")]
    act_range: RangeMethod,
    /// Do not fold the expected shift caused by weight rounding into the biases.
    #[arg(long)]
    no_bias_correction: bool,
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
    /// Stored values map to the float input as x * scale + offset.
    #[arg(long, default_value_t = 1.0)]
    input_scale: f32,
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    input_offset: f32,
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
    let samples = load_samples(inputs, graph.input_shape(), map.input_scale, map.input_offset)?;
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

#[allow(clippy::too_many_arguments)]
fn cmd_eval(
    model: &Path,
    calib: &Path,
    test: &Path,
    labels: Option<&Path>,
    quant: &QuantArgs,
    opts: &ModelOpts,
    map: &InputMap,
    json: bool,
) -> Result<()> {
    let graph = import::load(model, &opts.import_options())?;
    let load = |p: &Path| load_samples(p, graph.input_shape(), map.input_scale, map.input_offset);
    let (calib_set, test_set) = (load(calib)?, load(test)?);
    let labels = labels.map(|l| load_labels(l, test_set.n)).transpose()?;
    let per_layer = quant.bits_file.as_deref().map(|f| load_bits_file(f, &graph)).transpose()?.unwrap_or_default();
    let options = QuantOptions {
        bits: WeightBits { default: quant.bits.unwrap_or(8), per_layer },
        bias_correction: !quant.no_bias_correction,
    };
    let observations = observe(&graph, &calib_set, quant.act_range)?;
    let qgraph = quantize(&graph, &observations, &options)?;
    let comparison = measure::compare(&graph, &qgraph, &test_set, labels.as_deref())?;
    let report = EvalReport::new(&model.display().to_string(), &graph, &qgraph, &comparison, calib_set.n);
    if json {
        print_json(&report)
    } else {
        print!("{}", report.to_text());
        Ok(())
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Inspect { model, model_opts, json } => cmd_inspect(&model, &model_opts, json),
        Command::Predict { model, inputs, labels, model_opts, input_map, json } => {
            cmd_predict(&model, &inputs, labels.as_deref(), &model_opts, &input_map, json)
        }
        Command::Eval { model, calib, test, labels, quant, model_opts, input_map, json } => {
            cmd_eval(&model, &calib, &test, labels.as_deref(), &quant, &model_opts, &input_map, json)
        }
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
            eprintln!("ompqc: internal error (please report): {msg}");
            ExitCode::from(1)
        }
    }
}
