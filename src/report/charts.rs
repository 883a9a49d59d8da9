//! The pictures of `search --plot`, `compile --plot` and the HTML report, as SVG text: the ORM heat map, the bit
//! allocation of every allocator, the arena's live bytes per layer, sizes per target and instructions per layer.
//! Layer names are shortened on the axes and given whole on hover; charts stay readable at 60+ layers.

use super::inspect::thousands;
use super::svg::{sequential, short_names, width_colour, Svg};
use crate::ir::quant::QGraph;
use crate::plan::{Live, MemoryPlan, Owner, Plan};
use crate::run::firmware::LayerCount;
use crate::search::SearchResult;

const FONT: f64 = 11.0;
const LABEL_CHARS: usize = 26;
/// Room for a shortened layer name.
const LABEL_WIDTH: f64 = 170.0;

/// The ORM heat map: CKA between every pair of layers, layer 0 at the top left, names on both axes, a colour bar
/// from the smallest value to 1, every value on hover.
pub fn orm_heat_map(r: &SearchResult) -> String {
    let n = r.orm.len();
    let names: Vec<&str> = r.layers.iter().map(|l| l.name.as_str()).collect();
    let labels = short_names(&names, LABEL_CHARS);
    let cell = (600.0 / n.max(1) as f64).clamp(9.0, 32.0);
    // Rotated by 60 degrees, neighbouring column labels lie 0.87 cell apart.
    let font = (cell * 0.85).min(FONT);
    let (left, top) = (LABEL_WIDTH, 170.0);
    let lo = r.orm.iter().flatten().copied().filter(|v| v.is_finite()).fold(1.0f64, f64::min);
    let lo = (lo * 20.0).floor() / 20.0; // to a multiple of 0.05
    let span = (1.0 - lo).max(1e-9);
    let side = cell * n as f64;
    let mut svg = Svg::new((left + side + 90.0).max(480.0), top + side + 30.0);
    svg.text((4.0, 16.0), &format!("ORM: linear CKA between the outputs of the {n} layers"), 13.0, "start", 0.0, None);
    for (i, row) in r.orm.iter().enumerate() {
        let y = top + i as f64 * cell;
        svg.text((left - 4.0, y + cell / 2.0 + font / 3.0), &labels[i], font, "end", 0.0, Some(names[i]));
        let x = left + i as f64 * cell + cell / 2.0;
        svg.text((x + font / 3.0, top - 4.0), &labels[i], font, "start", -60.0, Some(names[i]));
        for (j, &v) in row.iter().enumerate() {
            let hover = format!("{} × {}: {v:.3}", names[i], names[j]);
            svg.rect(left + j as f64 * cell, y, cell, cell, &sequential((v - lo) / span), Some(&hover));
        }
    }
    // The colour bar.
    let (bar_x, steps) = (left + side + 16.0, 40);
    for s in 0..steps {
        let t = 1.0 - s as f64 / steps as f64;
        svg.rect(bar_x, top + side * s as f64 / steps as f64, 14.0, side / steps as f64 + 0.5, &sequential(t), None);
    }
    for (t, y) in [(1.0, top), (0.5, top + side / 2.0), (0.0, top + side)] {
        svg.text((bar_x + 18.0, y + 4.0), &format!("{:.2}", lo + t * span), FONT, "start", 0.0, None);
    }
    svg.finish("ORM heat map")
}

/// The widths of every allocator side by side, one row per layer: a bar per allocator (length and colour by
/// width, bytes on hover), the layer's bytes at 8 bits and its measured sensitivity; each allocator's total
/// against the budget at the bottom, the plan kept marked.
pub fn allocation(r: &SearchResult) -> String {
    let n = r.layers.len();
    let columns = r.candidates.len();
    let (row, col) = (14.0, 96.0);
    let (left, top) = (LABEL_WIDTH, 48.0);
    let sens_x = left + columns as f64 * col + 70.0;
    let totals_y = top + n as f64 * row + 16.0;
    let mut svg = Svg::new(sens_x + 130.0, totals_y + 36.0 * columns as f64 + 20.0);
    svg.text(
        (4.0, 16.0),
        &format!("weight widths per layer; budget {} bytes", thousands(r.budget_bytes as u64)),
        13.0,
        "start",
        0.0,
        None,
    );
    for (c, plan) in r.candidates.iter().enumerate() {
        let kept = if c == r.chosen { " (kept)" } else { "" };
        svg.text(
            (left + c as f64 * col + 4.0, top - 8.0),
            &format!("{}{kept}", plan.allocator.name()),
            FONT,
            "start",
            0.0,
            None,
        );
    }
    svg.text((sens_x - 62.0, top - 8.0), "8-bit bytes", FONT, "start", 0.0, None);
    svg.text((sens_x + 4.0, top - 8.0), "sensitivity", FONT, "start", 0.0, None);
    let lowest = r.widths.first().copied().unwrap_or(8);
    let worst = r
        .layers
        .iter()
        .filter_map(|l| l.sensitivity.as_ref().and_then(|s| s.first().copied()))
        .fold(0.0f64, f64::max)
        .max(1e-30);
    let names: Vec<&str> = r.layers.iter().map(|l| l.name.as_str()).collect();
    let labels = short_names(&names, LABEL_CHARS);
    for (i, l) in r.layers.iter().enumerate() {
        let y = top + i as f64 * row;
        svg.text((left - 4.0, y + row - 3.0), &labels[i], FONT, "end", 0.0, Some(&l.name));
        for (c, plan) in r.candidates.iter().enumerate() {
            let bits = plan.bits.get(&l.name).copied().unwrap_or(8);
            let bytes = crate::ir::pack::weight_bytes(l.rows, l.k, bits);
            let hover =
                format!("{}: {} at {bits} bits, {} bytes", plan.allocator.name(), l.name, thousands(bytes as u64));
            let x = left + c as f64 * col + 4.0;
            svg.rect(x, y + 1.0, (col - 12.0) * bits as f64 / 8.0, row - 2.0, width_colour(bits), Some(&hover));
            svg.text((x + 2.0, y + row - 3.0), &bits.to_string(), FONT - 1.0, "start", 0.0, None);
        }
        let int8 = crate::ir::pack::weight_bytes(l.rows, l.k, 8);
        svg.text((sens_x - 8.0, y + row - 3.0), &thousands(int8 as u64), FONT - 1.0, "end", 0.0, None);
        if let Some(s) = l.sensitivity.as_ref().and_then(|s| s.first()) {
            let hover = format!("{}: output error {s:.3e} with only this layer at {lowest} bits", l.name);
            svg.rect(sens_x + 4.0, y + 2.0, 110.0 * s / worst, row - 4.0, "#756bb1", Some(&hover));
        } else if let Some(why) = &l.pinned {
            svg.text((sens_x + 4.0, y + row - 3.0), &format!("8 bits: {why}"), FONT - 1.0, "start", 0.0, None);
        }
    }
    // Each allocator's weight bytes against the budget.
    let scale = (col * columns as f64 + 60.0) / (r.budget_bytes.max(1) as f64 * 1.1);
    for (c, plan) in r.candidates.iter().enumerate() {
        let y = totals_y + 36.0 * c as f64;
        let score = plan.score.map_or(String::new(), |s| {
            format!("; held-out agreement {:.2}%, divergence {:.4}", 100.0 * s.agreement, s.divergence)
        });
        let label = format!("{}: {} bytes{score}", plan.allocator.name(), thousands(plan.weight_bytes as u64));
        svg.text((left, y + 11.0), &label, FONT, "start", 0.0, None);
        svg.rect(
            left,
            y + 15.0,
            plan.weight_bytes as f64 * scale,
            12.0,
            if c == r.chosen { "#31a354" } else { "#bdbdbd" },
            Some(&label),
        );
        let b = left + r.budget_bytes as f64 * scale;
        svg.line((b, y + 13.0), (b, y + 29.0), "#de2d26", false, Some("the budget"));
    }
    svg.finish("bit allocation of every allocator")
}

/// The live blocks (with their index in the plan) at each node's step.
fn live_per_node(nodes: usize, plan: &MemoryPlan) -> Vec<Vec<(usize, &Live)>> {
    // Node ix runs at step ix + 1.
    let at = |step: usize| plan.live.iter().enumerate().filter(|(_, l)| l.first <= step && step <= l.last).collect();
    (1..=nodes).map(at).collect()
}

/// The arena's live bytes per layer, stacked by block (tensors in blues, a tiled stage's output tile in green,
/// kernel scratch in orange; each block named on hover), the RAM budget as a dashed line when it is within twice
/// the arena, and, when a stage runs tile by tile, the live bytes on whole tensors as grey outlines.
pub fn memory(graph: &QGraph, plan: &Plan, budget: Option<usize>) -> String {
    let n = graph.nodes.len();
    let (after, before) = (&plan.c, plan.stage().map(|_| &plan.whole_tensor));
    let highest = |p: &MemoryPlan| p.peak_live_bytes.max(p.arena_bytes);
    let arena = highest(after).max(before.map_or(0, highest)).max(1);
    let line = budget.filter(|&b| b <= 2 * arena);
    let top_bytes = arena.max(line.unwrap_or(0)) as f64 * 1.1;
    let bar = (760.0 / n.max(1) as f64).clamp(6.0, 28.0);
    let (left, top, height) = (70.0, 30.0, 260.0);
    let mut svg = Svg::new((left + bar * n as f64 + 20.0).max(820.0), top + height + 130.0);
    let y_of = |bytes: f64| top + height - height * bytes / top_bytes;
    let budget_text = budget.map_or(String::new(), |b| format!(", RAM budget {}", thousands(b as u64)));
    let caption = match (plan.stage(), before) {
        (Some(stage), Some(whole)) => format!(
            "live arena bytes per layer: arena {} with {} (grey: {} on whole tensors){budget_text}",
            thousands(after.arena_bytes as u64),
            stage.describe(),
            thousands(whole.arena_bytes as u64)
        ),
        _ => format!("live arena bytes per layer: arena {}{budget_text}", thousands(after.arena_bytes as u64)),
    };
    svg.text((4.0, 16.0), &caption, 12.0, "start", 0.0, None);
    for t in [0.0, 0.5, 1.0] {
        let bytes = top_bytes / 1.1 * t;
        svg.text((left - 4.0, y_of(bytes) + 4.0), &thousands(bytes.round() as u64), FONT - 1.0, "end", 0.0, None);
        svg.line((left, y_of(bytes)), (left + bar * n as f64, y_of(bytes)), "#eeeeee", false, None);
    }
    if let Some(whole) = before {
        for (ix, blocks) in live_per_node(n, whole).into_iter().enumerate() {
            let bytes: usize = blocks.iter().map(|(_, l)| l.bytes).sum();
            svg.outline(
                left + ix as f64 * bar,
                y_of(bytes as f64),
                bar,
                height - (y_of(bytes as f64) - top),
                "#969696",
            );
        }
    }
    let blues = ["#3182bd", "#6baed6", "#9ecae1", "#08519c"];
    let owner = |o: &Owner| match *o {
        Owner::Tensor(t) => format!("tensor {}", graph.tensors[t].name),
        Owner::Tile(t) => format!("a tile of {}", graph.tensors[t].name),
        Owner::Scratch(node) => format!("scratch of {}", graph.nodes[node].name),
    };
    let names: Vec<&str> = graph.nodes.iter().map(|node| node.name.as_str()).collect();
    let labels = short_names(&names, LABEL_CHARS);
    for (ix, blocks) in live_per_node(n, after).into_iter().enumerate() {
        let x = left + ix as f64 * bar;
        let mut base = 0usize;
        for (k, live) in blocks {
            let colour = match live.owner {
                Owner::Tensor(_) => blues[k % blues.len()],
                Owner::Tile(_) => "#31a354",
                Owner::Scratch(_) => "#fd8d3c",
            };
            let (y0, y1) = (y_of(base as f64), y_of((base + live.bytes) as f64));
            let hover =
                format!("{}: {}, {} bytes", graph.nodes[ix].name, owner(&live.owner), thousands(live.bytes as u64));
            svg.rect(x, y1, bar - 1.0, y0 - y1, colour, Some(&hover));
            base += live.bytes;
        }
        // Every layer is labelled when the bars are wide enough, else every second or third.
        let every = (12.0 / bar).ceil() as usize;
        if ix % every.max(1) == 0 {
            let name = &graph.nodes[ix].name;
            svg.text((x + bar / 2.0 + 3.0, top + height + 8.0), &labels[ix], FONT - 1.0, "end", -60.0, Some(name));
        }
    }
    if let Some(b) = line {
        let y = y_of(b as f64);
        svg.line(
            (left, y),
            (left + bar * n as f64, y),
            "#de2d26",
            true,
            Some(&format!("RAM budget {} bytes", thousands(b as u64))),
        );
    }
    svg.finish("arena bytes per layer")
}

/// One row per target: flash and RAM used against the board's capacity.
pub struct SizeBar {
    pub target: String,
    pub flash: u64,
    pub flash_capacity: u64,
    pub ram: u64,
    pub ram_capacity: u64,
}

/// Flash and RAM per target as bars against each board's capacity (the full bar).
pub fn sizes(rows: &[SizeBar]) -> String {
    let (left, width, row) = (110.0, 300.0, 40.0);
    let mut svg = Svg::new(left + 2.0 * (width + 40.0), 30.0 + row * rows.len() as f64);
    svg.text((left, 14.0), "flash (of the board's)", FONT, "start", 0.0, None);
    svg.text((left + width + 40.0, 14.0), "RAM (of the board's)", FONT, "start", 0.0, None);
    for (i, r) in rows.iter().enumerate() {
        let y = 22.0 + row * i as f64;
        svg.text((left - 6.0, y + 14.0), &r.target, FONT, "end", 0.0, None);
        for (k, (used, capacity)) in [(r.flash, r.flash_capacity), (r.ram, r.ram_capacity)].into_iter().enumerate() {
            let x = left + k as f64 * (width + 40.0);
            let share = used as f64 / capacity.max(1) as f64;
            let hover =
                format!("{}: {} of {} bytes ({:.1}%)", r.target, thousands(used), thousands(capacity), 100.0 * share);
            svg.rect(x, y, width, 18.0, "#eeeeee", None);
            svg.rect(x, y, width * share.min(1.0), 18.0, if share > 1.0 { "#de2d26" } else { "#3182bd" }, Some(&hover));
            svg.text(
                (x + 4.0, y + 32.0),
                &format!("{} ({:.1}%)", thousands(used), 100.0 * share),
                FONT - 1.0,
                "start",
                0.0,
                None,
            );
        }
    }
    svg.finish("sizes per target")
}

/// Instructions per layer as horizontal bars, with instructions per MAC.
pub fn profile(layers: &[LayerCount]) -> String {
    let (left, width, row) = (LABEL_WIDTH, 420.0, 15.0);
    let most = layers.iter().map(|l| l.instructions).max().unwrap_or(1).max(1) as f64;
    let mut svg = Svg::new(left + width + 170.0, 10.0 + row * layers.len() as f64);
    let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    let labels = short_names(&names, LABEL_CHARS);
    for (i, l) in layers.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        svg.text((left - 4.0, y + row - 4.0), &labels[i], FONT, "end", 0.0, Some(&l.name));
        let per_mac =
            if l.macs > 0 { format!(", {:.2}/MAC", l.instructions as f64 / l.macs as f64) } else { String::new() };
        let label = format!("{}{per_mac}", thousands(l.instructions));
        let hover = format!("{} ({}, {}): {label}", l.name, l.op, l.kernel);
        svg.rect(left, y + 1.0, width * l.instructions as f64 / most, row - 3.0, "#3182bd", Some(&hover));
        svg.text(
            (left + width * l.instructions as f64 / most + 4.0, y + row - 4.0),
            &label,
            FONT - 1.0,
            "start",
            0.0,
            None,
        );
    }
    svg.finish("instructions per layer")
}
