//! What every allocator solves: the searchable layers (each at each of the target's widths, sized by the packer's
//! arithmetic), the pins and the budget; the allocators only state values, and the same exact knapsack picks.

use std::collections::BTreeMap;

use super::knapsack::{self, Choice};
use super::{budget, Allocator, Budget, LayerInfo, Pins, Plan};
use crate::error::{Error, Result};
use crate::ir::pack::{channel_constant_bytes, weight_bytes};
use crate::ir::{Graph, Op};
use crate::quantize::LayerRows;
use crate::target::Target;

/// Everything the allocators share: the layers, their sizes, the budget.
pub struct Problem {
    pub layers: Vec<LayerInfo>,
    pub widths: Vec<u8>,
    /// Weight bytes outside the search (per-channel affines at 8 bits).
    pub fixed_bytes: usize,
    pub budget: usize,
    /// The weight bytes with every layer at 8 bits, and the fewest any plan needs.
    pub int8_bytes: usize,
    pub min_bytes: usize,
}

impl Problem {
    /// The searchable layers of `graph` under `budget` for `target` (its flash when no budget is given). A budget
    /// below the smallest plan is an error giving the smallest size and the largest layers.
    pub fn new(graph: &Graph, target: &Target, budget: Option<Budget>, pins: &Pins) -> Result<Problem> {
        let widths = target.widths();
        let layers = layers(graph, pins)?;
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
        Ok(Problem { layers, widths, fixed_bytes: fixed, budget: budget_bytes, int8_bytes: int8, min_bytes })
    }

    pub fn bytes(&self, l: &LayerInfo, bits: u8) -> usize {
        weight_bytes(l.rows, l.k, bits)
    }

    pub fn free(&self) -> impl Iterator<Item = &LayerInfo> {
        self.layers.iter().filter(|l| l.pinned.is_none())
    }

    pub fn pinned_bytes(&self) -> usize {
        self.layers.iter().filter(|l| l.pinned.is_some()).map(|l| self.bytes(l, 8)).sum::<usize>() + self.fixed_bytes
    }

    /// A plan from widths of the free layers (pinned layers at 8).
    pub fn plan(&self, allocator: Allocator, free_bits: &[u8], objective: f64, optimal_plans: u64) -> Plan {
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
    pub fn knapsack(
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

/// A QDQ model's own widths, checked against `target` (every width must be one of its kernels') and against
/// `budget` (the target's flash when none is given): the model's weight bytes and the budget, or an error naming the
/// layer or the bytes at fault. Nothing is searched: the widths are the model's.
pub fn given_fit(graph: &Graph, target: &Target, budget: Option<Budget>) -> Result<GivenFit> {
    let widths = target.widths();
    let layers = layers(graph, &Pins { first: false, last: false, names: vec![] })?;
    let bits = |l: &LayerInfo| graph.given.as_ref().and_then(|g| g.layers.get(&l.name)).map_or(8, |w| w.bits);
    for l in &layers {
        if !widths.contains(&bits(l)) {
            return Err(Error::input(format!(
                "layer '{}' has {}-bit weights in the model, which target '{}' cannot run (its widths: {widths:?})",
                l.name,
                bits(l),
                target.name
            )));
        }
    }
    let fixed = fixed_bytes(graph);
    let int8 = fixed + layers.iter().map(|l| weight_bytes(l.rows, l.k, 8)).sum::<usize>();
    let weight_bytes = fixed + layers.iter().map(|l| weight_bytes(l.rows, l.k, bits(l))).sum::<usize>();
    let budget_bytes = match budget {
        Some(b) => b.bytes(int8),
        None => budget::default_budget(target, layers.iter().map(|l| channel_constant_bytes(l.rows)).sum())?,
    };
    if weight_bytes > budget_bytes {
        return Err(Error::input(format!(
            "--flash-budget: the model's weights take {weight_bytes} bytes at its own widths, above the budget of \
             {budget_bytes} bytes; a QDQ model keeps its widths (re-quantize it with --requantize and --calib to \
             search others)"
        )));
    }
    Ok(GivenFit { weight_bytes, budget_bytes })
}

/// A QDQ model's weight bytes at its own widths, and the budget they fit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GivenFit {
    pub weight_bytes: usize,
    pub budget_bytes: usize,
}

/// Integer knapsack values from real ones: exact ties stay exact, 2^40 steps over the largest magnitude.
pub fn integer_values(v: &[Vec<f64>]) -> (Vec<Vec<i64>>, f64) {
    let max = v.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs()));
    let scale = if max > 0.0 { (1u64 << 40) as f64 / max } else { 1.0 };
    (v.iter().map(|r| r.iter().map(|x| (x * scale).round() as i64).collect()).collect(), scale)
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
