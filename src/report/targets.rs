//! `ompqc report`: the generated C compiled with each target's toolchain at -Os, the objects (and a linked
//! firmware image) measured with `object`, one table across targets.

use std::path::Path;

use serde::Serialize;

use crate::build;
use crate::build::firmware::{self, Buffers};
use crate::build::sizes::{self, Sections, SymbolSize};
use crate::build::stack;
use crate::error::{Error, Result};
use crate::target::Target;

/// Optimisation of size-report builds.
pub const SIZE_OPT: &str = "-Os";

/// How many of the largest symbols each target lists.
const LARGEST: usize = 5;

#[derive(Clone, Debug, Serialize)]
pub struct CrossTargetReport {
    pub model: String,
    pub arena: u64,
    /// The RAM budget the model was compiled for (its report.json), when one applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ram_budget: Option<u64>,
    pub targets: Vec<TargetRow>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TargetRow {
    pub name: String,
    #[serde(flatten)]
    pub sizes: Option<TargetSizes>,
    /// Why the target could not be built (a missing toolchain, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TargetSizes {
    /// The model's objects (schedule, weights, kernels).
    pub text: u64,
    pub rodata: u64,
    pub data: u64,
    pub bss: u64,
    pub arena: u64,
    /// The deepest call chain from NAME_run (build::stack).
    pub stack_bytes: u64,
    /// text + rodata + data.
    pub flash_bytes: u64,
    /// data + bss + arena + stack.
    pub ram_bytes: u64,
    pub flash_capacity: u64,
    pub ram_capacity: u64,
    pub fits: bool,
    /// The linked firmware harness (model, harness with one input, C library, start-up code), when the target has
    /// an emulator memory map to link for. Its bss holds the arena.
    pub image: Option<ImageSizes>,
    pub largest_symbols: Vec<SymbolSize>,
    /// The generated Rust crate's own code and data at opt-level "s", when the directory holds one and the target
    /// names a Rust triple.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rust: Option<RustSizes>,
    /// Why that crate could not be built (its standard library not installed, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rust_error: Option<String>,
    /// Where the objects and the image are kept.
    pub build_dir: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct RustSizes {
    #[serde(flatten)]
    pub sections: Sections,
    /// text + rodata + data.
    pub flash_bytes: u64,
    /// The crate's rlib, whose objects these are.
    pub library: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImageSizes {
    #[serde(flatten)]
    pub sections: Sections,
    pub flash_bytes: u64,
    pub ram_bytes: u64,
}

/// Builds and measures the compiled model in `dir` for every target in `targets`. Objects go to
/// DIR/build/TARGET/. A target that cannot be built gets its error in its row.
pub fn report(dir: &Path, name: &str, sizes: Buffers, targets: &[Target]) -> CrossTargetReport {
    let arena = sizes.arena as u64;
    let rows = targets
        .iter()
        .map(|t| match measure(dir, name, sizes, t) {
            Ok(sizes) => TargetRow { name: t.name.clone(), sizes: Some(sizes), error: None },
            Err(e) => TargetRow { name: t.name.clone(), sizes: None, error: Some(e.message) },
        })
        .collect();
    CrossTargetReport { model: name.to_string(), arena, ram_budget: None, targets: rows }
}

fn measure(dir: &Path, name: &str, buffers: Buffers, target: &Target) -> Result<TargetSizes> {
    let arena = buffers.arena as u64;
    build::check_toolchain(target)?;
    let c_dir = dir.join("c");
    let out = dir.join("build").join(&target.name);
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(|e| Error::internal(format!("{}: {e}", out.display())))?;
    }
    let flags = [SIZE_OPT, stack::CALLGRAPH_FLAG];
    let objects = build::compile_objects(target, &build::c_sources(&c_dir)?, &c_dir, &flags, &out)?;
    let stack_bytes = stack::deepest(&stack::callgraph_files(&objects), name, &format!("{name}_run"))? as u64;
    let model = sizes::read(&objects)?;
    let s = model.sections;
    let image = if target.emulator.is_some() {
        let harness_dir = out.join("harness");
        std::fs::create_dir_all(&harness_dir)
            .map_err(|e| Error::internal(format!("{}: {e}", harness_dir.display())))?;
        let (harness, inputs) = (harness_dir.join("ompqc_firmware.c"), harness_dir.join("ompqc_inputs.c"));
        std::fs::write(&harness, firmware::render_harness(name, buffers, stack_bytes as usize)?)
            .and_then(|_| std::fs::write(&inputs, firmware::inputs_source(&[], 0)))
            .map_err(|e| Error::internal(format!("{}: {e}", harness_dir.display())))?;
        let mut all = objects.clone();
        all.extend(build::compile_objects(target, &[harness, inputs], &c_dir, &[SIZE_OPT], &harness_dir)?);
        let path = out.join("firmware.elf");
        firmware::link(target, &all, &[SIZE_OPT], &path)?;
        let sections = sizes::read(&[&path])?.sections;
        Some(ImageSizes { sections, flash_bytes: sections.flash(), ram_bytes: sections.ram() })
    } else {
        None
    };
    let (rust, rust_error) = match rust_sizes(dir, name, target, &out) {
        None => (None, None),
        Some(Ok(r)) => (Some(r), None),
        Some(Err(e)) => (None, Some(e.message)),
    };
    let (flash, ram) = (s.flash(), s.ram() + arena + stack_bytes);
    Ok(TargetSizes {
        text: s.text,
        rodata: s.rodata,
        data: s.data,
        bss: s.bss,
        arena,
        stack_bytes,
        flash_bytes: flash,
        ram_bytes: ram,
        flash_capacity: target.flash_bytes as u64,
        ram_capacity: target.ram_bytes as u64,
        fits: flash <= target.flash_bytes as u64 && ram <= target.ram_bytes as u64,
        image,
        largest_symbols: model.symbols.into_iter().take(LARGEST).collect(),
        rust,
        rust_error,
        build_dir: out.display().to_string(),
    })
}

/// The sizes of the Rust crate of `dir` built for `target` in `out`/rust-size (the objects of its rlib), or None
/// when there is no crate or the target has no Rust triple.
fn rust_sizes(dir: &Path, name: &str, target: &Target, out: &Path) -> Option<Result<RustSizes>> {
    let triple = target.toolchain.rust_target.as_deref()?;
    if !dir.join("rust/Cargo.toml").is_file() {
        return None;
    }
    let sizes = crate::run::rust::check_rust_target(&target.name, triple)
        .and_then(|_| crate::run::rust::build_for_size(dir, name, &target.toolchain, out))
        .and_then(|rlib| {
            let sections = sizes::read_archive(&rlib)?.sections;
            Ok(RustSizes { sections, flash_bytes: sections.flash(), library: rlib.display().to_string() })
        });
    Some(sizes)
}

impl CrossTargetReport {
    pub fn to_text(&self) -> String {
        let n = |v: u64| super::inspect::thousands(v);
        let budget =
            self.ram_budget.map_or(String::new(), |b| format!(", compiled for a RAM budget of {} bytes", n(b)));
        // The Rust crate's columns when the directory holds one.
        let rust =
            self.targets.iter().filter_map(|r| r.sizes.as_ref()).any(|s| s.rust.is_some() || s.rust_error.is_some());
        let rust_note = if rust { "; Rust: the crate's own text and flash at opt-level \"s\"" } else { "" };
        let mut text = format!(
            "{}: bytes per target at {SIZE_OPT}; flash = text + rodata + data, RAM = data + bss + arena ({} bytes{budget}) \
             + stack{rust_note}\n",
            self.model,
            n(self.arena)
        );
        let header = [
            "target",
            "text",
            "rodata",
            "data",
            "bss",
            "stack",
            "flash",
            "of",
            "RAM",
            "of",
            "fits",
            "image flash",
            "RAM",
            "Rust text",
            "flash",
        ];
        let line = |c: &[String]| {
            let rust = if rust { format!("{:>11}{:>10}", c[13], c[14]) } else { String::new() };
            format!(
                "{:<14}{:>9}{:>10}{:>7}{:>7}{:>7}{:>10}{:>12}{:>10}{:>12}{:>6}{:>13}{:>9}{rust}\n",
                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11], c[12]
            )
        };
        text.push_str(&line(&header.map(String::from)));
        for row in &self.targets {
            match (&row.sizes, &row.error) {
                (Some(s), _) => {
                    let (image_flash, image_ram) =
                        s.image.as_ref().map_or(("-".into(), "-".into()), |i| (n(i.flash_bytes), n(i.ram_bytes)));
                    text.push_str(&line(&[
                        row.name.clone(),
                        n(s.text),
                        n(s.rodata),
                        n(s.data),
                        n(s.bss),
                        n(s.stack_bytes),
                        n(s.flash_bytes),
                        n(s.flash_capacity),
                        n(s.ram_bytes),
                        n(s.ram_capacity),
                        (if s.fits { "yes" } else { "NO" }).into(),
                        image_flash,
                        image_ram,
                        s.rust.as_ref().map_or("-".into(), |r| n(r.sections.text)),
                        s.rust.as_ref().map_or("-".into(), |r| n(r.flash_bytes)),
                    ]));
                }
                (None, error) => {
                    text.push_str(&format!("{:<14}not built: {}\n", row.name, error.as_deref().unwrap_or("")));
                }
            }
        }
        for row in &self.targets {
            if let Some(e) = row.sizes.as_ref().and_then(|s| s.rust_error.as_deref()) {
                text.push_str(&format!("{:<14}Rust not built: {e}\n", row.name));
            }
        }
        text.push_str("largest symbols:\n");
        for row in &self.targets {
            if let Some(s) = &row.sizes {
                let list: Vec<String> =
                    s.largest_symbols.iter().map(|y| format!("{} {} ({})", y.name, n(y.size), y.class)).collect();
                text.push_str(&format!("  {:<14}{}\n", row.name, list.join(", ")));
            }
        }
        text
    }
}

/// `ompqc targets`: each target's ISA, widths, capacities, toolchain, emulator, kernel variants and board.
pub fn targets_text(targets: &[Target]) -> String {
    let n = |v: usize| super::inspect::thousands(v as u64);
    let mut text = String::new();
    for t in targets {
        let installed = if build::is_installed(&t.toolchain.cc) { "" } else { " (not installed)" };
        let mut emulator = t.emulator.as_ref().map_or("none".to_string(), |e| format!("{} -M {}", e.qemu, e.machine));
        if let Some(model) = &t.cycle_model {
            emulator += &format!("; cycles estimated with the {model} timings");
        }
        if let Some(hz) = t.clock_hz {
            emulator += &format!(", board clock {} MHz", hz as f64 / 1e6);
        }
        text += &format!(
            "{:<14} {:<15} features [{}]  weights {:?}  flash {:>9}  RAM {:>8}\n{:14} cc {}{installed}; emulator \
             {emulator}\n{:14} kernels: {}\n{:14} {}\n",
            t.name,
            t.architecture,
            t.features.join(", "),
            t.weight_bits,
            n(t.flash_bytes),
            n(t.ram_bytes),
            "",
            t.toolchain.cc,
            "",
            crate::emit::variants::summary(t),
            "",
            t.description
        );
    }
    text
}
