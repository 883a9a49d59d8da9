use std::path::PathBuf;

use clap::Args;

use super::{print, InputMapArgs, ModelOpts};
use ompqc::data::load_labels;
use ompqc::report::predict::Prediction;
use ompqc::{exec, import, Result};

#[derive(Args)]
pub struct PredictArgs {
    model: PathBuf,
    /// Inputs: uint8, int8 or float32 in the model's input layout, N first.
    #[arg(long)]
    inputs: PathBuf,
    /// Integer class labels, one per input.
    #[arg(long)]
    labels: Option<PathBuf>,
    #[command(flatten)]
    model_opts: ModelOpts,
    #[command(flatten)]
    input_map: InputMapArgs,
    #[arg(long)]
    json: bool,
}

impl PredictArgs {
    pub fn run(self) -> Result<()> {
        let graph = import::load(&self.model, &self.model_opts.import_options())?;
        let samples = self.input_map.map().load(&self.inputs, &graph)?;
        let labels = self.labels.as_deref().map(|l| load_labels(l, samples.n)).transpose()?;
        let predictions = exec::run(&graph, &samples)?.top1();
        let result = Prediction::new(&self.model.display().to_string(), predictions, labels.as_deref());
        print(self.json, &result, || result.to_text())
    }
}
