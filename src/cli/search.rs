use std::path::PathBuf;

use clap::Args;

use super::{print, InputMapArgs, ModelOpts, QuantArgs, SearchOpts};
use ompqc::pipeline;
use ompqc::report::{plots, search::to_text};
use ompqc::Result;

#[derive(Args)]
pub struct SearchArgs {
    model: PathBuf,
    /// Calibration inputs: the first --samples drive the search, the rest score `auto`'s candidates.
    #[arg(long)]
    calib: PathBuf,
    #[command(flatten)]
    search: SearchOpts,
    #[command(flatten)]
    quant: QuantArgs,
    /// Write the ORM heat map and the bit allocation as SVG files into this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
    #[command(flatten)]
    model_opts: ModelOpts,
    #[command(flatten)]
    input_map: InputMapArgs,
    #[arg(long)]
    json: bool,
}

impl SearchArgs {
    pub fn run(self) -> Result<()> {
        let import = self.model_opts.import_options();
        let loaded =
            pipeline::load(&self.model, &import, Some(&self.calib), self.input_map.map(), self.quant.act_range)?;
        let request = self.search.request(&self.quant, self.search.one_allocator()?)?;
        loaded.ram_budget(&request.target, self.search.ram_budget.as_deref())?;
        let result = loaded.search(&request)?;
        if let Some(dir) = &self.plot {
            plots::write(dir, &result)?;
        }
        print(self.json, &result, || to_text(&self.model.display().to_string(), &result))
    }
}
