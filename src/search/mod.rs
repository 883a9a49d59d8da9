//! Choosing each layer's weight width under a target's widths and a flash budget (docs/SEARCH.md).
//! Every allocator states its preference as knapsack values over the same items (the non-pinned layers at each of
//! the target's widths, sized by the packer's own arithmetic) and the same exact solver picks the plan.

pub mod budget;
pub mod knapsack;
pub mod lp;
pub mod orm;
pub mod sensitivity;

use std::collections::BTreeMap;
use std::time::Instant;

use serde::Serialize;

pub use budget::Budget;
pub use orm::Tap;

use crate::data::Samples;
use crate::error::{Error, Result};
use crate::ir::pack::{channel_constant_bytes, weight_bytes};
use crate::ir::{Graph, Op};
use crate::measure::{self, Score, Task};
use crate::observe::Observations;
use crate::quantize::{quantize, LayerRows, QuantOptions, Rounding, WeightBits};
use crate::target::Target;
use knapsack::Choice;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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
#[derive(Clone, Debug, Serialize)]
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

#[derive(Clone, Debug, Serialize)]
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

#[derive(Clone, Debug, Serialize)]
pub struct Timing {
    pub phase: String,
    pub seconds: f64,
}

#[derive(Clone, Debug, Serialize)]
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

/// Everything the allocators share: the layers, their sizes, the budget.
struct Problem {
    layers: Vec<LayerInfo>,
    widths: Vec<u8>,
    fixed_bytes: usize,
    budget: usize,
}

impl Problem {
    fn bytes(&self, l: &LayerInfo, bits: u8) -> usize {
        weight_bytes(l.rows, l.k, bits)
    }

    fn free(&self) -> impl Iterator<Item = &LayerInfo> {
        self.layers.iter().filter(|l| l.pinned.is_none())
    }

    fn pinned_bytes(&self) -> usize {
        self.layers.iter().filter(|l| l.pinned.is_some()).map(|l| self.bytes(l, 8)).sum::<usize>() + self.fixed_bytes
    }

    /// A plan from widths of the free layers (pinned layers at 8).
    fn plan(&self, allocator: Allocator, free_bits: &[u8], objective: f64, optimal_plans: u64) -> Plan {
        let mut bits = BTreeMap::new();
        let mut free = free_bits.iter();
        for l in &self.layers {
            let b = if l.pinned.is_some() { 8 } else { *free.next().expect("one width per free layer") };
            bits.insert(l.name.clone(), b);
        }
        let weight_bytes = self.fixed_bytes + self.layers.iter().map(|l| self.bytes(l, bits[&l.name])).sum::<usize>();
        Plan { allocator, bits, weight_bytes, objective, optimal_plans, score: None }
    }

    /// The knapsack over the free layers with the given integer values per (layer, width) and secondary errors.
    fn knapsack(
        &self,
        allocator: Allocator,
        value: impl Fn(usize, usize) -> i64,
        error: impl Fn(usize, usize) -> f64,
        scale: f64,
    ) -> Result<Plan> {
        let items: Vec<Vec<Choice>> = self
            .free()
            .enumerate()
            .map(|(i, l)| {
                self.widths
                    .iter()
                    .enumerate()
                    .map(|(w, &b)| Choice { bytes: self.bytes(l, b), value: value(i, w), error: error(i, w) })
                    .collect()
            })
            .collect();
        let capacity = self.budget - self.pinned_bytes();
        if knapsack::states(&items, capacity) > knapsack::MAX_STATES {
            return Err(Error::internal(format!(
                "the exact knapsack for {} layers under {capacity} bytes needs more than {} states",
                items.len(),
                knapsack::MAX_STATES
            )));
        }
        let s = knapsack::solve(&items, capacity).ok_or_else(|| Error::internal("no plan fits the checked budget"))?;
        let bits: Vec<u8> = s.picks.iter().map(|&w| self.widths[w]).collect();
        Ok(self.plan(allocator, &bits, s.value as f64 / scale, s.optimal_plans))
    }
}

/// Integer knapsack values from real ones: exact ties stay exact, 2^40 steps over the largest magnitude.
fn integer_values(v: &[Vec<f64>]) -> (Vec<Vec<i64>>, f64) {
    let max = v.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { (1u64 << 40) as f64 / max } else { 1.0 };
    (v.iter().map(|r| r.iter().map(|x| (x * scale).round() as i64).collect()).collect(), scale)
}

fn phase<T>(timings: &mut Vec<Timing>, name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let start = Instant::now();
    let r = f()?;
    timings.push(Timing { phase: name.to_string(), seconds: start.elapsed().as_secs_f64() });
    Ok(r)
}

/// The searchable layers with their pins, checked against the graph's layer names.
fn layers(graph: &Graph, pins: &Pins) -> Result<Vec<LayerInfo>> {
    let searchable: Vec<usize> = (0..graph.nodes.len()).filter(|&i| graph.nodes[i].op.is_searchable()).collect();
    for name in &pins.names {
        if !searchable.iter().any(|&i| graph.nodes[i].name == *name) {
            return Err(Error::input(format!("--pin {name}: not a layer with weights")));
        }
    }
    Ok(searchable
        .iter()
        .enumerate()
        .map(|(pos, &ix)| {
            let node = &graph.nodes[ix];
            let rows = LayerRows::of(&node.op).expect("searchable layers have weights");
            let pinned = if pins.first && pos == 0 {
                Some("first layer")
            } else if pins.last && pos + 1 == searchable.len() {
                Some("last layer")
            } else if pins.names.contains(&node.name) {
                Some("--pin")
            } else {
                None
            };
            LayerInfo {
                node: ix,
                name: node.name.clone(),
                op: node.op.kind().to_string(),
                rows: rows.rows,
                k: rows.k,
                pinned: pinned.map(String::from),
                gamma: None,
                theta: None,
                c: None,
                sensitivity: None,
            }
        })
        .collect())
}

/// Weight bytes of layers outside the search: per-channel affines, quantized as 8-bit 1x1 depthwise convs.
fn fixed_bytes(graph: &Graph) -> usize {
    graph
        .nodes
        .iter()
        .map(|n| match &n.op {
            Op::Affine(a) if a.scale.len() > 1 => weight_bytes(a.scale.len(), 1, 8),
            _ => 0,
        })
        .sum()
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
    let widths = target.widths();
    let mut layers = layers(graph, &options.pins)?;
    let fixed = fixed_bytes(graph);
    let int8 = fixed + layers.iter().map(|l| weight_bytes(l.rows, l.k, 8)).sum::<usize>();
    let budget_bytes = match budget {
        Some(b) => b.bytes(int8),
        None => {
            let constants = layers.iter().map(|l| channel_constant_bytes(l.rows)).sum();
            budget::default_budget(target, constants)?.min(int8)
        }
    };
    let min_bytes = fixed
        + layers
            .iter()
            .map(|l| weight_bytes(l.rows, l.k, if l.pinned.is_some() { 8 } else { widths[0] }))
            .sum::<usize>();
    if budget_bytes < min_bytes {
        let mut largest: Vec<&LayerInfo> = layers.iter().collect();
        largest.sort_by_key(|l| std::cmp::Reverse(weight_bytes(l.rows, l.k, 8)));
        let top: Vec<String> = largest
            .iter()
            .take(3)
            .map(|l| format!("{} ({} bytes at 8 bits)", l.name, weight_bytes(l.rows, l.k, 8)))
            .collect();
        return Err(Error::input(format!(
            "--flash-budget: {budget_bytes} bytes is below the smallest achievable weight size, {min_bytes} bytes \
             ({}-bit weights, pinned layers at 8); the largest layers: {}",
            widths[0],
            top.join(", ")
        )));
    }
    let search_set = calib.take(options.samples.min(calib.n));
    let held_out = Samples {
        n: calib.n - search_set.n,
        sample_shape: calib.sample_shape.clone(),
        data: calib.data[search_set.data.len()..].to_vec(),
    };
    // With nothing held out, `auto` scores on the search samples themselves.
    let scoring = if held_out.n > 0 { held_out } else { search_set.clone() };

    let needs = |a: Allocator| allocator == a || allocator == Allocator::Auto;
    let mut problem = Problem { layers: vec![], widths: widths.clone(), fixed_bytes: fixed, budget: budget_bytes };
    // The ORM is cheap next to the sensitivity pass: every report shows it.
    let taps: Vec<usize> = layers.iter().map(|l| orm::tap_tensor(graph, l.node, options.tap)).collect();
    let grams = phase(&mut timings, "features + Gram matrices", || orm::gram_matrices(graph, &search_set, &taps))?;
    let (orm_matrix, importance) = phase(&mut timings, "ORM + importance", || {
        let m = orm::orm(&grams, search_set.n, options.debiased);
        let importance = orm::importance(&m, options.beta);
        Ok((m, importance))
    })?;
    for (i, l) in layers.iter_mut().enumerate() {
        (l.gamma, l.theta, l.c) = (Some(importance.gamma[i]), Some(importance.theta[i]), Some(importance.c[i]));
    }
    if needs(Allocator::Sensitivity) {
        let free: Vec<usize> = layers.iter().filter(|l| l.pinned.is_none()).map(|l| l.node).collect();
        let errors = phase(&mut timings, "sensitivity", || {
            let bias_correction = options.quant.bias_correction;
            let rounding = &options.rounding;
            sensitivity::measure(graph, obs, &search_set, &free, &widths, bias_correction, rounding, &options.progress)
        })?;
        for (l, e) in layers.iter_mut().filter(|l| l.pinned.is_none()).zip(errors) {
            l.sensitivity = Some(e);
        }
    }
    problem.layers = layers;
    let sens: Vec<Option<Vec<f64>>> = problem.free().map(|l| l.sensitivity.clone()).collect();
    let known_error = |i: usize, w: usize| sens[i].as_ref().map_or(0.0, |e| e[w]);

    let mut lp_result = None;
    let mut candidates = Vec::new();
    let wanted: Vec<Allocator> =
        if allocator == Allocator::Auto { Allocator::CANDIDATES.to_vec() } else { vec![allocator] };
    for a in wanted {
        let plan = phase(&mut timings, &format!("{} plan", a.name()), || match a {
            Allocator::Ompq => {
                let c: Vec<f64> = problem.free().map(|l| l.c.expect("importance computed")).collect();
                let lp_layers: Vec<lp::LpLayer> = problem
                    .free()
                    .zip(&c)
                    .map(|(l, &c)| lp::LpLayer {
                        c,
                        bytes_per_bit: (l.rows * l.k) as f64 / 8.0,
                        min_bits: widths[0] as f64,
                        max_bits: *widths.last().unwrap() as f64,
                    })
                    .collect();
                let capacity = budget_bytes as f64 - problem.pinned_bytes() as f64;
                lp_result = lp::solve(&lp_layers, capacity);
                let values: Vec<Vec<f64>> = c.iter().map(|c| widths.iter().map(|&b| c * b as f64).collect()).collect();
                let (values, scale) = integer_values(&values);
                problem.knapsack(a, |i, w| values[i][w], known_error, scale)
            }
            Allocator::SizeOnly => problem.knapsack(a, |_, w| widths[w] as i64, known_error, 1.0),
            Allocator::Sensitivity => {
                let errors: Vec<Vec<f64>> = sens.iter().map(|e| e.clone().expect("sensitivity measured")).collect();
                let (values, scale) = integer_values(&errors);
                problem.knapsack(a, |i, w| -values[i][w], known_error, scale)
            }
            Allocator::Uniform => {
                let capacity = budget_bytes - problem.pinned_bytes();
                let free: Vec<&LayerInfo> = problem.free().collect();
                let b = *widths
                    .iter()
                    .rev()
                    .find(|&&b| free.iter().map(|l| problem.bytes(l, b)).sum::<usize>() <= capacity)
                    .expect("the smallest width fits (checked)");
                Ok(problem.plan(a, &vec![b; free.len()], b as f64 * free.len() as f64, 1))
            }
            Allocator::Auto => unreachable!("auto is not a candidate"),
        })?;
        candidates.push(plan);
    }
    let mut chosen = 0;
    if allocator == Allocator::Auto {
        phase(&mut timings, "auto: scoring candidates", || {
            // The weights are rounded on the search samples (learned rounding must not see the scoring ones); equal
            // plans are scored once.
            let mut scored: Vec<(WeightBits, Score)> = Vec::new();
            for plan in &mut candidates {
                let bits = plan.weight_bits();
                if let Some((_, score)) = scored.iter().find(|(b, _)| *b == bits) {
                    plan.score = Some(*score);
                    continue;
                }
                let name = plan.allocator.name();
                let progress = |line: &str| (options.progress)(&format!("auto, {name} plan: {line}"));
                let quant = QuantOptions { bits: bits.clone(), ..options.quant.clone() };
                let quant = options.rounding.apply(graph, obs, &search_set, quant, &progress)?;
                let score = measure::score(graph, &quantize(graph, obs, &quant)?, &scoring)?;
                plan.score = Some(score);
                scored.push((bits, score));
            }
            Ok(())
        })?;
        // The least output divergence wins; then the higher agreement; then the candidate order.
        for (i, p) in candidates.iter().enumerate() {
            let (s, best) = (p.score.unwrap(), candidates[chosen].score.unwrap());
            if s.divergence < best.divergence || (s.divergence == best.divergence && s.agreement > best.agreement) {
                chosen = i;
            }
        }
    }
    let Problem { layers, .. } = problem;
    Ok(SearchResult {
        target: target.name.clone(),
        widths,
        budget_bytes,
        int8_weight_bytes: int8,
        min_weight_bytes: min_bytes,
        fixed_bytes: fixed,
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
