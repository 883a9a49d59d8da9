//! RAM as a constraint: the budget a model's arena must fit, and the check that says what does not fit. The arena is
//! what the generated code asks the caller for; the board's RAM also holds the stack (the target's
//! `stack_reserve_bytes`) and the caller's input and output buffers, so those come off the default budget.

use super::Plan;
use crate::error::{Error, Result};
use crate::ir::quant::QGraph;
use crate::search::budget::parse_bytes;
use crate::target::Target;

/// How the plan runs the layers when no stage is tiled.
pub const WHOLE_TENSORS: &str = "whole tensors";

/// A RAM budget for the arena and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct RamBudget {
    pub bytes: usize,
    /// How the budget is named in messages: `--ram-budget 28KiB` or the target's default.
    pub origin: String,
    /// The board's RAM (the target's `ram_bytes`).
    pub board_bytes: usize,
}

impl RamBudget {
    /// `--ram-budget`'s value, or the target's default for a model of `io_bytes` input and output bytes.
    pub fn new(given: Option<&str>, target: &Target, io_bytes: usize) -> Result<RamBudget> {
        match given {
            Some(text) => {
                let bytes = parse_bytes(text).ok_or_else(|| {
                    Error::input(format!("--ram-budget {text}: expected bytes (28672, 28KiB, 1.5MiB, 64kB)"))
                })?;
                Ok(RamBudget { bytes, origin: format!("--ram-budget {text}"), board_bytes: target.ram_bytes })
            }
            None => {
                let bytes = default_budget(target, io_bytes)?;
                let origin = format!("the default RAM budget of target {}", target.name);
                Ok(RamBudget { bytes, origin, board_bytes: target.ram_bytes })
            }
        }
    }

    /// Checks that the arena of `plan` for `graph` fits (`Plan::arena`); the error names the budget, the smallest
    /// arena ompqc reaches with any schedule and the layer at the peak of live bytes on whole tensors.
    pub fn check(&self, graph: &QGraph, plan: &Plan) -> Result<()> {
        if plan.arena() <= self.bytes {
            return Ok(());
        }
        let whole = &plan.whole_tensor;
        let at_peak = match whole.peak_step {
            0 => "the input".to_string(),
            s if s <= graph.nodes.len() => {
                let node = &graph.nodes[s - 1];
                format!("layer '{}' ({})", node.name, node.op.kind())
            }
            _ => "the output".to_string(),
        };
        let how = if plan.smallest_arena < whole.arena_bytes {
            format!("running its first layers tile by tile; {} bytes on whole tensors", whole.arena_bytes)
        } else {
            "on whole tensors; no stage of its first layers can run tile by tile in less".to_string()
        };
        Err(Error::input(format!(
            "{} ({} bytes): the smallest arena ompqc reaches for this model is {} bytes ({how}), its peak of live \
             bytes on whole tensors at {at_peak}",
            self.origin, self.bytes, plan.smallest_arena,
        )))
    }
}

/// The arena budget when none is given: the target's RAM less its stack reserve and the model's input and output
/// buffers (`io_bytes`), which the caller keeps outside the arena.
pub fn default_budget(target: &Target, io_bytes: usize) -> Result<usize> {
    target.ram_bytes.checked_sub(target.stack_reserve_bytes + io_bytes).filter(|&b| b > 0).ok_or_else(|| {
        Error::input(format!(
            "target {}: its {} bytes of RAM, less {} bytes of stack reserve and {} bytes of input and output, leave \
             no room for the arena; give --ram-budget",
            target.name, target.ram_bytes, target.stack_reserve_bytes, io_bytes
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_budget_is_the_ram_less_stack_and_buffers() {
        let mut t = Target::load("cortex-m4").unwrap();
        t.ram_bytes = 100_000;
        t.stack_reserve_bytes = 4_096;
        assert_eq!(default_budget(&t, 3_000).unwrap(), 100_000 - 4_096 - 3_000);
        let err = default_budget(&t, 96_000).unwrap_err();
        assert!(err.message.contains("cortex-m4") && err.message.contains("--ram-budget"), "{}", err.message);
        let given = RamBudget::new(Some("28KiB"), &t, 3_000).unwrap();
        assert_eq!((given.bytes, given.origin.as_str()), (28_672, "--ram-budget 28KiB"));
        assert!(RamBudget::new(Some("28 parsecs"), &t, 0).unwrap_err().message.contains("--ram-budget 28 parsecs"));
    }
}
