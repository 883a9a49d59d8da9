//! The HTML report of a compiled model (`compile` writes DIR/report.html, `report DIR --html FILE`): one
//! self-contained page (inline CSS and SVG, a few lines of inline script to sort the layer table, nothing fetched)
//! with the model card, the layer table, the search, the memory, the sizes per target and the profile. The same
//! inputs give the same bytes.

use std::fmt::Write;

use super::charts::{self, SizeBar};
use super::inspect::thousands;
use super::svg::escape;
use super::targets::CrossTargetReport;
use crate::emit::manifest::CompileReport;
use crate::ir::quant::QGraph;
use crate::plan::Plan;
use crate::run::firmware::FirmwareRun;
use crate::search::SearchResult;
use crate::target::Target;

/// What the page shows; the sections without data say how to get it.
pub struct Page<'a> {
    pub report: &'a CompileReport,
    pub target: &'a Target,
    pub qgraph: &'a QGraph,
    pub plan: &'a Plan,
    pub search: Option<&'a SearchResult>,
    pub profile: Option<&'a FirmwareRun>,
    pub sizes: Option<&'a CrossTargetReport>,
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em auto;max-width:1200px;color:#222;padding:0 1em}\
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}\
table{border-collapse:collapse;font-size:.85em}td,th{padding:.2em .6em;border-bottom:1px solid #eee;text-align:left}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4;position:sticky;top:0}\
table.sortable th{cursor:pointer}nav a{margin-right:1em}.figure{overflow-x:auto;margin:1em 0}\
.note{color:#666;font-size:.9em}.name{max-width:16em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}";

/// Sorts the layer table by the clicked column: numbers by their data-v value, text by its content; a second click
/// reverses.
const SCRIPT: &str = "document.querySelectorAll('table.sortable').forEach(function(t){\
t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){\
var b=t.tBodies[0],rows=Array.from(b.rows),up=th.dataset.up!=='1';th.dataset.up=up?'1':'0';\
rows.sort(function(x,y){var a=x.cells[i],c=y.cells[i],p=a.dataset.v,q=c.dataset.v;\
var r=(p!==undefined&&q!==undefined)?(parseFloat(p)-parseFloat(q)):a.textContent.localeCompare(c.textContent);\
return up?r:-r;});rows.forEach(function(r){b.appendChild(r);});});});});";

fn num(v: u64) -> String {
    format!(r#"<td class="n" data-v="{v}">{}</td>"#, thousands(v))
}

fn text(v: &str) -> String {
    format!("<td>{}</td>", escape(v))
}

fn percent(part: usize, whole: usize) -> String {
    format!("{:.1}%", 100.0 * part as f64 / whole.max(1) as f64)
}

pub fn render(page: &Page) -> String {
    let r = page.report;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>ompqc: {name} for {target}</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<h1>{name} for {target}</h1>\n<nav><a href=\"#card\">model</a>\
         <a href=\"#layers\">layers</a><a href=\"#search\">search</a><a href=\"#memory\">memory</a>\
         <a href=\"#sizes\">sizes</a><a href=\"#profile\">profile</a></nav>\n",
        name = escape(&r.name),
        target = escape(&r.target)
    );
    card(&mut html, page);
    layers(&mut html, page);
    search(&mut html, page);
    memory(&mut html, page);
    sizes(&mut html, page);
    profile(&mut html, page);
    let _ = write!(html, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
    html
}

/// Target, widths, flash and RAM against budgets and the board, allocator, rounding, calibration, model hash.
fn card(html: &mut String, page: &Page) {
    let (r, t) = (page.report, page.target);
    let mut widths: Vec<(u8, usize)> = Vec::new();
    for bits in r.layers.iter().filter_map(|l| l.bits) {
        match widths.iter_mut().find(|(b, _)| *b == bits) {
            Some((_, count)) => *count += 1,
            None => widths.push((bits, 1)),
        }
    }
    widths.sort_by_key(|w| std::cmp::Reverse(w.0));
    let widths: Vec<String> = widths.iter().map(|(b, c)| format!("{c} at {b} bits")).collect();
    let budget = r.budget_bytes.map_or("none".to_string(), |b| format!("{} bytes", thousands(b as u64)));
    let ram_budget = r.ram_budget_bytes.map_or("none".to_string(), |b| format!("{} bytes", thousands(b as u64)));
    let rows = [
        ("target", format!("{} ({})", escape(&r.target), escape(&t.description))),
        ("model", format!("{} (sha256 <code id=\"model-hash\">{}</code>)", escape(&r.model), escape(&r.model_hash))),
        ("layers with weights", escape(&widths.join(", "))),
        (
            "weights",
            format!(
                "<span id=\"weight-bytes\">{}</span> bytes ({} with biases, requantization constants and tables); \
                 flash budget {budget}; the board's flash {} bytes ({} of it)",
                thousands(r.weight_bytes as u64),
                thousands(r.constant_bytes as u64),
                thousands(t.flash_bytes as u64),
                percent(r.constant_bytes, t.flash_bytes),
            ),
        ),
        (
            "RAM",
            format!(
                "arena <span id=\"arena-bytes\">{}</span> bytes ({}); RAM budget {ram_budget}; the board's RAM {} bytes",
                thousands(r.arena_bytes as u64),
                escape(&r.memory_schedule),
                thousands(t.ram_bytes as u64)
            ),
        ),
        ("MACs per inference", format!("<span id=\"macs\">{}</span>", thousands(r.macs))),
        ("widths chosen by", escape(&allocator(page))),
        ("rounding", escape(&r.rounding)),
        (
            "calibration",
            if r.calibration.is_empty() { "none (the model's own quantization)".into() } else { escape(&r.calibration) },
        ),
    ];
    html.push_str("<section id=\"card\">\n<h2>Model</h2>\n<table class=\"card\">\n");
    for (k, v) in rows {
        let _ = writeln!(html, "<tr><th>{k}</th><td>{v}</td></tr>");
    }
    html.push_str("</table>\n</section>\n");
}

/// Who chose the widths: the search (`auto` and the plan it kept), the model (QDQ) or `--bits`.
fn allocator(page: &Page) -> String {
    match (page.search, page.report.allocator.as_deref()) {
        (Some(s), Some(a)) if s.candidates.len() > 1 => format!("auto (kept {a})"),
        (_, Some(crate::ir::given::GIVEN)) => "the model (QDQ)".into(),
        (_, Some(a)) => a.to_string(),
        (_, None) => "fixed widths (--bits)".into(),
    }
}

/// One row per layer; instructions and cycles when a profile was kept.
fn layers(html: &mut String, page: &Page) {
    let r = page.report;
    let profiled = page.profile.and_then(|p| p.layers.as_ref());
    let head =
        ["#", "layer", "op", "output", "bits", "MACs", "weight bytes", "SQNR dB", "arena offset", "bytes", "kernel"];
    html.push_str(
        "<section id=\"layers\">\n<h2>Layers</h2>\n<p class=\"note\">Click a column's header to sort by it.</p>\n\
         <div class=\"figure\"><table class=\"sortable\" id=\"layer-table\">\n<thead><tr>",
    );
    for h in head {
        let numeric = matches!(h, "#" | "MACs" | "weight bytes" | "SQNR dB" | "arena offset" | "bytes" | "bits");
        let class = if numeric { " class=\"n\"" } else { "" };
        let _ = write!(html, "<th{class}>{h}</th>");
    }
    if profiled.is_some() {
        html.push_str("<th class=\"n\">instructions</th><th class=\"n\">per MAC</th><th class=\"n\">cycles</th>");
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for (ix, l) in r.layers.iter().enumerate() {
        let shape = &page.qgraph.tensors[page.qgraph.nodes[ix].output].shape;
        let shape = format!("[{}]", shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(","));
        let _ = write!(
            html,
            "<tr>{}<td class=\"name\" title=\"{name}\">{name}</td>{}{}{}{}{}{}{}{}{}",
            num(ix as u64),
            text(&l.op),
            text(&shape),
            l.bits.map_or("<td class=\"n\" data-v=\"0\">-</td>".into(), |b| num(b as u64)),
            num(l.macs),
            num(l.weight_bytes as u64),
            l.sqnr_db.map_or("<td class=\"n\" data-v=\"999\">-</td>".into(), |d| {
                format!("<td class=\"n\" data-v=\"{d:.2}\">{d:.1}</td>")
            }),
            l.arena_offset.map_or(text(&l.output), |o| num(o as u64)),
            num(l.arena_size as u64),
            text(&l.kernel),
            name = escape(&l.name),
        );
        if let Some(counts) = profiled {
            match counts.iter().find(|c| c.name == l.name) {
                Some(c) => {
                    let per_mac = if c.macs > 0 { c.instructions as f64 / c.macs as f64 } else { 0.0 };
                    let _ = write!(
                        html,
                        "{}<td class=\"n\" data-v=\"{per_mac:.3}\">{per_mac:.2}</td>{}",
                        num(c.instructions),
                        c.cycles.map_or("<td class=\"n\" data-v=\"0\">-</td>".into(), num)
                    );
                }
                None => html.push_str("<td></td><td></td><td></td>"),
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// The ORM heat map, the allocation of every allocator and the candidates' scores, when the widths were searched.
fn search(html: &mut String, page: &Page) {
    html.push_str("<section id=\"search\">\n<h2>Search</h2>\n");
    let Some(s) = page.search else {
        let why = match page.report.allocator.as_deref() {
            Some(crate::ir::given::GIVEN) => "The widths are the QDQ model's own: nothing was searched.",
            _ => "The widths were given (--bits or --bits-file): nothing was searched.",
        };
        let _ = writeln!(html, "<p class=\"note\">{why}</p>\n</section>");
        return;
    };
    let chosen = s.plan();
    let who = if s.candidates.len() > 1 { "auto kept" } else { "The search chose" };
    let _ = writeln!(
        html,
        "<p>{who} the <b>{}</b> plan: {} of a budget of {} bytes of weights ({} at 8 bits everywhere).</p>",
        escape(chosen.allocator.name()),
        thousands(chosen.weight_bytes as u64),
        thousands(s.budget_bytes as u64),
        thousands(s.int8_weight_bytes as u64)
    );
    html.push_str(
        "<table id=\"candidates\"><thead><tr><th>allocator</th><th class=\"n\">weight bytes</th>\
         <th class=\"n\">objective</th><th class=\"n\">held-out agreement</th><th class=\"n\">divergence</th>\
         <th></th></tr></thead>\n<tbody>\n",
    );
    for (c, plan) in s.candidates.iter().enumerate() {
        let (agreement, divergence) = plan.score.map_or(("-".to_string(), "-".to_string()), |sc| {
            (format!("{:.2}%", 100.0 * sc.agreement), format!("{:.5}", sc.divergence))
        });
        let _ = writeln!(
            html,
            "<tr>{}{}<td class=\"n\">{:.4}</td><td class=\"n\">{agreement}</td><td class=\"n\">{divergence}</td><td>{}</td></tr>",
            text(plan.allocator.name()),
            num(plan.weight_bytes as u64),
            plan.objective,
            if c == s.chosen { "kept" } else { "" }
        );
    }
    html.push_str(
        "</tbody></table>\n<p class=\"note\">auto keeps the candidate whose integer model agrees best with float on \
         held-out calibration samples (top-1 agreement, then the output divergence).</p>\n",
    );
    let _ = write!(
        html,
        "<h3>ORM (layer-feature similarity)</h3>\n<div class=\"figure\" id=\"orm\">{}</div>\n\
         <h3>Widths per layer</h3>\n<div class=\"figure\" id=\"allocation\">{}</div>\n</section>\n",
        charts::orm_heat_map(s),
        charts::allocation(s)
    );
}

fn memory(html: &mut String, page: &Page) {
    let r = page.report;
    let stage = r.stage_text().map_or(String::new(), |t| format!("<p>{}.</p>\n", escape(&t)));
    let _ = write!(
        html,
        "<section id=\"memory\">\n<h2>Memory</h2>\n{stage}<div class=\"figure\" id=\"memory-chart\">{}</div>\n</section>\n",
        charts::memory(page.qgraph, page.plan, r.ram_budget_bytes)
    );
}

fn sizes(html: &mut String, page: &Page) {
    html.push_str("<section id=\"sizes\">\n<h2>Sizes per target</h2>\n");
    let Some(report) = page.sizes else {
        html.push_str(
            "<p class=\"note\">Not measured yet: <code>ompqc report DIR --html FILE --targets all</code> builds the \
             model with every target's compiler and adds them.</p>\n</section>\n",
        );
        return;
    };
    html.push_str(
        "<table id=\"size-table\"><thead><tr><th>target</th><th class=\"n\">text</th><th class=\"n\">rodata</th>\
         <th class=\"n\">data</th><th class=\"n\">bss</th><th class=\"n\">stack</th><th class=\"n\">flash</th>\
         <th class=\"n\">of</th><th class=\"n\">RAM</th><th class=\"n\">of</th><th>fits</th></tr></thead>\n<tbody>\n",
    );
    let mut bars = Vec::new();
    for row in &report.targets {
        match &row.sizes {
            Some(s) => {
                let _ = writeln!(
                    html,
                    "<tr>{}{}{}{}{}{}{}{}{}{}{}</tr>",
                    text(&row.name),
                    num(s.text),
                    num(s.rodata),
                    num(s.data),
                    num(s.bss),
                    num(s.stack_bytes),
                    num(s.flash_bytes),
                    num(s.flash_capacity),
                    num(s.ram_bytes),
                    num(s.ram_capacity),
                    text(if s.fits { "yes" } else { "NO" })
                );
                bars.push(SizeBar {
                    target: row.name.clone(),
                    flash: s.flash_bytes,
                    flash_capacity: s.flash_capacity,
                    ram: s.ram_bytes,
                    ram_capacity: s.ram_capacity,
                });
            }
            None => {
                let why = row.error.as_deref().unwrap_or("not built");
                let _ = writeln!(html, "<tr>{}<td colspan=\"10\">{}</td></tr>", text(&row.name), escape(why));
            }
        }
    }
    let _ = write!(
        html,
        "</tbody></table>\n<div class=\"figure\" id=\"size-chart\">{}</div>\n</section>\n",
        charts::sizes(&bars)
    );
}

fn profile(html: &mut String, page: &Page) {
    html.push_str("<section id=\"profile\">\n<h2>Profile</h2>\n");
    match page.profile {
        Some(p) => {
            let cycles = p.cycles_estimate.map_or(String::new(), |c| format!(", about {} cycles", thousands(c)));
            let _ = writeln!(
                html,
                "<p>{} under QEMU ({}): {} instructions per inference, {:.2} per MAC{cycles}.</p>",
                escape(&p.target),
                escape(&p.lang),
                thousands(p.instructions_per_inference),
                p.instructions_per_mac
            );
            if let Some(layers) = &p.layers {
                let _ = writeln!(html, "<div class=\"figure\" id=\"profile-chart\">{}</div>", charts::profile(layers));
            }
        }
        None => html.push_str(
            "<p class=\"note\">No profile kept: <code>ompqc run DIR --target T --profile</code> counts the \
             instructions of every layer under QEMU and keeps them in DIR/profile.json.</p>\n",
        ),
    }
    html.push_str("</section>\n");
}

/// The page of the output directory `dir` from what it keeps (report.json, the integer model, search.json and
/// profile.json when present), with `sizes` measured by `report --targets`.
pub fn for_dir(dir: &std::path::Path, sizes: Option<&CrossTargetReport>) -> crate::Result<String> {
    use crate::emit::manifest::{load_qgraph, PROFILE_FILE, SEARCH_FILE};
    let report = CompileReport::load(dir)?;
    let qgraph = load_qgraph(dir)?;
    let target = Target::load(&report.target)?;
    let plan = Plan::new(&qgraph, report.ram_budget_bytes, dir.join("rust").is_dir())?;
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).ok();
    let corrupt = |file: &str, e: serde_json::Error| {
        crate::Error::input(format!("{}: not ompqc's {file} ({e})", dir.join(file).display()))
    };
    let search: Option<SearchResult> =
        read(SEARCH_FILE).map(|t| serde_json::from_str(&t).map_err(|e| corrupt(SEARCH_FILE, e))).transpose()?;
    let profile: Option<FirmwareRun> =
        read(PROFILE_FILE).map(|t| serde_json::from_str(&t).map_err(|e| corrupt(PROFILE_FILE, e))).transpose()?;
    let page = Page {
        report: &report,
        target: &target,
        qgraph: &qgraph,
        plan: &plan,
        search: search.as_ref(),
        profile: profile.as_ref(),
        sizes,
    };
    Ok(render(&page))
}
