//! The compile pipeline after the search: quantize, plan memory, generate C and/or Rust, and gather everything an output
//! directory holds (the code, the reports, the integer model for `ompqc run`).

use crate::emit::{self, Lang, Provenance};
use crate::error::{Error, Result};
use crate::ir::Graph;
use crate::observe::Observations;
use crate::plan::{self, MemoryPlan};
use crate::quantize::{quantize, QuantOptions};
use crate::report::compile::{qgraph_macs, CompileReport};
use crate::run::QGRAPH_FILE;

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
}

pub struct Compilation {
    pub qgraph: crate::ir::quant::QGraph,
    pub plan: MemoryPlan,
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
    let plan = plan::plan(&qgraph);
    let mut files: Vec<(String, Vec<u8>)> = vec![];
    for &lang in langs {
        let sources = match lang {
            Lang::C => emit::c::emit(&qgraph, &plan, name, provenance)?,
            Lang::Rust => emit::rust::emit(&qgraph, &plan, name, provenance)?,
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
        arena_bytes: plan.arena_bytes,
        peak_live_bytes: plan.peak_live_bytes,
        plan_strategy: plan.strategy.to_string(),
        macs: qgraph_macs(&qgraph),
        allocator: origin.allocator.clone(),
        budget_bytes: origin.budget_bytes,
        rounding: origin.rounding.clone(),
        calibration: origin.calibration.clone(),
        input_scale: origin.input_scale,
        input_offset: origin.input_offset,
        layers: CompileReport::layers(&qgraph, &plan),
    };
    files.push(("report.txt".into(), report.to_text().into_bytes()));
    files.push(("report.json".into(), to_json(&report)?));
    files.push((QGRAPH_FILE.into(), to_json(&qgraph)?));
    Ok(Compilation { qgraph, plan, report, files })
}

fn to_json(value: &impl serde::Serialize) -> Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::internal(format!("JSON: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}
