//! Target devices: what their kernels support (weight and activation widths) and their capacities. The files
//! under targets/ are compiled into the binary; `--target path/to/file.toml` loads another.

use std::path::Path;

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
    pub flash_bytes: usize,
    pub ram_bytes: usize,
}

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
        Ok(target)
    }

    /// A built-in target by name, or a target file by path (anything ending in .toml).
    pub fn load(name_or_path: &str) -> Result<Target> {
        if name_or_path.ends_with(".toml") {
            let path = Path::new(name_or_path);
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))?;
            return Target::parse(&text, &path.display().to_string());
        }
        match BUILT_IN.iter().find(|(name, _)| *name == name_or_path) {
            Some((name, text)) => Target::parse(text, &format!("targets/{name}.toml")),
            None => Err(Error::input(format!(
                "--target {name_or_path}: unknown target; known targets: {} (or give a path to a .toml file)",
                BUILT_IN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    /// Every built-in target.
    pub fn built_in() -> Vec<Target> {
        BUILT_IN.iter().map(|(name, _)| Target::load(name).expect("bundled targets parse")).collect()
    }

    /// The weight widths, ascending and without repeats.
    pub fn widths(&self) -> Vec<u8> {
        let mut w = self.weight_bits.clone();
        w.sort_unstable();
        w.dedup();
        w
    }
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
    }
}
