//! The report of `ompqc compile`: per layer what was generated and where its output lives, and the totals.

use super::inspect::thousands;
use crate::emit::manifest::CompileReport;
use crate::ir::given::GIVEN;

impl CompileReport {
    /// The line on the stage run tile by tile, when there is one.
    pub fn stage_text(&self) -> Option<String> {
        self.tiled_stage.as_ref().map(|s| {
            format!(
                "patch-based execution: layers 1-{} ({} to {}) run tile by tile on a {}x{} grid of the last one's \
                 output, {} extra MACs ({}% of the model's); arena {} bytes, {} on whole tensors",
                s.layers,
                s.first_layer,
                s.last_layer,
                s.grid[0],
                s.grid[1],
                thousands(s.extra_macs),
                s.extra_macs_percent,
                thousands(self.arena_bytes as u64),
                thousands(s.whole_tensor_arena_bytes as u64)
            )
        })
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{} for {}: {} layers, {} MACs per inference\n",
            self.name,
            self.target,
            self.layers.len(),
            thousands(self.macs)
        );
        let name_w = self.layers.iter().map(|l| l.name.len()).max().unwrap_or(5).max(5);
        out.push_str(&format!(
            "{:>3}  {:<name_w$}  {:<13}  {:>4}  {:>12}  {:>12}  {:>12}  {:>10}  {}\n",
            "#", "layer", "op", "bits", "MACs", "weight bytes", "output", "bytes", "kernel"
        ));
        for (i, l) in self.layers.iter().enumerate() {
            out.push_str(&format!(
                "{i:>3}  {:<name_w$}  {:<13}  {:>4}  {:>12}  {:>12}  {:>12}  {:>10}  {}\n",
                l.name,
                l.op,
                l.bits.map_or("-".into(), |b| b.to_string()),
                thousands(l.macs),
                if l.bits.is_some() { thousands(l.weight_bytes as u64) } else { "-".into() },
                l.output,
                thousands(l.arena_size as u64),
                l.kernel
            ));
        }
        out.push_str(&format!(
            "weights {} bytes ({} with biases, requantization constants and tables); arena {} bytes ({}; the \
             peak of live tensors is {} bytes)\n",
            thousands(self.weight_bytes as u64),
            thousands(self.constant_bytes as u64),
            thousands(self.arena_bytes as u64),
            self.plan_strategy,
            thousands(self.peak_live_bytes as u64)
        ));
        if let (Some(budget), Some(board)) = (self.ram_budget_bytes, self.board_ram_bytes) {
            out.push_str(&format!(
                "RAM: arena {} bytes of a {} byte budget ({}), on a board of {} bytes\n",
                thousands(self.arena_bytes as u64),
                thousands(budget as u64),
                self.memory_schedule,
                thousands(board as u64)
            ));
        }
        if let Some(stage) = self.stage_text() {
            out.push_str(&stage);
            out.push('\n');
        }
        if let Some(rust) = self.rust_arena_bytes {
            out.push_str(&format!(
                "the Rust crate's arena {} bytes (with its own kernels' scratch)\n",
                thousands(rust as u64)
            ));
        }
        if self.rounding == GIVEN {
            let fit = self.budget_bytes.map_or(String::new(), |b| {
                format!(
                    "; {} bytes fit the flash budget of {} bytes",
                    thousands(self.weight_bytes as u64),
                    thousands(b as u64)
                )
            });
            out.push_str(&format!("weights: the model's own integers and scales (QDQ){fit}\n"));
        } else if self.layers.iter().any(|l| l.bits.is_some_and(|b| b < 8)) {
            out.push_str(&format!("weights below 8 bits rounded: {}\n", self.rounding));
        }
        out
    }
}
