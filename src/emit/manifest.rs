//! What an `ompqc compile` output directory records about itself: report.json (the model, how its widths and
//! calibration came about, every layer's kernel, placement and scratch) and the integer model the code was generated
//! from, which `run` and `report` read back.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ir::quant::QGraph;
use crate::plan::Scratch;

/// The integer model an output directory was compiled from, kept beside the code.
pub const QGRAPH_FILE: &str = "model.qgraph.json";

/// The compile report, report.json.
pub const REPORT_FILE: &str = "report.json";

/// The search behind the widths, when they were searched (its timings left out, so the file is deterministic).
pub const SEARCH_FILE: &str = "search.json";

/// The last `run --profile`: instructions per layer under QEMU.
pub const PROFILE_FILE: &str = "profile.json";

/// The HTML report (`report::html`).
pub const HTML_FILE: &str = "report.html";

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
    /// The kernel that runs the layer (plan::kernels), with its width and any add it computes.
    pub kernel: String,
    /// The add layer this convolution computes a band at a time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fused_add: Option<String>,
    /// Scratch bytes of its kernel: per C variant and for Rust.
    pub scratch: Scratch,
    /// Whether the generated C schedule reports the layer to its profiling hook (`ompqc run --profile`).
    pub profiled: bool,
    /// The SQNR (dB) of the layer's integer output against float on the first calibration samples (`None`: exact,
    /// or not measured: a QDQ model compiled without calibration data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqnr_db: Option<f64>,
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
    /// The C arena (the largest scratch of the kernel variants reserved).
    pub arena_bytes: usize,
    /// The Rust crate's arena (its kernels' scratch only), when Rust was generated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rust_arena_bytes: Option<usize>,
    pub peak_live_bytes: usize,
    /// The RAM budget the arena was planned for, when one applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ram_budget_bytes: Option<usize>,
    /// The target board's RAM, when a RAM budget applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board_ram_bytes: Option<usize>,
    /// How the layers run: "whole tensors", or which run tile by tile.
    #[serde(default)]
    pub memory_schedule: String,
    /// The stage run tile by tile (patch-based execution), when the budget needed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiled_stage: Option<crate::plan::tiling::StageSummary>,
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

impl CompileReport {
    /// The report of the output directory `dir`.
    pub fn load(dir: &Path) -> Result<CompileReport> {
        std::fs::read_to_string(dir.join(REPORT_FILE))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| Error::input(format!("{}: not an `ompqc compile` output directory", dir.display())))
    }

    /// The layers the C schedule reports to the profiling hook, with their node indexes, in order.
    pub fn profiled_layers(&self) -> Vec<(usize, &CompiledLayer)> {
        self.layers.iter().enumerate().filter(|(_, l)| l.profiled).collect()
    }
}

/// The integer model of the output directory `dir`.
pub fn load_qgraph(dir: &Path) -> Result<QGraph> {
    let path = dir.join(QGRAPH_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::input(format!("{}: cannot read ({e}); is this an `ompqc compile` output?", path.display()))
    })?;
    serde_json::from_str(&text).map_err(|e| Error::input(format!("{}: not a compiled model ({e})", path.display())))
}
