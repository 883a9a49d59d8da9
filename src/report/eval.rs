//! The report of `ompqc eval`: accuracy of the integer model against float, and where it is lost.

use crate::ir::given::GIVEN;
use serde::Serialize;

use super::inspect::thousands;
use crate::ir::pack::weight_bytes;
use crate::ir::quant::QGraph;
use crate::ir::Graph;
use crate::measure::Comparison;

#[derive(Serialize, Debug)]
pub struct EvalLayer {
    pub name: String,
    pub op: String,
    /// The weight width, for layers with weights.
    pub bits: Option<u8>,
    pub weight_bytes: usize,
    pub macs: u64,
    pub sqnr_db: Option<f64>,
}

#[derive(Serialize, Debug)]
pub struct EvalReport {
    pub model: String,
    pub samples: usize,
    pub calibration_samples: usize,
    pub float_top1: Option<f64>,
    pub quant_top1: Option<f64>,
    pub agreement: f64,
    pub output_sqnr_db: Option<f64>,
    /// Packed weights of all layers as quantized (what flash budgets count).
    pub weight_bytes: usize,
    /// All constants in flash: packed weights, per-channel biases and requantization constants, tables.
    pub constant_bytes: usize,
    /// The same at 8 bits everywhere.
    pub int8_weight_bytes: usize,
    /// The flash budget the widths were chosen under (none for fixed widths).
    pub budget_bytes: Option<usize>,
    /// The allocator that chose the widths (none for fixed widths).
    pub allocator: Option<String>,
    /// How weights below 8 bits were rounded: nearest or adaround.
    pub rounding: String,
    pub layers: Vec<EvalLayer>,
}

fn db(v: Option<f64>) -> String {
    v.map_or("exact".into(), |v| format!("{v:.1} dB"))
}

fn percent(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{:.2}%", 100.0 * v))
}

impl EvalReport {
    pub fn new(
        model: &str,
        graph: &Graph,
        qgraph: &QGraph,
        cmp: &Comparison,
        calibration_samples: usize,
    ) -> EvalReport {
        let layers: Vec<EvalLayer> = qgraph
            .nodes
            .iter()
            .zip(&cmp.layers)
            .enumerate()
            .map(|(ix, (node, err))| {
                let w = node.op.weights();
                EvalLayer {
                    name: node.name.clone(),
                    op: graph.nodes[ix].op.kind().to_string(),
                    bits: w.map(|w| w.bits),
                    weight_bytes: w.map_or(0, |w| weight_bytes(w.rows, w.k, w.bits)),
                    macs: graph.macs(ix),
                    sqnr_db: err.sqnr_db,
                }
            })
            .collect();
        let int8_weight_bytes =
            qgraph.nodes.iter().filter_map(|n| n.op.weights()).map(|w| weight_bytes(w.rows, w.k, 8)).sum();
        let constant_bytes = qgraph.nodes.iter().map(|n| n.op.constant_bytes()).sum();
        EvalReport {
            model: model.to_string(),
            samples: cmp.samples,
            calibration_samples,
            float_top1: cmp.float_top1,
            quant_top1: cmp.quant_top1,
            agreement: cmp.agreement,
            output_sqnr_db: cmp.output_sqnr_db,
            weight_bytes: layers.iter().map(|l| l.weight_bytes).sum(),
            constant_bytes,
            int8_weight_bytes,
            budget_bytes: None,
            allocator: None,
            rounding: String::new(),
            layers,
        }
    }

    pub fn to_text(&self) -> String {
        let chosen = match (&self.allocator, self.budget_bytes) {
            (Some(a), Some(b)) if a == GIVEN => {
                format!("widths: the QDQ model's own, within the flash budget of {} bytes\n", thousands(b as u64))
            }
            (Some(a), Some(b)) => format!("widths chosen by {a} under a budget of {} bytes\n", thousands(b as u64)),
            _ => String::new(),
        };
        let mut out = chosen
            + &format!(
                "model {}: {} test samples, {} calibration samples\n\
             weights      {} bytes ({:.1}% of the {} bytes at 8 bits, rounded: {}); constants in flash {} bytes\n\
             float top-1  {}{}\nquant top-1  {}\nagreement    {:.2}% of top-1 classes equal float's\noutput SQNR  {}\n\n",
                self.model,
                self.samples,
                self.calibration_samples,
                thousands(self.weight_bytes as u64),
                100.0 * self.weight_bytes as f64 / self.int8_weight_bytes.max(1) as f64,
                thousands(self.int8_weight_bytes as u64),
                self.rounding,
                thousands(self.constant_bytes as u64),
                percent(self.float_top1),
                if self.rounding == GIVEN { " (the QDQ graph in float, as onnxruntime evaluates it)" } else { "" },
                percent(self.quant_top1),
                100.0 * self.agreement,
                db(self.output_sqnr_db),
            );
        let name_w = self.layers.iter().map(|l| l.name.len()).max().unwrap_or(5).max(5);
        out.push_str(&format!(
            "{:>3}  {:<name_w$}  {:<13}  {:>4}  {:>12}  {:>10}\n",
            "#", "layer", "op", "bits", "weight bytes", "SQNR"
        ));
        for (i, l) in self.layers.iter().enumerate() {
            let bits = l.bits.map_or("-".into(), |b| b.to_string());
            let bytes = if l.bits.is_some() { thousands(l.weight_bytes as u64) } else { "-".into() };
            out.push_str(&format!(
                "{i:>3}  {:<name_w$}  {:<13}  {bits:>4}  {bytes:>12}  {:>10}\n",
                l.name,
                l.op,
                db(l.sqnr_db)
            ));
        }
        out
    }
}

/// One row per allocator: `eval --allocator all`.
#[derive(Serialize, Debug)]
pub struct EvalRow {
    pub allocator: String,
    pub weight_bytes: usize,
    pub quant_top1: Option<f64>,
    pub agreement: f64,
    pub output_sqnr_db: Option<f64>,
    /// Whether `auto` keeps this plan.
    pub auto: bool,
}

#[derive(Serialize, Debug)]
pub struct EvalTable {
    pub model: String,
    pub target: String,
    pub budget_bytes: usize,
    pub int8_weight_bytes: usize,
    pub samples: usize,
    pub float_top1: Option<f64>,
    pub allocators: Vec<EvalRow>,
}

impl EvalTable {
    pub fn new(model: &str, result: &crate::search::SearchResult, reports: &[EvalReport]) -> EvalTable {
        EvalTable {
            model: model.to_string(),
            target: result.target.clone(),
            budget_bytes: result.budget_bytes,
            int8_weight_bytes: result.int8_weight_bytes,
            samples: reports.first().map_or(0, |r| r.samples),
            float_top1: reports.first().and_then(|r| r.float_top1),
            allocators: result
                .candidates
                .iter()
                .zip(reports)
                .enumerate()
                .map(|(i, (plan, r))| EvalRow {
                    allocator: plan.allocator.name().to_string(),
                    weight_bytes: r.weight_bytes,
                    quant_top1: r.quant_top1,
                    agreement: r.agreement,
                    output_sqnr_db: r.output_sqnr_db,
                    auto: i == result.chosen,
                })
                .collect(),
        }
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "model {}, target {}: budget {} bytes ({:.1}% of {} at 8 bits), {} test samples, float top-1 {}\n",
            self.model,
            self.target,
            thousands(self.budget_bytes as u64),
            100.0 * self.budget_bytes as f64 / self.int8_weight_bytes.max(1) as f64,
            thousands(self.int8_weight_bytes as u64),
            self.samples,
            percent(self.float_top1)
        );
        out.push_str(&format!(
            "{:<12}  {:>12}  {:>8}  {:>9}  {:>10}\n",
            "allocator", "weight bytes", "top-1", "agreement", "SQNR"
        ));
        for r in &self.allocators {
            out.push_str(&format!(
                "{:<12}  {:>12}  {:>8}  {:>8.2}%  {:>10}{}\n",
                r.allocator,
                thousands(r.weight_bytes as u64),
                percent(r.quant_top1),
                100.0 * r.agreement,
                db(r.output_sqnr_db),
                if r.auto { "  <- auto" } else { "" }
            ));
        }
        out
    }
}
