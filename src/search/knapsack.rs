//! The exact multiple-choice knapsack: one option per item (a layer's weight width), maximise the summed value
//! under a byte capacity. Dynamic programming over the bytes above each item's smallest option, in units of their
//! greatest common divisor. Ties, which are common (equal layers, equal coefficients), go to the plan that uses
//! more of the budget, then to the smaller known error, then to the earlier option order; the number of optimal
//! plans is reported.

/// One option of an item.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Choice {
    pub bytes: usize,
    /// Exact integer value, so that ties are exact.
    pub value: i64,
    /// A secondary cost (e.g. a measured error) that decides between plans of equal value and size.
    pub error: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Solution {
    /// The chosen option of each item.
    pub picks: Vec<usize>,
    pub value: i64,
    pub bytes: usize,
    pub error: f64,
    /// How many plans reach the optimal value within the capacity (saturating).
    pub optimal_plans: u64,
}

/// The largest number of DP states (items x capacity units) solved exactly: about 1 GB of choices.
pub const MAX_STATES: usize = 1 << 30;

#[derive(Clone, Copy)]
struct State {
    value: i64,
    error: f64,
    count: u64,
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Solves the knapsack; `None` when even the smallest options exceed the capacity. Panics if the instance needs
/// more than `MAX_STATES` states (callers check `states` first).
pub fn solve(items: &[Vec<Choice>], capacity: usize) -> Option<Solution> {
    let base: usize = items.iter().map(|c| c.iter().map(|o| o.bytes).min().unwrap_or(0)).sum();
    if base > capacity || items.iter().any(|c| c.is_empty()) {
        return None;
    }
    let unit = unit(items);
    let extra = |i: usize, o: usize| (items[i][o].bytes - items[i].iter().map(|c| c.bytes).min().unwrap()) / unit;
    let cap = (capacity - base) / unit;
    assert!(items.len().saturating_mul(cap + 1) <= MAX_STATES, "knapsack too large");
    let mut states: Vec<Option<State>> = vec![None; cap + 1];
    states[0] = Some(State { value: 0, error: 0.0, count: 1 });
    let mut picks: Vec<Vec<u8>> = Vec::with_capacity(items.len());
    for (i, choices) in items.iter().enumerate() {
        let mut next: Vec<Option<State>> = vec![None; cap + 1];
        let mut pick = vec![u8::MAX; cap + 1];
        for (w, s) in states.iter().enumerate() {
            let Some(s) = s else { continue };
            for (o, c) in choices.iter().enumerate() {
                let to = w + extra(i, o);
                if to > cap {
                    continue;
                }
                let cand = State { value: s.value + c.value, error: s.error + c.error, count: s.count };
                match &mut next[to] {
                    slot @ None => {
                        *slot = Some(cand);
                        pick[to] = o as u8;
                    }
                    Some(cur) => {
                        if cand.value == cur.value {
                            let count = cur.count.saturating_add(cand.count);
                            if cand.error < cur.error {
                                *cur = cand;
                                pick[to] = o as u8;
                            }
                            cur.count = count;
                        } else if cand.value > cur.value {
                            *cur = cand;
                            pick[to] = o as u8;
                        }
                    }
                }
            }
        }
        states = next;
        picks.push(pick);
    }
    let best_value = states.iter().flatten().map(|s| s.value).max()?;
    let optimal_plans =
        states.iter().flatten().filter(|s| s.value == best_value).fold(0u64, |a, s| a.saturating_add(s.count));
    // Among optimal plans the one using the most bytes; within a byte count the DP kept the least error.
    let mut w = (0..=cap).rev().find(|&w| states[w].is_some_and(|s| s.value == best_value))?;
    let best = states[w]?;
    let mut chosen = vec![0usize; items.len()];
    for i in (0..items.len()).rev() {
        let o = picks[i][w] as usize;
        chosen[i] = o;
        w -= extra(i, o);
    }
    let bytes = chosen.iter().enumerate().map(|(i, &o)| items[i][o].bytes).sum();
    Some(Solution { picks: chosen, value: best.value, bytes, error: best.error, optimal_plans })
}

/// The byte unit of the DP: the gcd of every option's bytes above its item's smallest option.
pub fn unit(items: &[Vec<Choice>]) -> usize {
    let g = items.iter().fold(0, |g, c| {
        let min = c.iter().map(|o| o.bytes).min().unwrap_or(0);
        c.iter().fold(g, |g, o| gcd(g, o.bytes - min))
    });
    g.max(1)
}

/// DP states the instance needs (items x capacity units).
pub fn states(items: &[Vec<Choice>], capacity: usize) -> usize {
    let base: usize = items.iter().map(|c| c.iter().map(|o| o.bytes).min().unwrap_or(0)).sum();
    items.len().saturating_mul(capacity.saturating_sub(base) / unit(items) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every plan, by brute force: the best value, and among best plans the most bytes, then the least error.
    fn brute_force(items: &[Vec<Choice>], capacity: usize) -> Option<(i64, usize, f64, u64)> {
        let mut best: Option<(i64, usize, f64)> = None;
        let mut count = 0u64;
        let mut picks = vec![0usize; items.len()];
        loop {
            let bytes: usize = picks.iter().enumerate().map(|(i, &o)| items[i][o].bytes).sum();
            if bytes <= capacity {
                let value: i64 = picks.iter().enumerate().map(|(i, &o)| items[i][o].value).sum();
                let error: f64 = picks.iter().enumerate().map(|(i, &o)| items[i][o].error).sum();
                match best {
                    Some((v, _, _)) if value < v => {}
                    Some((v, b, e)) if value == v => {
                        count += 1;
                        if bytes > b || (bytes == b && error < e) {
                            best = Some((value, bytes, error));
                        }
                    }
                    _ => {
                        best = Some((value, bytes, error));
                        count = 1;
                    }
                }
            }
            // Next combination.
            let mut i = 0;
            while i < items.len() {
                picks[i] += 1;
                if picks[i] < items[i].len() {
                    break;
                }
                picks[i] = 0;
                i += 1;
            }
            if i == items.len() {
                break;
            }
        }
        best.map(|(v, b, e)| (v, b, e, count))
    }

    fn instance() -> impl Strategy<Value = (Vec<Vec<Choice>>, usize)> {
        let choice = (1usize..40, 0i64..6, 0u8..4).prop_map(|(bytes, value, error)| Choice {
            bytes: bytes * 4,
            value,
            error: error as f64,
        });
        (proptest::collection::vec(proptest::collection::vec(choice, 1..4), 1..6), 0usize..400)
    }

    proptest! {
        #[test]
        fn matches_brute_force((items, capacity) in instance()) {
            let got = solve(&items, capacity);
            let want = brute_force(&items, capacity);
            prop_assert_eq!(got.is_some(), want.is_some());
            if let (Some(s), Some((value, bytes, error, count))) = (got, want) {
                prop_assert!(s.bytes <= capacity, "over budget");
                let recomputed: i64 = s.picks.iter().enumerate().map(|(i, &o)| items[i][o].value).sum();
                prop_assert_eq!(recomputed, s.value);
                prop_assert_eq!((s.value, s.bytes, s.error, s.optimal_plans), (value, bytes, error, count));
            }
        }
    }

    #[test]
    fn ties_use_more_budget_then_less_error() {
        let item = |a: (usize, i64, f64), b: (usize, i64, f64)| {
            vec![Choice { bytes: a.0, value: a.1, error: a.2 }, Choice { bytes: b.0, value: b.1, error: b.2 }]
        };
        // Two equal layers, one may be upgraded: two optimal plans, the one with the smaller error wins.
        let items = vec![item((10, 2, 0.0), (20, 4, 0.5)), item((10, 2, 0.0), (20, 4, 0.1))];
        let s = solve(&items, 30).unwrap();
        assert_eq!((s.picks, s.optimal_plans), (vec![0, 1], 2));
        // Equal value, more bytes: the larger plan.
        let items = vec![item((10, 3, 0.0), (15, 3, 0.0))];
        assert_eq!(solve(&items, 20).unwrap().picks, [1]);
        assert!(solve(&items, 9).is_none());
    }
}
