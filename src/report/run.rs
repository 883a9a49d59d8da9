//! `ompqc run`: the verdict against the interpreter, and under emulation the instructions (and on cores with a
//! timing table the estimated cycles) per inference and per layer.

use super::inspect::thousands;
use crate::run::firmware::FirmwareRun;
use crate::run::RunResult;

/// "bit-exact ..." or "DIFFERENT ...", with the mismatched bytes.
fn verdict(exact: bool, mismatched: usize, inputs: usize, per_input: usize) -> String {
    format!(
        "{} ({mismatched} mismatched output bytes of {})",
        if exact { "bit-exact with the interpreter" } else { "DIFFERENT from the interpreter" },
        inputs * per_input
    )
}

fn language(lang: &str) -> &'static str {
    if lang == "rust" {
        "Rust"
    } else {
        "C"
    }
}

impl RunResult {
    pub fn to_text(&self) -> String {
        format!(
            "{} inputs on the host ({}): {}; {} MACs per inference\n",
            self.inputs,
            language(&self.lang),
            verdict(self.bit_exact, self.mismatched_bytes, self.inputs, self.output_bytes),
            thousands(self.macs)
        )
    }
}

impl FirmwareRun {
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{} inputs on {} ({}) under QEMU {}: {}\n{} instructions per inference ({} to {}), {} MACs: {:.2} \
             instructions per MAC\n",
            self.inputs,
            self.target,
            language(&self.lang),
            self.machine,
            verdict(self.bit_exact, self.mismatched_bytes, self.inputs, self.output_bytes),
            thousands(self.instructions_per_inference),
            thousands(self.instructions_range.0),
            thousands(self.instructions_range.1),
            thousands(self.macs),
            self.instructions_per_mac
        );
        if let Some(c) = self.cycles_estimate {
            let at_clock = match (self.clock_hz, self.ms_at_clock) {
                (Some(hz), Some(ms)) => format!(": {ms:.2} ms at the board's {} MHz", hz as f64 / 1e6),
                _ => String::new(),
            };
            text.push_str(&format!(
                "cycle estimate: {} cycles per inference ({:.2} per MAC) from the core's timing table at zero wait \
                 states{at_clock}\n",
                thousands(c),
                if self.macs > 0 { c as f64 / self.macs as f64 } else { 0.0 }
            ));
        }
        text.push_str(&match self.stack_bytes {
            Some(bound) => format!(
                "stack: {} bytes used at most (painted), within the call graph's bound of {} bytes\n",
                thousands(self.stack_used),
                thousands(bound)
            ),
            None => format!("stack: {} bytes used at most (painted)\n", thousands(self.stack_used)),
        });
        for l in self.layers.iter().flatten() {
            let per_mac = if l.macs > 0 { format!("{:.2}", l.instructions as f64 / l.macs as f64) } else { "-".into() };
            let cycles = l.cycles.map(|c| format!(" {:>12} cycles", thousands(c))).unwrap_or_default();
            text.push_str(&format!(
                "  {:<28} {:<14} {:>12} instructions{cycles} {:>11} MACs {:>7} per MAC  {}\n",
                l.name,
                l.op,
                thousands(l.instructions),
                thousands(l.macs),
                per_mac,
                l.kernel
            ));
        }
        text
    }
}
