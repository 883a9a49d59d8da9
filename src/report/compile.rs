//! The report of `ompqc compile`: per layer what was generated and where its output lives, and the totals.

use serde::{Deserialize, Serialize};

use super::inspect::thousands;
use crate::ir::quant::{QGraph, QOp};
use crate::plan::{MemoryPlan, Place};
use crate::quantize::pack::weight_bytes;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompiledLayer {
    pub name: String,
    pub op: String,
    pub bits: Option<u8>,
    pub macs: u64,
    pub weight_bytes: usize,
    /// Where the layer's output lives: an arena offset, or the caller's input/output buffer.
    pub output: String,
    pub arena_offset: Option<usize>,
    pub arena_size: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CompileReport {
    pub name: String,
    pub target: String,
    pub model: String,
    pub model_hash: String,
    /// Packed weights (what flash budgets count).
    pub weight_bytes: usize,
    /// All constants: weights, biases, requantization constants, tables.
    pub constant_bytes: usize,
    pub arena_bytes: usize,
    pub peak_live_bytes: usize,
    pub plan_strategy: String,
    pub macs: u64,
    pub allocator: Option<String>,
    pub budget_bytes: Option<usize>,
    /// How weights below 8 bits were rounded: nearest or adaround.
    #[serde(default)]
    pub rounding: String,
    /// The calibration data and input mapping, the defaults of `ompqc run`.
    pub calibration: String,
    pub input_scale: f32,
    pub input_offset: f32,
    pub layers: Vec<CompiledLayer>,
}

/// Multiply-accumulates of one inference of the integer graph.
pub fn qgraph_macs(graph: &QGraph) -> u64 {
    graph.nodes.iter().map(|n| node_macs(graph, n)).sum()
}

/// Multiply-accumulates of one node.
pub fn node_macs(graph: &QGraph, node: &crate::ir::quant::QNode) -> u64 {
    match &node.op {
        QOp::Conv(c) => (graph.tensor(node.output).elems() * c.weights.k) as u64,
        QOp::Dense(d) => (d.weights.rows * d.weights.k) as u64,
        _ => 0,
    }
}

impl CompileReport {
    pub fn layers(graph: &QGraph, plan: &MemoryPlan) -> Vec<CompiledLayer> {
        graph
            .nodes
            .iter()
            .map(|n| {
                let w = n.op.weights();
                let (output, arena_offset) = match plan.places[n.output] {
                    Place::Arena(o) => (format!("arena+{o}"), Some(o)),
                    Place::Input => ("input".into(), None),
                    Place::Output => ("output".into(), None),
                };
                CompiledLayer {
                    name: n.name.clone(),
                    op: n.op.kind().to_string(),
                    bits: w.map(|w| w.bits),
                    macs: node_macs(graph, n),
                    weight_bytes: w.map_or(0, |w| weight_bytes(w.rows, w.k, w.bits)),
                    output,
                    arena_offset,
                    arena_size: graph.tensor(n.output).elems(),
                }
            })
            .collect()
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{} for {}: {} layers, {} MACs per inference\n",
            self.name,
            self.target,
            self.layers.len(),
            thousands(self.macs)
        );
        let name_w = self.layers.iter().map(|l| l.name.len()).max().unwrap_or(5).max(5);
        out.push_str(&format!(
            "{:>3}  {:<name_w$}  {:<13}  {:>4}  {:>12}  {:>12}  {:>12}  {:>10}\n",
            "#", "layer", "op", "bits", "MACs", "weight bytes", "output", "bytes"
        ));
        for (i, l) in self.layers.iter().enumerate() {
            out.push_str(&format!(
                "{i:>3}  {:<name_w$}  {:<13}  {:>4}  {:>12}  {:>12}  {:>12}  {:>10}\n",
                l.name,
                l.op,
                l.bits.map_or("-".into(), |b| b.to_string()),
                thousands(l.macs),
                if l.bits.is_some() { thousands(l.weight_bytes as u64) } else { "-".into() },
                l.output,
                thousands(l.arena_size as u64)
            ));
        }
        out.push_str(&format!(
            "weights {} bytes ({} with biases, requantization constants and tables); arena {} bytes ({}; the \
             peak of live tensors is {} bytes)\n",
            thousands(self.weight_bytes as u64),
            thousands(self.constant_bytes as u64),
            thousands(self.arena_bytes as u64),
            self.plan_strategy,
            thousands(self.peak_live_bytes as u64)
        ));
        if self.layers.iter().any(|l| l.bits.is_some_and(|b| b < 8)) {
            out.push_str(&format!("weights below 8 bits rounded: {}\n", self.rounding));
        }
        out
    }
}
