//! Target devices (README: targets): what their kernels support, their capacities, the C toolchain that builds
//! for them and the emulator that runs them. The files under targets/ are compiled into the binary; a file
//! dropped into `./targets/` (or the directory `OMPQC_TARGETS` names) adds a target or overrides a bundled one by
//! name, and `--target path/to/file.toml` loads any file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub name: String,
    pub description: String,
    pub architecture: String,
    /// Weight widths the target's kernels run, e.g. [2, 4, 8].
    pub weight_bits: Vec<u8>,
    /// Activation widths; ompqc's kernels use 8.
    pub activation_bits: Vec<u8>,
    /// ISA features the kernels may use: dsp, fpu, mve (Armv8.1-M Helium), and the RISC-V extensions m, a, c.
    pub features: Vec<String>,
    pub flash_bytes: usize,
    pub ram_bytes: usize,
    /// Flash kept for code (ompqc's kernels and the application's runtime) when no flash budget is given.
    pub code_reserve_bytes: usize,
    /// RAM kept for the stack (the application's and the kernels') when no RAM budget is given; the input and
    /// output buffers come off too, and the arena gets the rest.
    #[serde(default = "default_stack_reserve")]
    pub stack_reserve_bytes: usize,
    /// The representative board's core clock, for the run's time at that clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_hz: Option<u64>,
    /// The core whose Technical Reference Manual timings estimate cycles under emulation (the QEMU plugin's tables:
    /// cortex-m3, cortex-m4); none for cores without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle_model: Option<String>,
    pub toolchain: Toolchain,
    /// How to run firmware for this target under emulation, when that is possible.
    pub emulator: Option<Emulator>,
}

/// The C compiler and its flags for this target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toolchain {
    pub cc: String,
    /// Code generation flags (C library, CPU, ISA, ABI); optimisation levels are chosen by each command.
    pub cflags: Vec<String>,
    /// Link flags of the bare-metal firmware harness (start-up code, semihosting).
    pub firmware_ldflags: Vec<String>,
    /// Debian packages that provide the toolchain, named when it is missing.
    pub packages: Vec<String>,
    /// The Rust target triple for this device (`ompqc run --lang rust`), when Rust supports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rust_target: Option<String>,
    /// The generated crate's Cargo features for this device's core (the kernels' instructions, src/isa.rs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rust_features: Vec<String>,
    /// rustc code generation flags for this device (the core, as `-mcpu` in `cflags`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rust_flags: Vec<String>,
}

/// A QEMU system emulator and the memory map the firmware is linked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Emulator {
    pub qemu: String,
    pub machine: String,
    /// Extra QEMU arguments.
    #[serde(default)]
    pub args: Vec<String>,
    pub flash: u64,
    pub flash_size: u64,
    pub ram: u64,
    pub ram_size: u64,
    pub packages: Vec<String>,
}

/// The stack reserve of a target file that does not give one.
fn default_stack_reserve() -> usize {
    4096
}

/// The cores whose timing tables the QEMU plugin (templates/qemu) holds.
pub const CYCLE_MODELS: &[&str] = &["cortex-m3", "cortex-m4"];

/// The ISA features a target file may list.
const FEATURES: &[&str] = &["dsp", "fpu", "mve", "m", "a", "c"];

/// The generated crate's Cargo features (templates/rust/Cargo.toml.txt) a target file's `rust_features` may list.
const RUST_FEATURES: &[&str] = &["armv7m", "dsp", "mve"];

/// The bundled target files, by name.
const BUILT_IN: &[(&str, &str)] = &[
    ("cortex-m0plus", include_str!("../../targets/cortex-m0plus.toml")),
    ("cortex-m3", include_str!("../../targets/cortex-m3.toml")),
    ("cortex-m4", include_str!("../../targets/cortex-m4.toml")),
    ("cortex-m7", include_str!("../../targets/cortex-m7.toml")),
    ("cortex-m33", include_str!("../../targets/cortex-m33.toml")),
    ("cortex-m55", include_str!("../../targets/cortex-m55.toml")),
    ("rv32imac", include_str!("../../targets/rv32imac.toml")),
    ("host", include_str!("../../targets/host.toml")),
];

impl Target {
    /// Parses a target file; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Target> {
        let target: Target =
            toml::from_str(text).map_err(|e| Error::input(format!("{origin}: {}", e.message().replace('\n', " "))))?;
        let bad = |msg: String| Err(Error::input(format!("{origin}: {msg}")));
        if target.weight_bits.is_empty() || target.weight_bits.iter().any(|b| !(2..=8).contains(b)) {
            return bad(format!("weight_bits {:?} must list widths from 2 to 8", target.weight_bits));
        }
        if !target.weight_bits.contains(&8) {
            return bad("weight_bits must include 8 (pinned layers run at 8 bits)".into());
        }
        if target.activation_bits != [8] {
            return bad(format!("activation_bits {:?}: ompqc's kernels use [8]", target.activation_bits));
        }
        if target.flash_bytes == 0 || target.ram_bytes == 0 {
            return bad("flash_bytes and ram_bytes must be positive".into());
        }
        if target.stack_reserve_bytes >= target.ram_bytes {
            return bad(format!(
                "stack_reserve_bytes {} leaves nothing of ram_bytes {}",
                target.stack_reserve_bytes, target.ram_bytes
            ));
        }
        if let Some(f) = target.features.iter().find(|f| !FEATURES.contains(&f.as_str())) {
            return bad(format!("features: unknown feature '{f}' (known: {})", FEATURES.join(", ")));
        }
        if let Some(f) = target.toolchain.rust_features.iter().find(|f| !RUST_FEATURES.contains(&f.as_str())) {
            return bad(format!("rust_features: unknown feature '{f}' (known: {})", RUST_FEATURES.join(", ")));
        }
        if let Some(m) = target.cycle_model.as_deref().filter(|m| !CYCLE_MODELS.contains(m)) {
            return bad(format!("cycle_model: no timing table for '{m}' (known: {})", CYCLE_MODELS.join(", ")));
        }
        if target.clock_hz == Some(0) {
            return bad("clock_hz must be positive".into());
        }
        if target.toolchain.cc.trim().is_empty() {
            return bad("toolchain.cc must name the C compiler".into());
        }
        if let Some(e) = &target.emulator {
            if e.flash_size == 0 || e.ram_size == 0 {
                return bad("emulator.flash_size and emulator.ram_size must be positive".into());
            }
        }
        Ok(target)
    }

    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }

    /// A built-in target by name, or a target file by path (anything ending in .toml).
    pub fn load(name_or_path: &str) -> Result<Target> {
        if name_or_path.ends_with(".toml") {
            let path = Path::new(name_or_path);
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))?;
            return Target::parse(&text, &path.display().to_string());
        }
        if let Some(path) =
            user_dirs().into_iter().map(|d| d.join(format!("{name_or_path}.toml"))).find(|p| p.is_file())
        {
            return Target::load(&path.display().to_string());
        }
        match BUILT_IN.iter().find(|(name, _)| *name == name_or_path) {
            Some((name, text)) => Target::parse(text, &format!("targets/{name}.toml")),
            None => Err(Error::input(format!(
                "--target {name_or_path}: unknown target; known targets: {} (or give a path to a .toml file)",
                Target::names().join(", ")
            ))),
        }
    }

    /// The names of every known target: the bundled ones, then those only in the target directories.
    pub fn names() -> Vec<String> {
        let mut names: Vec<String> = BUILT_IN.iter().map(|(n, _)| n.to_string()).collect();
        let mut extra: Vec<String> = user_dirs()
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .filter(|n| !names.contains(n))
            .collect();
        extra.sort();
        extra.dedup();
        names.extend(extra);
        names
    }

    /// Every known target (see `names`).
    pub fn all() -> Result<Vec<Target>> {
        Target::names().iter().map(|n| Target::load(n)).collect()
    }

    /// Every bundled target, as compiled in.
    pub fn built_in() -> Vec<Target> {
        BUILT_IN
            .iter()
            .map(|(name, text)| Target::parse(text, &format!("targets/{name}.toml")).expect("bundled targets parse"))
            .collect()
    }

    /// The weight widths, ascending and without repeats.
    pub fn widths(&self) -> Vec<u8> {
        let mut w = self.weight_bits.clone();
        w.sort_unstable();
        w.dedup();
        w
    }
}

/// Directories searched for `NAME.toml` before the bundled targets: `$OMPQC_TARGETS`, then `./targets`.
fn user_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("OMPQC_TARGETS").map(PathBuf::from).into_iter().collect();
    dirs.push(PathBuf::from("targets"));
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_targets_parse_and_file_names_match() {
        let targets = Target::built_in();
        assert_eq!(targets.len(), 8);
        for t in targets {
            assert!(t.widths().contains(&8), "{}", t.name);
            assert_eq!(Target::load(&t.name).unwrap(), t);
            assert_eq!(t.emulator.is_some(), t.name != "host", "{}", t.name);
        }
    }

    #[test]
    fn malformed_files_name_the_field() {
        let err =
            Target::parse("name = \"x\"\ndescription = \"\"\narchitecture = \"\"\nweight_bits = [4, 8]\n", "t.toml")
                .unwrap_err();
        assert!(err.message.contains("t.toml") && err.message.contains("activation_bits"), "{}", err.message);
        let text = include_str!("../../targets/cortex-m4.toml").replace("flash_bytes", "flash_byte");
        let err = Target::parse(&text, "m4.toml").unwrap_err();
        assert!(err.message.contains("flash_byte"), "{}", err.message);
        let text = include_str!("../../targets/cortex-m4.toml").replace("[2, 4, 8]", "[2, 4]");
        assert!(Target::parse(&text, "m4.toml").unwrap_err().message.contains("include 8"));
        assert!(Target::load("cortex-z9").unwrap_err().message.contains("cortex-m4"));
        let text = include_str!("../../targets/cortex-m4.toml").replace("cc = \"arm-none-eabi-gcc\"\n", "");
        let err = Target::parse(&text, "m4.toml").unwrap_err();
        assert!(err.message.contains("m4.toml") && err.message.contains("cc"), "{}", err.message);
        let text = include_str!("../../targets/cortex-m4.toml").replace("\"dsp\"", "\"dps\"");
        assert!(Target::parse(&text, "m4.toml").unwrap_err().message.contains("dps"));
        let text = include_str!("../../targets/cortex-m55.toml")
            .replace("rust_features = [\"mve\"]", "rust_features = [\"helium\"]");
        let err = Target::parse(&text, "m55.toml").unwrap_err();
        assert!(err.message.contains("m55.toml: rust_features: unknown feature 'helium'"), "{}", err.message);
    }
}
