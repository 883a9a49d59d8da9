//! The OMPQ linear program (docs/SEARCH.md): maximise sum c_i b_i subject to one linear size constraint and box
//! bounds on each b_i, solved with minilp. With one constraint it is a fractional knapsack, so the closed form
//! (fill by value per byte) serves as a check.

/// One layer of the LP: importance `c`, bytes per weight bit (rows * k / 8), and the width range.
#[derive(Clone, Copy, Debug)]
pub struct LpLayer {
    pub c: f64,
    pub bytes_per_bit: f64,
    pub min_bits: f64,
    pub max_bits: f64,
}

/// The LP optimum: fractional widths and the objective; `None` when even the smallest widths exceed `capacity`.
pub fn solve(layers: &[LpLayer], capacity: f64) -> Option<(Vec<f64>, f64)> {
    use minilp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem};
    let mut problem = Problem::new(OptimizationDirection::Maximize);
    let vars: Vec<_> = layers.iter().map(|l| problem.add_var(l.c, (l.min_bits, l.max_bits))).collect();
    let mut size = LinearExpr::empty();
    for (v, l) in vars.iter().zip(layers) {
        size.add(*v, l.bytes_per_bit);
    }
    problem.add_constraint(size, ComparisonOp::Le, capacity);
    let solution = problem.solve().ok()?;
    Some((vars.iter().map(|v| *solution.var_value(*v)).collect(), solution.objective()))
}

/// The same optimum in closed form: every layer at its minimum, then layers raised in decreasing order of value
/// per byte until the capacity is used (at most one ends fractional).
pub fn fractional(layers: &[LpLayer], capacity: f64) -> Option<(Vec<f64>, f64)> {
    let mut bits: Vec<f64> = layers.iter().map(|l| l.min_bits).collect();
    let mut left = capacity - layers.iter().map(|l| l.min_bits * l.bytes_per_bit).sum::<f64>();
    if left < -1e-9 {
        return None;
    }
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by(|&a, &b| (layers[b].c / layers[b].bytes_per_bit).total_cmp(&(layers[a].c / layers[a].bytes_per_bit)));
    for i in order {
        let l = &layers[i];
        let raise = (l.max_bits - l.min_bits).min(left.max(0.0) / l.bytes_per_bit);
        bits[i] += raise;
        left -= raise * l.bytes_per_bit;
    }
    let value = bits.iter().zip(layers).map(|(b, l)| b * l.c).sum();
    Some((bits, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn layers() -> impl Strategy<Value = Vec<LpLayer>> {
        let layer = (0.01f64..1.0, 1usize..5000).prop_map(|(c, params)| LpLayer {
            c,
            bytes_per_bit: params as f64 / 8.0,
            min_bits: 2.0,
            max_bits: 8.0,
        });
        proptest::collection::vec(layer, 1..12)
    }

    proptest! {
        #[test]
        fn minilp_agrees_with_the_closed_form(layers in layers(), fill in 0.0f64..1.2) {
            let min: f64 = layers.iter().map(|l| 2.0 * l.bytes_per_bit).sum();
            let max: f64 = layers.iter().map(|l| 8.0 * l.bytes_per_bit).sum();
            let capacity = min + fill * (max - min);
            let (bits, value) = solve(&layers, capacity).expect("feasible");
            let (_, closed) = fractional(&layers, capacity).unwrap();
            prop_assert!((value - closed).abs() <= 1e-6 * closed.abs().max(1.0), "{} vs {}", value, closed);
            let used: f64 = bits.iter().zip(&layers).map(|(b, l)| b * l.bytes_per_bit).sum();
            prop_assert!(used <= capacity + 1e-6 * capacity);
            prop_assert!(bits.iter().all(|&b| (2.0 - 1e-9..=8.0 + 1e-9).contains(&b)));
        }
    }

    #[test]
    fn infeasible_below_the_minimum() {
        let l = [LpLayer { c: 1.0, bytes_per_bit: 10.0, min_bits: 2.0, max_bits: 8.0 }];
        assert!(fractional(&l, 19.0).is_none());
        assert!(solve(&l, 19.0).is_none());
    }
}
