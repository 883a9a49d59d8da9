//! The allocators: each states its preference as knapsack values over the problem's items (ompq: c_i * b; size-only:
//! b; sensitivity: minus the measured error; uniform: the largest single width that fits), and `auto` scores the
//! candidates on held-out samples.

use super::problem::{integer_values, Problem};
use super::{lp, Allocator, LayerInfo, Plan, SearchOptions};
use crate::data::Samples;
use crate::error::Result;
use crate::ir::Graph;
use crate::measure::{self, Score};
use crate::observe::Observations;
use crate::quantize::{quantize, QuantOptions, WeightBits};

/// The plan of allocator `a`; ompq also leaves its LP relaxation (fractional widths, optimum) in `lp_result`.
pub fn plan(a: Allocator, problem: &Problem, lp_result: &mut Option<(Vec<f64>, f64)>) -> Result<Plan> {
    let widths = &problem.widths;
    let sens: Vec<Option<Vec<f64>>> = problem.free().map(|l| l.sensitivity.clone()).collect();
    let known_error = |i: usize, w: usize| sens[i].as_ref().map_or(0.0, |e| e[w]);
    match a {
        Allocator::Ompq => {
            let c: Vec<f64> = problem.free().map(|l| l.c.expect("importance computed")).collect();
            let lp_layers: Vec<lp::LpLayer> = problem
                .free()
                .zip(&c)
                .map(|(l, &c)| lp::LpLayer {
                    c,
                    bytes_per_bit: (l.rows * l.k) as f64 / 8.0,
                    min_bits: widths[0] as f64,
                    max_bits: *widths.last().unwrap() as f64,
                })
                .collect();
            let capacity = problem.budget as f64 - problem.pinned_bytes() as f64;
            *lp_result = lp::solve(&lp_layers, capacity);
            let values: Vec<Vec<f64>> = c.iter().map(|c| widths.iter().map(|&b| c * b as f64).collect()).collect();
            let (values, scale) = integer_values(&values);
            problem.knapsack(a, |i, w| values[i][w], known_error, scale)
        }
        Allocator::SizeOnly => problem.knapsack(a, |_, w| widths[w] as i64, known_error, 1.0),
        Allocator::Sensitivity => {
            let errors: Vec<Vec<f64>> = sens.iter().map(|e| e.clone().expect("sensitivity measured")).collect();
            let (values, scale) = integer_values(&errors);
            problem.knapsack(a, |i, w| -values[i][w], known_error, scale)
        }
        Allocator::Uniform => {
            let capacity = problem.budget - problem.pinned_bytes();
            let free: Vec<&LayerInfo> = problem.free().collect();
            let b = *widths
                .iter()
                .rev()
                .find(|&&b| free.iter().map(|l| problem.bytes(l, b)).sum::<usize>() <= capacity)
                .expect("the smallest width fits (checked)");
            Ok(problem.plan(a, &vec![b; free.len()], b as f64 * free.len() as f64, 1))
        }
        Allocator::Auto => unreachable!("auto is not a candidate"),
    }
}

/// Scores every candidate with the integer interpreter on `scoring`. The weights are rounded on the search
/// samples (learned rounding must not see the scoring ones); equal plans are scored once.
pub fn score(
    graph: &Graph,
    obs: &Observations,
    search_set: &Samples,
    scoring: &Samples,
    options: &SearchOptions,
    candidates: &mut [Plan],
) -> Result<()> {
    let mut scored: Vec<(WeightBits, Score)> = Vec::new();
    for plan in candidates {
        let bits = plan.weight_bits();
        if let Some((_, score)) = scored.iter().find(|(b, _)| *b == bits) {
            plan.score = Some(*score);
            continue;
        }
        let name = plan.allocator.name();
        let progress = |line: &str| (options.progress)(&format!("auto, {name} plan: {line}"));
        let quant = QuantOptions { bits: bits.clone(), ..options.quant.clone() };
        let quant = options.rounding.apply(graph, obs, search_set, quant, &progress)?;
        let score = measure::score(graph, &quantize(graph, obs, &quant)?, scoring)?;
        plan.score = Some(score);
        scored.push((bits, score));
    }
    Ok(())
}

/// The scored candidate `auto` keeps: the least output divergence, then the higher agreement, then the first.
pub fn best(candidates: &[Plan]) -> usize {
    let mut chosen = 0;
    for (i, p) in candidates.iter().enumerate() {
        let (s, best) = (p.score.unwrap(), candidates[chosen].score.unwrap());
        if s.divergence < best.divergence || (s.divergence == best.divergence && s.agreement > best.agreement) {
            chosen = i;
        }
    }
    chosen
}
