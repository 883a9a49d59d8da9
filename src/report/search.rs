//! The report of `ompqc search`: per layer what the search computed and chose, the plans compared, the timings.

use super::inspect::thousands;
use crate::search::SearchResult;

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.digits$}"))
}

pub fn to_text(model: &str, r: &SearchResult) -> String {
    let plan = r.plan();
    let mut out = format!(
        "model {model}, target {} (widths {:?}): budget {} bytes of weights ({:.1}% of {} at 8 bits; at least {})\n",
        r.target,
        r.widths,
        thousands(r.budget_bytes as u64),
        100.0 * r.budget_bytes as f64 / r.int8_weight_bytes.max(1) as f64,
        thousands(r.int8_weight_bytes as u64),
        thousands(r.min_weight_bytes as u64),
    );
    out.push_str(&format!(
        "{} search samples; task {:?}; weights below 8 bits rounded: {}{}\n\n",
        r.search_samples,
        r.task,
        r.rounding,
        if r.scoring_samples > 0 {
            format!("; {} held-out samples score the candidates", r.scoring_samples)
        } else {
            String::new()
        }
    ));
    let name_w = r.layers.iter().map(|l| l.name.len()).max().unwrap_or(5).max(5);
    let sens_head: Vec<String> = r.widths.iter().map(|b| format!("err@{b}")).collect();
    out.push_str(&format!(
        "{:>3}  {:<name_w$}  {:<13}  {:>7}  {:>7}  {:>7}  {}  {:>4}  {:>10}  {}\n",
        "#",
        "layer",
        "op",
        "gamma",
        "theta",
        "c",
        sens_head.iter().map(|h| format!("{h:>9}")).collect::<Vec<_>>().join("  "),
        "bits",
        "bytes",
        "pinned"
    ));
    for (i, l) in r.layers.iter().enumerate() {
        let bits = plan.bits[&l.name];
        let sens: Vec<String> = match &l.sensitivity {
            Some(s) => s.iter().map(|e| format!("{e:>9.2e}")).collect(),
            None => r.widths.iter().map(|_| format!("{:>9}", "-")).collect(),
        };
        out.push_str(&format!(
            "{i:>3}  {:<name_w$}  {:<13}  {:>7}  {:>7}  {:>7}  {}  {bits:>4}  {:>10}  {}\n",
            l.name,
            l.op,
            opt(l.gamma, 3),
            opt(l.theta, 3),
            opt(l.c, 3),
            sens.join("  "),
            thousands(crate::ir::pack::weight_bytes(l.rows, l.k, bits) as u64),
            l.pinned.as_deref().unwrap_or(""),
        ));
    }
    out.push('\n');
    if let Some(lp) = r.lp_objective {
        let ompq = r.candidates.iter().find(|p| p.allocator == crate::search::Allocator::Ompq);
        out.push_str(&format!(
            "OMPQ LP relaxation: objective {lp:.4} (sum c_i b_i); the integer plan reaches {}\n",
            opt(ompq.map(|p| p.objective), 4)
        ));
    }
    out.push_str(&format!(
        "{:<12}  {:>12}  {:>10}  {:>13}  {:>10}  {:>10}\n",
        "plan", "weight bytes", "objective", "optimal plans", "agreement", "divergence"
    ));
    for (i, p) in r.candidates.iter().enumerate() {
        out.push_str(&format!(
            "{:<12}  {:>12}  {:>10.4}  {:>13}  {:>10}  {:>10}{}\n",
            p.allocator.name(),
            thousands(p.weight_bytes as u64),
            p.objective,
            p.optimal_plans,
            p.score.map_or("-".into(), |s| format!("{:.2}%", 100.0 * s.agreement)),
            p.score.map_or("-".into(), |s| format!("{:.3e}", s.divergence)),
            if r.candidates.len() > 1 && i == r.chosen { "  <- kept" } else { "" },
        ));
    }
    if plan.optimal_plans > 1 {
        out.push_str(&format!(
            "the {} optimum is not unique ({} plans); kept the one using the most budget, then the least measured error\n",
            plan.allocator.name(),
            plan.optimal_plans
        ));
    }
    out.push_str("\ntime: ");
    out.push_str(&r.timings.iter().map(|t| format!("{} {:.2} s", t.phase, t.seconds)).collect::<Vec<_>>().join(", "));
    out.push('\n');
    out
}
