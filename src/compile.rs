//! The compile pipeline after the search: quantize, plan the kernels and memory, generate C and/or Rust, and gather
//! everything an output directory holds (the code, the reports, the integer model for `ompqc run`).

use crate::emit::manifest::{CompileReport, CompiledLayer, QGRAPH_FILE, REPORT_FILE};
use crate::emit::schedule::{schedule, Step};
use crate::emit::{self, Lang, Provenance};
use crate::error::{Error, Result};
use crate::ir::pack::weight_bytes;
use crate::ir::quant::QGraph;
use crate::ir::Graph;
use crate::observe::Observations;
use crate::plan::ram::RamBudget;
use crate::plan::{Kernel, Place, Plan};
use crate::quantize::{quantize, QuantOptions};

/// What the report records about how the widths and the calibration came about.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    pub allocator: Option<String>,
    pub budget_bytes: Option<usize>,
    /// nearest or adaround.
    pub rounding: String,
    pub calibration: String,
    pub input_scale: f32,
    pub input_offset: f32,
    /// The RAM budget the arena must fit, when one applies (the commands always give one).
    pub ram_budget: Option<RamBudget>,
}

pub struct Compilation {
    pub qgraph: QGraph,
    pub plan: Plan,
    pub report: CompileReport,
    /// (path relative to the output directory, contents).
    pub files: Vec<(String, Vec<u8>)>,
}

pub fn compile(
    graph: &Graph,
    obs: &Observations,
    options: &QuantOptions,
    name: &str,
    provenance: &Provenance,
    origin: &Origin,
    langs: &[Lang],
) -> Result<Compilation> {
    emit::check_name(name)?;
    let qgraph = quantize(graph, obs, options)?;
    let plan = Plan::new(&qgraph, origin.ram_budget.as_ref().map(|b| b.bytes), langs.contains(&Lang::Rust))?;
    if let Some(budget) = &origin.ram_budget {
        budget.check(&qgraph, &plan)?;
    }
    let mut files: Vec<(String, Vec<u8>)> = vec![];
    for &lang in langs {
        let sources = match lang {
            Lang::C => emit::c::emit(&qgraph, &plan.kernels, &plan.c, name, provenance)?,
            Lang::Rust => emit::rust::emit(&qgraph, &plan.kernels, &plan.rust, name, provenance)?,
        };
        files.extend(sources.into_iter().map(|(f, text)| (format!("{}/{f}", lang.dir()), text.into_bytes())));
    }
    let weight_bytes = qgraph.nodes.iter().filter_map(|n| n.op.weights()).map(|w| w.data.len()).sum();
    let report = CompileReport {
        name: name.to_string(),
        target: provenance.target.clone(),
        model: provenance.model_file.clone(),
        model_hash: provenance.model_hash.clone(),
        weight_bytes,
        constant_bytes: qgraph.nodes.iter().map(|n| n.op.constant_bytes()).sum(),
        arena_bytes: plan.c.arena_bytes,
        rust_arena_bytes: langs.contains(&Lang::Rust).then_some(plan.rust.arena_bytes),
        peak_live_bytes: plan.c.peak_live_bytes,
        ram_budget_bytes: origin.ram_budget.as_ref().map(|b| b.bytes),
        board_ram_bytes: origin.ram_budget.as_ref().map(|b| b.board_bytes),
        memory_schedule: plan.schedule_name(),
        tiled_stage: plan.stage().map(|s| s.summary(&qgraph, plan.whole_tensor.arena_bytes)),
        plan_strategy: plan.c.strategy.to_string(),
        macs: qgraph.macs(),
        allocator: origin.allocator.clone(),
        budget_bytes: origin.budget_bytes,
        rounding: origin.rounding.clone(),
        calibration: origin.calibration.clone(),
        input_scale: origin.input_scale,
        input_offset: origin.input_offset,
        layers: layers(&qgraph, &plan),
    };
    files.push(("report.txt".into(), report.to_text().into_bytes()));
    files.push((REPORT_FILE.into(), to_json(&report)?));
    files.push((QGRAPH_FILE.into(), to_json(&qgraph)?));
    Ok(Compilation { qgraph, plan, report, files })
}

/// Per layer: what was generated, where its output lives (in the C plan) and which kernel runs it.
fn layers(graph: &QGraph, plan: &Plan) -> Vec<CompiledLayer> {
    let steps = schedule(graph, &plan.kernels, &plan.c);
    graph
        .nodes
        .iter()
        .enumerate()
        .map(|(ix, n)| {
            let w = n.op.weights();
            let (output, arena_offset) = match plan.c.places[n.output] {
                Place::Arena(o) => (format!("arena+{o}"), Some(o)),
                Place::Input => ("input".into(), None),
                Place::Output => ("output".into(), None),
            };
            let choice = &plan.kernels[ix];
            let runs = steps.iter().any(|s: &Step| s.node == ix);
            // A stage run tile by tile is profiled as a whole, at its last layer.
            let tiled = plan.stage().filter(|s| ix < s.end);
            let profiled = choice.kernel != Kernel::Fused && runs && tiled.is_none_or(|s| ix + 1 == s.end);
            // A reshape between the caller's buffers copies its bytes.
            let kernel = match (choice.kernel, tiled) {
                (Kernel::Alias, _) if runs => "copy".into(),
                (_, Some(_)) => format!("{} (tiles)", choice.label()),
                _ => choice.label(),
            };
            CompiledLayer {
                name: n.name.clone(),
                op: n.op.kind().to_string(),
                bits: w.map(|w| w.bits),
                macs: graph.node_macs(ix),
                weight_bytes: w.map_or(0, |w| weight_bytes(w.rows, w.k, w.bits)),
                output,
                arena_offset,
                arena_size: tiled
                    .filter(|s| s.tiled(graph, n.output))
                    .map_or(graph.tensor(n.output).elems(), |s| s.tile_bytes(graph, n.output)),
                kernel,
                fused_add: choice.band.map(|b| graph.nodes[b.add].name.clone()),
                scratch: choice.scratch,
                profiled,
                sqnr_db: None,
            }
        })
        .collect()
}

fn to_json(value: &impl serde::Serialize) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::internal(format!("JSON: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Calibration samples the layers' SQNR is measured on in the report (enough to rank the layers, cheap for any
/// model ompqc compiles).
const SQNR_SAMPLES: usize = 16;

impl Compilation {
    /// Adds search.json (when the widths were searched) and report.html to the files; with the float `graph` and
    /// calibration samples, each layer's SQNR on the first of them goes into report.json and the page.
    pub fn add_report(
        &mut self,
        target: &crate::target::Target,
        search: Option<&crate::search::SearchResult>,
        measured: Option<(&Graph, &crate::data::Samples)>,
    ) -> Result<()> {
        use crate::emit::manifest::{HTML_FILE, SEARCH_FILE};
        if let Some((graph, calib)) = measured.filter(|(_, c)| c.n > 0) {
            let samples = calib.take(SQNR_SAMPLES.min(calib.n));
            let comparison = crate::measure::compare(graph, &self.qgraph, &samples, None)?;
            for (layer, measured) in self.report.layers.iter_mut().zip(&comparison.layers) {
                layer.sqnr_db = measured.sqnr_db;
            }
            let json = to_json(&self.report)?;
            if let Some(file) = self.files.iter_mut().find(|(f, _)| f == REPORT_FILE) {
                file.1 = json;
            }
        }
        let search = search.map(|s| crate::search::SearchResult { timings: vec![], ..s.clone() });
        if let Some(s) = &search {
            let json = serde_json::to_vec_pretty(s).map_err(|e| crate::Error::internal(format!("search.json: {e}")))?;
            self.files.push((SEARCH_FILE.to_string(), json));
        }
        let page = crate::report::html::Page {
            report: &self.report,
            target,
            qgraph: &self.qgraph,
            plan: &self.plan,
            search: search.as_ref(),
            profile: None,
            sizes: None,
        };
        self.files.push((HTML_FILE.to_string(), crate::report::html::render(&page).into_bytes()));
        Ok(())
    }
}
