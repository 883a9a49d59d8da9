use std::path::PathBuf;

use clap::Args;

use super::print;
use ompqc::build::firmware::Buffers;
use ompqc::emit::manifest::{load_qgraph, CompileReport};
use ompqc::report::html;
use ompqc::report::targets::report;
use ompqc::target::Target;
use ompqc::{Error, Result};

#[derive(Args)]
pub struct ReportArgs {
    /// An `ompqc compile` output directory.
    dir: PathBuf,
    /// Comma-separated target names or files, or `all` (default: the target the model was compiled for).
    #[arg(long)]
    targets: Option<String>,
    /// Also write the HTML report (the page compile writes as DIR/report.html, with these sizes) to this file.
    #[arg(long)]
    html: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

impl ReportArgs {
    pub fn run(self) -> Result<()> {
        let compiled = CompileReport::load(&self.dir)?;
        let targets = match self.targets.as_deref().map(str::trim) {
            None => vec![Target::load(&compiled.target)?],
            Some("all") => Target::all()?,
            Some(list) => list.split(',').map(|t| Target::load(t.trim())).collect::<Result<Vec<_>>>()?,
        };
        let qgraph = load_qgraph(&self.dir)?;
        let buffers = Buffers::of(&qgraph, compiled.arena_bytes);
        let mut report = report(&self.dir, &compiled.name, buffers, &targets);
        report.ram_budget = compiled.ram_budget_bytes.map(|b| b as u64);
        if let Some(path) = &self.html {
            let page = html::for_dir(&self.dir, Some(&report))?;
            std::fs::write(path, page).map_err(|e| Error::input(format!("{}: cannot write: {e}", path.display())))?;
        }
        print(self.json, &report, || report.to_text())?;
        if report.targets.iter().any(|r| r.sizes.is_some()) {
            return Ok(());
        }
        let errors: Vec<&str> = report.targets.iter().filter_map(|r| r.error.as_deref()).collect();
        Err(Error::input(format!("no target could be built: {}", errors.join("; "))))
    }
}
