//! The pipeline `eval`, `search` and `compile` share: load the model and its calibration data, observe it, choose
//! the weight widths (given, or searched for a target), round the weights, then quantize and generate code
//! (compile.rs). Each step is a function of the one before, so a command is a few calls.

use std::path::Path;

use crate::data::{load_samples, Samples};
use crate::error::{Error, Result};
use crate::import::{self, ImportOptions};
use crate::ir::quant::QGraph;
use crate::ir::Graph;
use crate::observe::{observe, Observations, RangeMethod};
use crate::plan::ram::RamBudget;
use crate::plan::Plan;
use crate::quantize::{quantize, QuantOptions, Rounding, WeightBits};
use crate::search::{self, given_fit, Allocator, Budget, GivenFit, SearchOptions, SearchResult};
use crate::target::Target;

/// How stored input values map to the model's float input: x * scale + offset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InputMap {
    pub scale: f32,
    pub offset: f32,
}

impl Default for InputMap {
    fn default() -> Self {
        InputMap { scale: 1.0, offset: 0.0 }
    }
}

impl InputMap {
    /// A .npy file of inputs for `graph`, mapped to floats.
    pub fn load(&self, path: &Path, graph: &Graph) -> Result<Samples> {
        load_samples(path, graph.input_shape(), self.scale, self.offset)
    }
}

/// A model with its calibration data observed: what every later step starts from.
pub struct Loaded {
    pub graph: Graph,
    pub calib: Samples,
    pub observations: Observations,
}

/// Imports `model`, reads the calibration inputs `calib` and observes the float model on them. A QDQ model whose
/// quantization is kept needs no calibration: without `calib` nothing is observed.
pub fn load(
    model: &Path,
    import: &ImportOptions,
    calib: Option<&Path>,
    map: InputMap,
    range: RangeMethod,
) -> Result<Loaded> {
    let graph = import::load(model, import)?;
    let Some(calib) = calib else {
        if !graph.keeps_given() {
            let why = if graph.given.is_some() { " to re-quantize" } else { "" };
            return Err(Error::input(format!("{}: --calib is required{why} (calibration inputs)", model.display())));
        }
        let calib = Samples { n: 0, sample_shape: graph.input_shape().to_vec(), data: vec![] };
        let observations = Observations::none(&graph);
        return Ok(Loaded { graph, calib, observations });
    };
    let calib = map.load(calib, &graph)?;
    let observations = observe(&graph, &calib, range)?;
    Ok(Loaded { graph, calib, observations })
}

/// How weights are quantized besides their widths.
#[derive(Clone, Debug, Default)]
pub struct Quantization {
    pub rounding: Rounding,
    pub bias_correction: bool,
}

impl Quantization {
    /// The quantizer's options for `bits`, before any learned rounding.
    pub fn options(&self, bits: WeightBits) -> QuantOptions {
        QuantOptions { bits, bias_correction: self.bias_correction, ..QuantOptions::default() }
    }
}

/// A width search: the target, its budget, the allocator and the search's settings.
pub struct SearchRequest {
    pub target: Target,
    pub budget: Option<Budget>,
    pub allocator: Allocator,
    pub options: SearchOptions,
}

/// The widths chosen and, when they were searched, the search behind them; for a QDQ model, its own widths and how
/// they fit the budget.
pub struct Widths {
    pub bits: WeightBits,
    pub search: Option<SearchResult>,
    pub given: Option<GivenFit>,
}

pub use crate::ir::given::GIVEN as GIVEN_ALLOCATOR;

impl Widths {
    /// The allocator that chose the widths, when searched ("qdq" when the model gave them).
    pub fn allocator(&self) -> Option<String> {
        match (&self.search, &self.given) {
            (Some(r), _) => Some(r.plan().allocator.name().to_string()),
            (None, Some(_)) => Some(GIVEN_ALLOCATOR.to_string()),
            (None, None) => None,
        }
    }

    pub fn budget_bytes(&self) -> Option<usize> {
        self.search.as_ref().map(|r| r.budget_bytes).or(self.given.map(|g| g.budget_bytes))
    }
}

/// A QDQ model's own widths, per layer.
pub fn given_bits(graph: &Graph) -> WeightBits {
    let layers = graph.given.as_ref().map(|g| g.layers.iter().map(|(n, w)| (n.clone(), w.bits)).collect());
    WeightBits { default: 8, per_layer: layers.unwrap_or_default() }
}

impl Loaded {
    /// Searches the widths for `request`.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResult> {
        if self.graph.keeps_given() {
            return Err(Error::input(
                "a QDQ model's widths are its own: nothing to search; re-quantize it with --requantize and --calib to \
                 search widths",
            ));
        }
        let SearchRequest { target, budget, allocator, options } = request;
        search::search(&self.graph, &self.observations, &self.calib, target, *budget, *allocator, options)
    }

    /// The widths `fixed` gives, or else those the search for `request` chooses.
    /// A QDQ model whose quantization is kept has its own widths: `request` only checks them against its target
    /// and budget.
    pub fn widths(&self, fixed: Option<WeightBits>, request: Option<&SearchRequest>) -> Result<Widths> {
        if self.graph.keeps_given() {
            if fixed.is_some() {
                return Err(Error::input(
                    "--bits/--bits-file: a QDQ model's widths are its own; re-quantize it with --requantize and \
                     --calib to choose others",
                ));
            }
            let given = request.map(|r| given_fit(&self.graph, &r.target, r.budget)).transpose()?;
            return Ok(Widths { bits: given_bits(&self.graph), search: None, given });
        }
        match (fixed, request) {
            (Some(bits), _) => Ok(Widths { bits, search: None, given: None }),
            (None, Some(request)) => {
                let result = self.search(request)?;
                Ok(Widths { bits: result.plan().weight_bits(), search: Some(result), given: None })
            }
            (None, None) => Ok(Widths { bits: WeightBits::uniform(8), search: None, given: None }),
        }
    }

    /// The RAM budget `given` (`--ram-budget`) or the target's default, checked against the model's arena before any
    /// search or rounding work.
    pub fn ram_budget(&self, target: &Target, given: Option<&str>) -> Result<RamBudget> {
        let (budget, qgraph, plan) = self.ram_plan(target, given, false)?;
        budget.check(&qgraph, &plan)?;
        Ok(budget)
    }

    /// The RAM budget and the plan it is checked against: that of the 8-bit model (the arena does not depend on the
    /// weight widths), with the Rust crate's arena too `with_rust`.
    pub fn ram_plan(&self, target: &Target, given: Option<&str>, with_rust: bool) -> Result<(RamBudget, QGraph, Plan)> {
        let io_bytes = self.graph.tensors[self.graph.input].elems() + self.graph.tensors[self.graph.output].elems();
        let budget = RamBudget::new(given, target, io_bytes)?;
        let options = QuantOptions { bits: given_bits(&self.graph), bias_correction: false, ..QuantOptions::default() };
        let qgraph = quantize(&self.graph, &self.observations, &options)?;
        let plan = Plan::new(&qgraph, Some(budget.bytes), with_rust)?;
        Ok((budget, qgraph, plan))
    }

    /// The quantizer's options for `bits`, the weights below 8 bits rounded as `quant` says on the calibration
    /// data; `progress` gets a line per layer rounded.
    pub fn rounded(&self, bits: WeightBits, quant: &Quantization, progress: &dyn Fn(&str)) -> Result<QuantOptions> {
        if self.graph.keeps_given() {
            return Ok(QuantOptions { bits, bias_correction: false, ..QuantOptions::default() });
            // the model's weights
        }
        quant.rounding.apply(&self.graph, &self.observations, &self.calib, quant.options(bits), progress)
    }
}
