//! Choosing each layer's weight width under a target's widths and a flash budget (docs/SEARCH.md).
//! Every allocator states its preference as knapsack values over the same items (the non-pinned layers at each of
//! the target's widths, sized by the packer's own arithmetic) and the same exact solver picks the plan.

mod allocators;
pub mod budget;
pub mod knapsack;
pub mod lp;
pub mod orm;
mod problem;
pub mod sensitivity;

use std::collections::BTreeMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

pub use budget::Budget;
pub use orm::Tap;
pub use problem::{given_fit, GivenFit};

use crate::data::Samples;
use crate::error::{Error, Result};
use crate::ir::Graph;
use crate::measure::{Score, Task};
use crate::observe::Observations;
use crate::quantize::{QuantOptions, Rounding, WeightBits};
use crate::target::Target;
use problem::Problem;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allocator {
    Ompq,
    SizeOnly,
    Uniform,
    Sensitivity,
    Auto,
}

impl Allocator {
    /// The candidates `auto` compares, in tie-breaking order.
    pub const CANDIDATES: [Allocator; 4] =
        [Allocator::Sensitivity, Allocator::Ompq, Allocator::SizeOnly, Allocator::Uniform];

    pub fn name(&self) -> &'static str {
        match self {
            Allocator::Ompq => "ompq",
            Allocator::SizeOnly => "size-only",
            Allocator::Uniform => "uniform",
            Allocator::Sensitivity => "sensitivity",
            Allocator::Auto => "auto",
        }
    }
}

impl std::str::FromStr for Allocator {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        [Allocator::Ompq, Allocator::SizeOnly, Allocator::Uniform, Allocator::Sensitivity, Allocator::Auto]
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| format!("'{s}' is not an allocator (ompq, size-only, uniform, sensitivity, auto)"))
    }
}

/// Which layers stay at 8 bits.
#[derive(Clone, Debug, PartialEq)]
pub struct Pins {
    pub first: bool,
    pub last: bool,
    pub names: Vec<String>,
}

impl Default for Pins {
    fn default() -> Self {
        Pins { first: true, last: true, names: vec![] }
    }
}

impl std::str::FromStr for Pins {
    type Err = String;
    /// `first,last` (the default), `none`, or any mix of `first`, `last` and layer names.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let mut pins = Pins { first: false, last: false, names: vec![] };
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            match item {
                "first" => pins.first = true,
                "last" => pins.last = true,
                "none" => {}
                name => pins.names.push(name.to_string()),
            }
        }
        Ok(pins)
    }
}

#[derive(Clone, Debug)]
pub struct SearchOptions {
    /// Calibration samples for the ORM features and the sensitivity measurement (the rest score `auto`).
    pub samples: usize,
    pub beta: f64,
    pub debiased: bool,
    pub tap: Tap,
    pub pins: Pins,
    pub quant: QuantOptions,
    /// How the sensitivity measurement and `auto`'s scoring round the weights: as the final model will be.
    pub rounding: Rounding,
    /// Gets a line of progress for each layer the learned rounding finishes.
    pub progress: fn(&str),
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            samples: 32,
            beta: 1.0,
            debiased: false,
            tap: Tap::Block,
            pins: Pins::default(),
            quant: QuantOptions::default(),
            rounding: Rounding::Nearest,
            progress: |_| {},
        }
    }
}

/// A searchable layer and what the search computed for it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LayerInfo {
    #[serde(skip)]
    pub node: usize,
    pub name: String,
    pub op: String,
    pub rows: usize,
    pub k: usize,
    /// Why the layer stays at 8 bits, if it does.
    pub pinned: Option<String>,
    pub gamma: Option<f64>,
    pub theta: Option<f64>,
    pub c: Option<f64>,
    /// Output error with only this layer quantized, per target width.
    pub sensitivity: Option<Vec<f64>>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    pub allocator: Allocator,
    /// The width of every searchable layer.
    pub bits: BTreeMap<String, u8>,
    pub weight_bytes: usize,
    /// The knapsack objective in the allocator's own units (sum c_i b_i for ompq, sum b_i for size-only, minus
    /// the summed sensitivity for sensitivity).
    pub objective: f64,
    /// How many plans reach the same objective within the budget (1: the optimum was unique).
    pub optimal_plans: u64,
    /// The candidate's score on the held-out calibration samples (`auto` only).
    pub score: Option<Score>,
}

impl Plan {
    pub fn weight_bits(&self) -> WeightBits {
        WeightBits { default: 8, per_layer: self.bits.clone() }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timing {
    pub phase: String,
    pub seconds: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SearchResult {
    pub target: String,
    pub widths: Vec<u8>,
    pub budget_bytes: usize,
    pub int8_weight_bytes: usize,
    pub min_weight_bytes: usize,
    /// Weight bytes outside the search (per-channel affines at 8 bits).
    pub fixed_bytes: usize,
    pub layers: Vec<LayerInfo>,
    /// CKA between every pair of layers, in layer order.
    pub orm: Vec<Vec<f64>>,
    /// The OMPQ LP relaxation: its optimum (an upper bound of the integer objective) and fractional widths.
    pub lp_objective: Option<f64>,
    pub lp_bits: Option<Vec<f64>>,
    pub candidates: Vec<Plan>,
    /// Index into `candidates` of the plan kept.
    pub chosen: usize,
    pub search_samples: usize,
    /// How the sensitivity measurement and the scoring rounded weights below 8 bits.
    pub rounding: String,
    pub scoring_samples: usize,
    pub task: Task,
    pub timings: Vec<Timing>,
}

impl SearchResult {
    pub fn plan(&self) -> &Plan {
        &self.candidates[self.chosen]
    }
}

fn phase<T>(timings: &mut Vec<Timing>, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let start = Instant::now();
    let r = f()?;
    timings.push(Timing { phase: name.to_string(), seconds: start.elapsed().as_secs_f64() });
    Ok(r)
}

/// Runs the search. `calib` provides the search samples (the first `options.samples`) and the held-out samples
/// that score `auto`'s candidates (the rest).
pub fn search(
    graph: &Graph,
    obs: &Observations,
    calib: &Samples,
    target: &Target,
    budget: Option<Budget>,
    allocator: Allocator,
    options: &SearchOptions,
) -> Result<SearchResult> {
    if calib.n < 2 {
        return Err(Error::input(format!("the search needs at least 2 calibration samples, got {}", calib.n)));
    }
    if options.samples < 2 {
        return Err(Error::input(format!("--samples {}: the search needs at least 2", options.samples)));
    }
    let mut timings = Vec::new();
    let mut problem = Problem::new(graph, target, budget, &options.pins)?;
    let search_set = calib.take(options.samples.min(calib.n));
    let held_out = Samples {
        n: calib.n - search_set.n,
        sample_shape: calib.sample_shape.clone(),
        data: calib.data[search_set.data.len()..].to_vec(),
    };
    // With nothing held out, `auto` scores on the search samples themselves.
    let scoring = if held_out.n > 0 { held_out } else { search_set.clone() };
    let orm_matrix = measure_layers(graph, obs, &search_set, allocator, options, &mut problem, &mut timings)?;

    let mut lp_result = None;
    let mut candidates = Vec::new();
    let wanted: Vec<Allocator> =
        if allocator == Allocator::Auto { Allocator::CANDIDATES.to_vec() } else { vec![allocator] };
    for a in wanted {
        let plan =
            phase(&mut timings, &format!("{} plan", a.name()), || allocators::plan(a, &problem, &mut lp_result))?;
        candidates.push(plan);
    }
    let mut chosen = 0;
    if allocator == Allocator::Auto {
        phase(&mut timings, "auto: scoring candidates", || {
            allocators::score(graph, obs, &search_set, &scoring, options, &mut candidates)
        })?;
        chosen = allocators::best(&candidates);
    }
    let Problem { layers, widths, fixed_bytes, budget, int8_bytes, min_bytes } = problem;
    Ok(SearchResult {
        target: target.name.clone(),
        widths,
        budget_bytes: budget,
        int8_weight_bytes: int8_bytes,
        min_weight_bytes: min_bytes,
        fixed_bytes,
        layers,
        orm: orm_matrix,
        lp_objective: lp_result.as_ref().map(|r| r.1),
        lp_bits: lp_result.map(|r| r.0),
        candidates,
        chosen,
        search_samples: search_set.n,
        rounding: options.rounding.name().to_string(),
        scoring_samples: if allocator == Allocator::Auto { scoring.n } else { 0 },
        task: Task::of(graph),
        timings,
    })
}

/// OMPQ's numbers for every layer (the ORM is cheap next to the sensitivity pass: every report shows it) and, when
/// `allocator` needs them, the measured sensitivities of the free layers. Returns the ORM.
fn measure_layers(
    graph: &Graph,
    obs: &Observations,
    search_set: &Samples,
    allocator: Allocator,
    options: &SearchOptions,
    problem: &mut Problem,
    timings: &mut Vec<Timing>,
) -> Result<Vec<Vec<f64>>> {
    let layers = &mut problem.layers;
    let taps: Vec<usize> = layers.iter().map(|l| orm::tap_tensor(graph, l.node, options.tap)).collect();
    let grams = phase(timings, "features + Gram matrices", || orm::gram_matrices(graph, search_set, &taps))?;
    let (orm_matrix, importance) = phase(timings, "ORM + importance", || {
        let m = orm::orm(&grams, search_set.n, options.debiased);
        let importance = orm::importance(&m, options.beta);
        Ok((m, importance))
    })?;
    for (i, l) in layers.iter_mut().enumerate() {
        (l.gamma, l.theta, l.c) = (Some(importance.gamma[i]), Some(importance.theta[i]), Some(importance.c[i]));
    }
    if allocator == Allocator::Sensitivity || allocator == Allocator::Auto {
        let free: Vec<usize> = layers.iter().filter(|l| l.pinned.is_none()).map(|l| l.node).collect();
        let widths = &problem.widths;
        let errors = phase(timings, "sensitivity", || {
            let bias_correction = options.quant.bias_correction;
            let rounding = &options.rounding;
            sensitivity::measure(graph, obs, search_set, &free, widths, bias_correction, rounding, &options.progress)
        })?;
        for (l, e) in layers.iter_mut().filter(|l| l.pinned.is_none()).zip(errors) {
            l.sensitivity = Some(e);
        }
    }
    Ok(orm_matrix)
}
