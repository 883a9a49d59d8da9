//! Which weight width each searchable layer gets: one width for all, or a per-layer list from a file.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::ir::Graph;

#[derive(Clone, Debug, PartialEq)]
pub struct WeightBits {
    /// The width of every searchable layer not listed.
    pub default: u8,
    pub per_layer: BTreeMap<String, u8>,
}

impl WeightBits {
    pub fn uniform(bits: u8) -> WeightBits {
        WeightBits { default: bits, per_layer: BTreeMap::new() }
    }

    pub fn for_layer(&self, name: &str) -> u8 {
        self.per_layer.get(name).copied().unwrap_or(self.default)
    }
}

/// Reads a per-layer width list: JSON (`{"conv1": 8, "fc": 4}`) or TOML (`conv1 = 8`), chosen by the
/// extension (`.json`, `.toml`). Every name must be a searchable layer of `graph` and every width 2..8.
pub fn load_bits_file(path: &Path, graph: &Graph) -> Result<BTreeMap<String, u8>> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::input(format!("{origin}: cannot read: {e}")))?;
    let is_toml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    parse_bits(&text, is_toml, &origin, graph)
}

/// `load_bits_file` of a file's text; `origin` names it in messages.
pub fn parse_bits(text: &str, is_toml: bool, origin: &str, graph: &Graph) -> Result<BTreeMap<String, u8>> {
    let at = |msg: String| Error::input(format!("{origin}: {msg}"));
    let entries: BTreeMap<String, i64> = if is_toml {
        toml::from_str(text).map_err(|e| at(format!("not a TOML table of layer = bits ({})", e.message())))?
    } else {
        serde_json::from_str(text).map_err(|e| at(format!("not a JSON object of \"layer\": bits ({e})")))?
    };
    let searchable: Vec<&str> = graph.nodes.iter().filter(|n| n.op.is_searchable()).map(|n| n.name.as_str()).collect();
    let mut bits = BTreeMap::new();
    for (name, b) in entries {
        if !searchable.contains(&name.as_str()) {
            let known = if graph.nodes.iter().any(|n| n.name == name) { " (it has no weights)" } else { "" };
            return Err(at(format!(
                "unknown layer '{name}'{known}; the layers with weights are: {}",
                searchable.join(", ")
            )));
        }
        if !(2..=8).contains(&b) {
            return Err(at(format!("layer '{name}': {b} bits is outside 2..8")));
        }
        bits.insert(name, b as u8);
    }
    Ok(bits)
}
