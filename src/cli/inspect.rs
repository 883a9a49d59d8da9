use std::path::PathBuf;

use clap::Args;

use super::{print, ModelOpts};
use ompqc::import;
use ompqc::report::inspect::inspect;
use ompqc::Result;

#[derive(Args)]
pub struct InspectArgs {
    model: PathBuf,
    #[command(flatten)]
    model_opts: ModelOpts,
    /// One JSON document on stdout.
    #[arg(long)]
    json: bool,
}

impl InspectArgs {
    pub fn run(self) -> Result<()> {
        let imported = import::import(&self.model, &self.model_opts.import_options())?;
        let table = inspect(&self.model.display().to_string(), &imported);
        print(self.json, &table, || table.to_text())?;
        // Unsupported nodes: listed above, and the exit code says so.
        imported.into_graph(&self.model).map(|_| ())
    }
}
