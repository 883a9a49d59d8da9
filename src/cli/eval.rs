use std::path::PathBuf;

use clap::Args;

use super::{print, print_progress, AllocatorArg, BitsArgs, InputMapArgs, ModelOpts, QuantArgs, SearchOpts};
use ompqc::data::load_labels;
use ompqc::pipeline::{self, Loaded, Quantization, GIVEN_ALLOCATOR};
use ompqc::quantize::{quantize, WeightBits};
use ompqc::report::eval::{EvalReport, EvalTable};
use ompqc::search::Allocator;
use ompqc::target::Target;
use ompqc::{measure, Result};

#[derive(Args)]
pub struct EvalArgs {
    model: PathBuf,
    /// Calibration inputs (activation ranges, bias correction); optional for a QDQ model.
    #[arg(long)]
    calib: Option<PathBuf>,
    /// Test inputs.
    #[arg(long)]
    test: PathBuf,
    /// Integer class labels of the test inputs.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Also write the integer model's dequantized outputs on the test inputs to this .npy (float32, N first).
    #[arg(long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    bits: BitsArgs,
    #[command(flatten)]
    search: SearchOpts,
    #[command(flatten)]
    quant: QuantArgs,
    #[command(flatten)]
    model_opts: ModelOpts,
    #[command(flatten)]
    input_map: InputMapArgs,
    #[arg(long)]
    json: bool,
}

/// The integer model at some widths, measured against float on the test set.
struct Evaluator<'a> {
    name: String,
    loaded: &'a Loaded,
    quant: Quantization,
    test: ompqc::data::Samples,
    labels: Option<Vec<i64>>,
    output: Option<PathBuf>,
}

impl Evaluator<'_> {
    fn evaluate(&self, bits: WeightBits) -> Result<EvalReport> {
        let graph = &self.loaded.graph;
        let options = self.loaded.rounded(bits, &self.quant, &print_progress)?;
        let qgraph = quantize(graph, &self.loaded.observations, &options)?;
        let comparison = measure::compare(graph, &qgraph, &self.test, self.labels.as_deref())?;
        if let Some(path) = &self.output {
            let shape: Vec<usize> =
                std::iter::once(self.test.n).chain(graph.output_shape().iter().skip(1).copied()).collect();
            ompqc::data::write_f32(path, &shape, &comparison.quant_outputs)?;
        }
        let mut report = EvalReport::new(&self.name, graph, &qgraph, &comparison, self.loaded.calib.n);
        report.rounding = if graph.keeps_given() { GIVEN_ALLOCATOR } else { self.quant.rounding.name() }.to_string();
        Ok(report)
    }
}

impl EvalArgs {
    pub fn run(self) -> Result<()> {
        let all = self.search.allocator == Some(AllocatorArg::All);
        if all && self.output.is_some() {
            return Err(ompqc::Error::input(
                "--output writes one integer model's outputs: give one --allocator, not all",
            ));
        }
        let (import, map) = (self.model_opts.import_options(), self.input_map.map());
        let loaded = pipeline::load(&self.model, &import, self.calib.as_deref(), map, self.quant.act_range)?;
        self.quant.check_given(&loaded.graph)?;
        let test = map.load(&self.test, &loaded.graph)?;
        loaded.ram_budget(&Target::load(&self.search.target)?, self.search.ram_budget.as_deref())?;
        let labels = self.labels.as_deref().map(|l| load_labels(l, test.n)).transpose()?;
        let fixed = self.bits.fixed(&loaded.graph)?;
        let name = self.model.display().to_string();
        let all = self.search.allocator == Some(AllocatorArg::All);
        if all && self.output.is_some() {
            return Err(ompqc::Error::input(
                "--output writes one integer model's outputs: give one --allocator, not all",
            ));
        }
        let output = self.output.clone();
        let e = Evaluator { name, loaded: &loaded, quant: self.quant.quantization(), test, labels, output };
        if loaded.graph.keeps_given() {
            if self.search.allocator.is_some() {
                return Err(ompqc::Error::input(
                    "--allocator: a QDQ model's widths are its own; re-quantize it with --requantize and --calib to \
                     search widths",
                ));
            }
            let request = self.search.flash_budget.is_some().then(|| self.search.request(&self.quant, Allocator::Auto));
            let widths = loaded.widths(fixed, request.transpose()?.as_ref())?;
            let mut report = e.evaluate(widths.bits.clone())?;
            report.budget_bytes = widths.budget_bytes();
            report.allocator = widths.allocator();
            return print(self.json, &report, || report.to_text());
        }
        if fixed.is_some() || !self.search.asked() {
            let report = e.evaluate(fixed.unwrap_or_else(|| WeightBits::uniform(8)))?;
            return print(self.json, &report, || report.to_text());
        }
        let allocator = if all { Allocator::Auto } else { self.search.one_allocator()? };
        let result = loaded.search(&self.search.request(&self.quant, allocator)?)?;
        if all {
            let reports = result.candidates.iter().map(|p| e.evaluate(p.weight_bits())).collect::<Result<Vec<_>>>()?;
            let table = EvalTable::new(&e.name, &result, &reports);
            return print(self.json, &table, || table.to_text());
        }
        let mut report = e.evaluate(result.plan().weight_bits())?;
        report.budget_bytes = Some(result.budget_bytes);
        report.allocator = Some(result.plan().allocator.name().to_string());
        print(self.json, &report, || report.to_text())
    }
}
