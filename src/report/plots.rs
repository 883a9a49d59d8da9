//! `search --plot DIR`: the ORM heat map and the per-layer bit allocation; `compile --plot DIR`: the arena's live
//! bytes per layer against the RAM budget. SVG (plotters).

use std::path::Path;

use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::ir::quant::QGraph;
use crate::plan::{Live, MemoryPlan, Owner, Plan};
use crate::search::SearchResult;

fn failed(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("plotting: {e}"))
}

fn create(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::input(format!("{}: cannot create: {e}", dir.display())))
}

pub fn write(dir: &Path, result: &SearchResult) -> Result<()> {
    create(dir)?;
    heat_map(&dir.join("orm.svg"), result).map_err(failed)?;
    allocation(&dir.join("bits.svg"), result).map_err(failed)?;
    Ok(())
}

/// White (0) to dark blue (1).
fn shade(v: f64) -> RGBColor {
    let t = v.clamp(0.0, 1.0);
    let lerp = |a: f64, b: f64| (a + (b - a) * t) as u8;
    RGBColor(lerp(255.0, 8.0), lerp(255.0, 48.0), lerp(255.0, 107.0))
}

fn heat_map(path: &Path, r: &SearchResult) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let n = r.orm.len();
    let root = SVGBackend::new(path, (760, 700)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("ORM (linear CKA) between the {n} layers"), ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(0..n, 0..n)?;
    chart.configure_mesh().disable_mesh().x_desc("layer").y_desc("layer").draw()?;
    chart.draw_series(r.orm.iter().enumerate().flat_map(|(i, row)| {
        row.iter().enumerate().map(move |(j, &v)| Rectangle::new([(j, n - 1 - i), (j + 1, n - i)], shade(v).filled()))
    }))?;
    root.present()?;
    Ok(())
}

fn allocation(path: &Path, r: &SearchResult) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let plan = r.plan();
    let n = r.layers.len();
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{} plan: {} of {} bytes of weights", plan.allocator.name(), plan.weight_bytes, r.budget_bytes),
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(0..n, 0u32..9)?;
    chart.configure_mesh().disable_x_mesh().x_desc("layer (execution order)").y_desc("weight bits").draw()?;
    chart.draw_series(r.layers.iter().enumerate().map(|(i, l)| {
        let bits = plan.bits[&l.name] as u32;
        let color = match bits {
            8 => RGBColor(49, 130, 189),
            4 => RGBColor(253, 174, 107),
            2 => RGBColor(222, 45, 38),
            _ => RGBColor(150, 150, 150),
        };
        Rectangle::new([(i, 0), (i + 1, bits)], color.filled())
    }))?;
    root.present()?;
    Ok(())
}

/// `DIR/memory.svg`: per layer, the arena's live blocks stacked (tensors in blues, tiles of a stage's output in green,
/// kernel scratch in orange), the RAM budget as a line (when it is within twice the arena; the caption gives it
/// anyway) and, when a stage runs tile by tile, the live bytes on whole tensors as grey outlines behind: before and
/// after.
pub fn write_memory(dir: &Path, graph: &QGraph, plan: &Plan, budget: Option<usize>) -> Result<()> {
    create(dir)?;
    memory(&dir.join("memory.svg"), graph, plan, budget).map_err(failed)
}

/// The live blocks (with their index in the plan) at each node's step.
fn live_per_node<'a>(graph: &QGraph, plan: &'a MemoryPlan) -> Vec<Vec<(usize, &'a Live)>> {
    // Node ix runs at step ix + 1.
    let at = |step: usize| plan.live.iter().enumerate().filter(|(_, l)| l.first <= step && step <= l.last).collect();
    (1..=graph.nodes.len()).map(at).collect()
}

fn memory(
    path: &Path,
    graph: &QGraph,
    plan: &Plan,
    budget: Option<usize>,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let n = graph.nodes.len();
    let (after, before) = (&plan.c, plan.stage().map(|_| &plan.whole_tensor));
    let highest = |p: &MemoryPlan| p.peak_live_bytes.max(p.arena_bytes);
    // The budget's line is drawn when it is within twice the arena; a far larger budget would flatten the bars.
    let arena = highest(after).max(before.map_or(0, highest)).max(1);
    let line = budget.filter(|&b| b <= 2 * arena);
    let top = (arena.max(line.unwrap_or(0)) as f64 * 1.15) as usize;
    let root = SVGBackend::new(path, (900, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let budget_text = budget.map_or(String::new(), |b| format!(", RAM budget {b}"));
    let caption = match (plan.stage(), before) {
        (Some(stage), Some(whole)) => format!(
            "live arena bytes per layer: arena {} with {} (grey: {} on whole tensors){budget_text}",
            after.arena_bytes,
            stage.describe(),
            whole.arena_bytes
        ),
        _ => format!("live arena bytes per layer (whole tensors): arena {}{budget_text}", after.arena_bytes),
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0..n, 0..top)?;
    chart.configure_mesh().disable_x_mesh().x_desc("layer (execution order)").y_desc("bytes").draw()?;
    if let Some(whole) = before {
        let outlines = live_per_node(graph, whole).into_iter().enumerate().map(|(ix, blocks)| {
            let bytes: usize = blocks.iter().map(|(_, l)| l.bytes).sum();
            Rectangle::new([(ix, 0), (ix + 1, bytes)], RGBColor(150, 150, 150).stroke_width(1))
        });
        chart.draw_series(outlines.collect::<Vec<_>>())?;
    }
    let blues = [RGBColor(49, 130, 189), RGBColor(107, 174, 214), RGBColor(158, 202, 225), RGBColor(8, 81, 156)];
    let mut bars = vec![];
    for (ix, blocks) in live_per_node(graph, after).into_iter().enumerate() {
        let mut base = 0;
        for (k, live) in blocks {
            let color = match live.owner {
                Owner::Tensor(_) => blues[k % blues.len()],
                Owner::Tile(_) => RGBColor(49, 163, 84),
                Owner::Scratch(_) => RGBColor(253, 141, 60),
            };
            bars.push(Rectangle::new([(ix, base), (ix + 1, base + live.bytes)], color.filled()));
            base += live.bytes;
        }
    }
    chart.draw_series(bars)?;
    if let Some(b) = line {
        chart.draw_series(std::iter::once(PathElement::new(vec![(0, b), (n, b)], RED.stroke_width(2))))?;
    }
    root.present()?;
    Ok(())
}
