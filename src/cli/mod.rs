//! The command line: one file per command, each a clap `Args` struct with a `run` that calls the library and
//! prints; the option groups several commands share are here.

mod compile;
mod eval;
mod firmware;
mod flash;
mod inspect;
mod predict;
mod report;
mod run;
mod search;
mod targets;
mod validate;

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

use ompqc::emit::manifest::CompileReport;
use ompqc::import::ImportOptions;
use ompqc::ir::quant::QGraph;
use ompqc::observe::RangeMethod;
use ompqc::pipeline::{InputMap, Quantization, SearchRequest};
use ompqc::quantize::adaround::Settings;
use ompqc::quantize::{load_bits_file, Rounding, WeightBits};
use ompqc::search::{Allocator, Budget, SearchOptions, Tap};
use ompqc::target::Target;
use ompqc::{ir::Graph, Error, Result};

#[derive(Parser)]
#[command(
    name = "ompqc",
    version,
    about = "Mixed-precision quantizing compiler from ONNX to integer C and Rust for microcontrollers"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The layer table (op, shapes, parameters, MACs) and every unsupported node.
    Inspect(inspect::InspectArgs),
    /// Runs the float model on a .npy of inputs and prints the top-1 classes (and accuracy with --labels).
    Predict(predict::PredictArgs),
    /// Quantizes the model and measures the integer model (the reference interpreter) against float on test data:
    /// top-1, agreement with float, output SQNR and every layer's SQNR.
    Eval(eval::EvalArgs),
    /// Chooses each layer's weight width for a target and a flash budget (OMPQ and the baselines) and prints the
    /// numbers behind the choice.
    Search(search::SearchArgs),
    /// Quantizes the model with widths chosen for the target and generates C: DIR/c/ (NAME.h, NAME.c,
    /// NAME_weights.c and the kernels), DIR/report.txt and DIR/report.json.
    Compile(compile::CompileArgs),
    /// Builds a compiled model with a harness, runs it on inputs and compares every output byte with the
    /// reference interpreter: on the host under the sanitizers, or as firmware under QEMU with instruction counts.
    Run(run::RunArgs),
    /// Compiles a compiled model's C with each target's toolchain at -Os and reports the sizes of the objects and
    /// of a linked firmware image, across targets.
    Report(report::ReportArgs),
    /// The known targets: bundled, and any in ./targets or $OMPQC_TARGETS.
    Targets(targets::TargetsArgs),
    /// Writes and builds a standalone firmware project for a board (start-up code, linker script for its memory
    /// map, UART driver, Makefile): FWDIR/NAME_MODE.elf, .hex and .bin.
    Firmware(firmware::FirmwareArgs),
    /// Programs a firmware directory onto its board with probe-rs, OpenOCD, st-flash or pyOCD.
    Flash(flash::FlashArgs),
    /// Streams inputs to the validation firmware on a board (or QEMU's model of it) over its UART and compares
    /// every output byte with the reference interpreter.
    Validate(validate::ValidateArgs),
}

impl Cli {
    pub fn run(self) -> Result<()> {
        match self.command {
            Command::Inspect(a) => a.run(),
            Command::Predict(a) => a.run(),
            Command::Eval(a) => a.run(),
            Command::Search(a) => a.run(),
            Command::Compile(a) => a.run(),
            Command::Run(a) => a.run(),
            Command::Report(a) => a.run(),
            Command::Targets(a) => a.run(),
            Command::Firmware(a) => a.run(),
            Command::Flash(a) => a.run(),
            Command::Validate(a) => a.run(),
        }
    }

    /// Parses the command line; a usage error becomes one line naming the option, with exit code 2.
    pub fn parse_args() -> Result<Cli> {
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

impl BitsArgs {
    /// The widths given on the command line, if any.
    fn fixed(&self, graph: &Graph) -> Result<Option<WeightBits>> {
        if self.bits.is_none() && self.bits_file.is_none() {
            return Ok(None);
        }
        let per_layer = self.bits_file.as_deref().map(|f| load_bits_file(f, graph)).transpose()?.unwrap_or_default();
        Ok(Some(WeightBits { default: self.bits.unwrap_or(8), per_layer }))
    }
}

/// `--allocator`: one of the search's allocators, or (eval only) all of them side by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum AllocatorArg {
    Ompq,
    SizeOnly,
    Uniform,
    Sensitivity,
    Auto,
    All,
}

impl AllocatorArg {
    /// The allocator, or `None` for `all`.
    fn one(self) -> Option<Allocator> {
        Some(match self {
            AllocatorArg::Ompq => Allocator::Ompq,
            AllocatorArg::SizeOnly => Allocator::SizeOnly,
            AllocatorArg::Uniform => Allocator::Uniform,
            AllocatorArg::Sensitivity => Allocator::Sensitivity,
            AllocatorArg::Auto => Allocator::Auto,
            AllocatorArg::All => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum TapArg {
    /// After the residual add the layer feeds.
    Block,
    /// The layer's own output.
    Layer,
}

#[derive(Args)]
struct SearchOpts {
    /// The target device: a bundled name (see `ompqc targets`) or a .toml file.
    #[arg(long, default_value = "host")]
    target: String,
    /// Weight flash budget: bytes (65536, 48KiB, 1.5MiB) or a percentage of the 8-bit weights (50%).
    #[arg(long)]
    flash_budget: Option<String>,
    /// RAM budget of the arena: bytes (28672, 28KiB, 1.5MiB); default: the target's RAM less its stack reserve and
    /// the input and output buffers.
    #[arg(long)]
    ram_budget: Option<String>,
    /// The allocator; auto (the default) keeps the best of the others on held-out samples.
    #[arg(long, value_enum)]
    allocator: Option<AllocatorArg>,
    /// Calibration samples for the ORM features and sensitivities; the remaining ones score `auto`.
    #[arg(long, default_value_t = 32)]
    samples: usize,
    /// OMPQ's beta in theta = exp(-beta * gamma).
    #[arg(long, default_value_t = 1.0)]
    beta: f64,
    /// Use the debiased CKA estimator.
    #[arg(long)]
    debiased: bool,
    /// Which tensor represents a layer.
    #[arg(long, value_enum, default_value_t = TapArg::Block)]
    tap: TapArg,
    /// Layers kept at 8 bits: first, last, layer names, or none.
    #[arg(long, default_value = "first,last")]
    pin: String,
}

impl SearchOpts {
    /// Whether the options ask for a search (rather than 8 bits everywhere).
    fn asked(&self) -> bool {
        self.allocator.is_some() || self.flash_budget.is_some()
    }

    /// The search these options describe, with `allocator` (`--allocator all` is resolved by the caller).
    fn request(&self, quant: &QuantArgs, allocator: Allocator) -> Result<SearchRequest> {
        let quantization = quant.quantization();
        let options = SearchOptions {
            samples: self.samples,
            beta: self.beta,
            debiased: self.debiased,
            tap: if self.tap == TapArg::Layer { Tap::Layer } else { Tap::Block },
            pins: self.pin.parse().map_err(|e: String| Error::input(format!("--pin {e}")))?,
            quant: quantization.options(WeightBits::uniform(8)),
            rounding: quantization.rounding,
            progress: print_progress,
        };
        Ok(SearchRequest {
            target: Target::load(&self.target)?,
            budget: self.flash_budget.as_deref().map(Budget::parse).transpose()?,
            allocator,
            options,
        })
    }

    /// The one allocator asked for (auto by default); `all` is only for `eval`.
    fn one_allocator(&self) -> Result<Allocator> {
        match self.allocator {
            None => Ok(Allocator::Auto),
            Some(a) => a.one().ok_or_else(|| Error::input("--allocator all: only `eval` compares every allocator")),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum RoundingArg {
    /// Learned on the calibration data.
    Adaround,
    /// To the nearest level.
    Nearest,
}

#[derive(Args)]
struct QuantArgs {
    /// How activation ranges are chosen: minmax, percentile[:P] or mse.
    #[arg(long, default_value = "minmax")]
    act_range: RangeMethod,
    /// Do not fold the expected shift caused by weight rounding into the biases.
    #[arg(long)]
    no_bias_correction: bool,
    /// How weights below 8 bits are rounded.
    /// (default: adaround; a QDQ model keeps its own integer weights.)
    #[arg(long, value_enum)]
    rounding: Option<RoundingArg>,
    /// Round to nearest (fast, less accurate below 8 bits): --rounding nearest.
    #[arg(long, conflicts_with = "rounding")]
    fast: bool,
}

impl QuantArgs {
    fn quantization(&self) -> Quantization {
        let rounding = if self.fast || self.rounding == Some(RoundingArg::Nearest) {
            Rounding::Nearest
        } else {
            Rounding::AdaRound(Settings::default())
        };
        Quantization { rounding, bias_correction: !self.no_bias_correction }
    }

    /// The options that round weights, refused for a QDQ model whose own integer weights are kept.
    fn check_given(&self, graph: &Graph) -> Result<()> {
        if graph.keeps_given() && (self.rounding.is_some() || self.fast || self.no_bias_correction) {
            return Err(Error::input(
                "--rounding/--fast/--no-bias-correction: a QDQ model keeps its own integer weights; re-quantize it \
                 with --requantize and --calib to round them again",
            ));
        }
        Ok(())
    }
}

#[derive(Args)]
struct ModelOpts {
    /// The full input shape for models with dynamic dimensions, e.g. 1,3,48,192.
    #[arg(long, value_parser = parse_shape)]
    input_shape: Option<Shape>,
    /// A QDQ model: drop its quantization and quantize its float model anew (needs --calib; widths searched).
    #[arg(long)]
    requantize: bool,
}

impl ModelOpts {
    fn import_options(&self) -> ImportOptions {
        ImportOptions { input_shape: self.input_shape.as_ref().map(|s| s.0.clone()), requantize: self.requantize }
    }
}

/// A comma-separated shape (a newtype, so clap takes it as one value).
#[derive(Clone, Debug)]
struct Shape(Vec<usize>);

fn parse_shape(s: &str) -> std::result::Result<Shape, String> {
    s.split(',')
        .map(|d| d.trim().parse::<usize>().map_err(|_| format!("'{d}' is not a dimension (expected e.g. 1,3,48,192)")))
        .collect::<std::result::Result<_, _>>()
        .map(Shape)
}

#[derive(Args)]
struct InputMapArgs {
    /// Stored values map to the float input as x * scale + offset (default 1).
    #[arg(long)]
    input_scale: Option<f32>,
    /// (default 0)
    #[arg(long, allow_hyphen_values = true)]
    input_offset: Option<f32>,
}

impl InputMapArgs {
    /// The mapping, with `defaults` for what is not given.
    fn or(&self, defaults: InputMap) -> InputMap {
        InputMap {
            scale: self.input_scale.unwrap_or(defaults.scale),
            offset: self.input_offset.unwrap_or(defaults.offset),
        }
    }

    fn map(&self) -> InputMap {
        self.or(InputMap::default())
    }
}

/// The inputs a command runs a compiled model on (`--inputs`, by default the calibration data it was compiled
/// with), at most `limit` of them, quantized: the bytes in storage order and their count.
fn quantized_inputs(
    report: &CompileReport,
    graph: &QGraph,
    inputs: Option<&Path>,
    limit: Option<usize>,
    map: &InputMapArgs,
) -> Result<(Vec<i8>, usize)> {
    if inputs.is_none() && report.calibration.is_empty() {
        return Err(Error::input("the model was compiled without calibration data (a QDQ model): give --inputs"));
    }
    let path = inputs.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(&report.calibration));
    let shape = &graph.tensor(graph.input).shape;
    let map = map.or(InputMap { scale: report.input_scale, offset: report.input_offset });
    let mut samples = ompqc::data::load_samples(&path, shape, map.scale, map.offset)?;
    if let Some(limit) = limit {
        samples = samples.take(limit.min(samples.n));
    }
    Ok((ompqc::interp::quantize_input(graph, &samples)?, samples.n))
}

/// Prints one JSON document, or the text report.
fn print(json: bool, value: &impl Serialize, text: impl FnOnce() -> String) -> Result<()> {
    if json {
        let text = serde_json::to_string_pretty(value).map_err(|e| Error::internal(format!("JSON output: {e}")))?;
        println!("{text}");
    } else {
        print!("{}", text());
    }
    Ok(())
}

/// Progress lines go to stderr, so that reports on stdout stay clean.
fn print_progress(line: &str) {
    eprintln!("{line}");
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own consistency checks (unique argument and group names, valid defaults), which it otherwise runs only
    /// when a command is parsed in a debug build.
    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
