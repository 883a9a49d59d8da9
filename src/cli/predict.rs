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
    /// Also write the raw float outputs to this .npy (float32, N first, then the output's shape).
    #[arg(long)]
    output: Option<PathBuf>,
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
        let outputs = exec::run(&graph, &samples)?;
        if let Some(path) = &self.output {
            let shape: Vec<usize> =
                std::iter::once(outputs.n).chain(graph.output_shape().iter().skip(1).copied()).collect();
            ompqc::data::write_f32(path, &shape, &outputs.data)?;
        }
        let predictions = outputs.top1();
        let result = Prediction::new(&self.model.display().to_string(), predictions, labels.as_deref());
        print(self.json, &result, || result.to_text())
    }
}
