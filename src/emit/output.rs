//! Writing an output directory all at once: into a temporary sibling first, renamed into place when complete, so
//! a failure never leaves a half-written directory that looks finished.

use std::path::Path;

use crate::error::{Error, Result};

/// The file that marks a directory as ompqc's output (and so replaceable).
pub const MARKER: &str = "report.json";

/// Writes `files` (relative path, contents) as directory `dir`, replacing an earlier ompqc output there.
pub fn write_output_dir(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    write_marked_dir(dir, files, MARKER)
}

/// `write_output_dir` for outputs that `marker` (one of `files`) marks as ompqc's.
pub fn write_marked_dir(dir: &Path, files: &[(String, Vec<u8>)], marker: &str) -> Result<()> {
    let at = |e: std::io::Error| Error::input(format!("{}: cannot write the output: {e}", dir.display()));
    check_marked_dir(dir, marker)?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
    let write_all = || -> std::io::Result<()> {
        std::fs::create_dir_all(&staging)?;
        for (rel, contents) in files {
            let path = staging.join(rel);
            if let Some(p) = path.parent() {
                std::fs::create_dir_all(p)?;
            }
            std::fs::write(path, contents)?;
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::rename(&staging, dir)
    };
    write_all().map_err(|e| {
        let _ = std::fs::remove_dir_all(&staging);
        at(e)
    })
}

/// Refuses, before any work, an output directory `write_output_dir` could not write: one that exists and is not
/// ompqc's, or one under a path that ends in a file.
pub fn check_output_dir(dir: &Path) -> Result<()> {
    check_marked_dir(dir, MARKER)
}

/// `check_output_dir` for outputs that `marker` marks as ompqc's.
pub fn check_marked_dir(dir: &Path, marker: &str) -> Result<()> {
    if dir.exists() {
        let ours = dir.join(marker).is_file();
        let empty = dir.read_dir().map(|mut d| d.next().is_none()).unwrap_or(false);
        if !ours && !empty {
            return Err(Error::input(format!(
                "{}: exists and is not an ompqc output directory (no {marker}); refusing to overwrite it",
                dir.display()
            )));
        }
        return Ok(());
    }
    // The nearest existing ancestor must be a directory (a relative path's empty root never exists).
    match dir.ancestors().skip(1).find(|a| a.exists()) {
        Some(a) if !a.is_dir() => {
            Err(Error::input(format!("{}: cannot write the output: {} is not a directory", dir.display(), a.display())))
        }
        _ => Ok(()),
    }
}
