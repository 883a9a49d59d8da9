use std::path::{Path, PathBuf};

use clap::Args;

use super::{print, print_progress, BitsArgs, InputMapArgs, ModelOpts, QuantArgs, SearchOpts};
use ompqc::compile::{compile, Origin};
use ompqc::emit::{self, check_output_dir, sha256_hex, write_output_dir, Lang, Provenance};
use ompqc::pipeline::{self, InputMap, GIVEN_ALLOCATOR};
use ompqc::plan::kernels::check_width;
use ompqc::quantize::LayerRows;
use ompqc::report::plots;
use ompqc::target::Target;
use ompqc::{Error, Result};

#[derive(Args)]
pub struct CompileArgs {
    model: PathBuf,
    /// Calibration inputs (required unless the model is the bundled example).
    #[arg(long)]
    calib: Option<PathBuf>,
    #[command(flatten)]
    bits: BitsArgs,
    #[command(flatten)]
    search: SearchOpts,
    #[command(flatten)]
    quant: QuantArgs,
    /// Prefix of the generated files and symbols (a C identifier); default: the model file's stem.
    #[arg(long)]
    name: Option<String>,
    /// The output directory (default: NAME_ompqc).
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// The languages to generate: c, rust or c,rust (DIR/c/, DIR/rust/).
    #[arg(long, default_value = "c", value_parser = parse_langs)]
    emit: Langs,
    #[command(flatten)]
    model_opts: ModelOpts,
    #[command(flatten)]
    input_map: InputMapArgs,
    /// Write DIR/memory.svg: the arena's live bytes per layer and the RAM budget.
    #[arg(long)]
    plot: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

/// `--emit`'s languages (a newtype, so clap takes the list as one value).
#[derive(Clone, Debug)]
struct Langs(Vec<Lang>);

fn parse_langs(text: &str) -> std::result::Result<Langs, String> {
    Lang::parse_list(text).map(Langs).map_err(|e| e.message)
}

/// The bundled example's calibration set and input mapping, when `model` is the bundled example.
fn example_calibration(model: &Path, bytes: &[u8]) -> Option<(PathBuf, InputMap)> {
    const EXAMPLE: &[u8] = include_bytes!("../../examples/digits/model.onnx");
    let calib = model.parent()?.join("calib_x.npy");
    (bytes == EXAMPLE && calib.is_file()).then_some((calib, InputMap { scale: 0.0625, offset: 0.0 }))
}

impl CompileArgs {
    pub fn run(self) -> Result<()> {
        let model = &self.model;
        let bytes = std::fs::read(model).map_err(|e| Error::input(format!("{}: cannot read: {e}", model.display())))?;
        let stem = model.file_stem().map(|s| s.to_string_lossy().replace(['-', '.', ' '], "_")).unwrap_or_default();
        let name = self.name.clone().unwrap_or(stem);
        emit::check_name(&name)?;
        let dir = self.output.clone().unwrap_or_else(|| PathBuf::from(format!("{name}_ompqc")));
        check_output_dir(&dir)?;
        let (calib, defaults) = match (&self.calib, example_calibration(model, &bytes)) {
            (Some(c), _) => (Some(c.clone()), InputMap::default()),
            (None, Some((calib, map))) => (Some(calib), map),
            (None, None) => (None, InputMap::default()),
        };
        let map = self.input_map.or(defaults);
        let import = self.model_opts.import_options();
        let loaded = pipeline::load(model, &import, calib.as_deref(), map, self.quant.act_range)?;
        self.quant.check_given(&loaded.graph)?;
        let target = Target::load(&self.search.target)?;
        let (ram_budget, qgraph, plan) =
            loaded.ram_plan(&target, self.search.ram_budget.as_deref(), self.emit.0.contains(&Lang::Rust))?;
        if let Err(e) = ram_budget.check(&qgraph, &plan) {
            // The picture of why it does not fit, beside the error (no output directory is written).
            if let Some(plot) = &self.plot {
                plots::write_memory(plot, &qgraph, &plan, Some(ram_budget.bytes))?;
            }
            return Err(e);
        }
        let fixed = self.bits.fixed(&loaded.graph)?;
        let request = match fixed {
            Some(_) => None,
            None => Some(self.search.request(&self.quant, self.search.one_allocator()?)?),
        };
        let widths = loaded.widths(fixed, request.as_ref())?;
        // Widths without kernels fail here, before the rounding's work.
        for node in loaded.graph.nodes.iter().filter(|n| LayerRows::of(&n.op).is_some()) {
            check_width(&node.name, node.op.kind(), widths.bits.for_layer(&node.name))?;
        }
        let provenance = Provenance {
            target: target.name.clone(),
            model_file: model.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
            model_hash: sha256_hex(&bytes),
        };
        let quantization = self.quant.quantization();
        let origin = Origin {
            allocator: widths.allocator(),
            budget_bytes: widths.budget_bytes(),
            rounding: if loaded.graph.keeps_given() { GIVEN_ALLOCATOR } else { quantization.rounding.name() }
                .to_string(),
            calibration: calib
                .map(|c| std::fs::canonicalize(&c).unwrap_or(c).display().to_string())
                .unwrap_or_default(),
            input_scale: map.scale,
            input_offset: map.offset,
            ram_budget: Some(ram_budget),
        };
        let options = loaded.rounded(widths.bits, &quantization, &print_progress)?;
        let mut compiled =
            compile(&loaded.graph, &loaded.observations, &options, &name, &provenance, &origin, &self.emit.0)?;
        compiled.add_report(&target, widths.search.as_ref(), Some((&loaded.graph, &loaded.calib)))?;
        write_output_dir(&dir, &compiled.files)?;
        if let Some(plot) = &self.plot {
            plots::write_memory(plot, &compiled.qgraph, &compiled.plan, compiled.report.ram_budget_bytes)?;
        }
        print(self.json, &compiled.report, || format!("{}wrote {}\n", compiled.report.to_text(), dir.display()))
    }
}
