//! `search --plot DIR`: the ORM heat map and the bit allocation of every allocator (`orm.svg`, `bits.svg`);
//! `compile --plot DIR`: the arena's live bytes per layer against the RAM budget (`memory.svg`). The pictures are
//! those of the HTML report (`charts`).

use std::path::Path;

use super::charts;
use crate::error::{Error, Result};
use crate::ir::quant::QGraph;
use crate::plan::Plan;
use crate::search::SearchResult;

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::input(format!("{}: cannot write: {e}", path.display())))
}

fn create(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::input(format!("{}: cannot create: {e}", dir.display())))
}

pub fn write(dir: &Path, result: &SearchResult) -> Result<()> {
    create(dir)?;
    write_file(&dir.join("orm.svg"), &charts::orm_heat_map(result))?;
    write_file(&dir.join("bits.svg"), &charts::allocation(result))
}

/// `DIR/memory.svg` (`charts::memory`).
pub fn write_memory(dir: &Path, graph: &QGraph, plan: &Plan, budget: Option<usize>) -> Result<()> {
    create(dir)?;
    write_file(&dir.join("memory.svg"), &charts::memory(graph, plan, budget))
}
