use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use super::{print, quantized_inputs, InputMapArgs};
use ompqc::emit::manifest::{load_qgraph, CompileReport, PROFILE_FILE};
use ompqc::emit::Lang;
use ompqc::run::firmware::{self, RunRequest};
use ompqc::run::run_host;
use ompqc::target::Target;
use ompqc::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum LangArg {
    /// DIR/c
    C,
    /// DIR/rust
    Rust,
}

#[derive(Args)]
pub struct RunArgs {
    /// An `ompqc compile` output directory.
    dir: PathBuf,
    /// Where to run: host (the build machine's gcc, under AddressSanitizer and UBSan) or a target with an
    /// emulator entry (cortex-m0plus, cortex-m3, cortex-m4, cortex-m7, cortex-m33, cortex-m55, rv32imac).
    #[arg(long, default_value = "host")]
    target: String,
    /// Inputs (.npy); default: the calibration data the model was compiled with.
    #[arg(long)]
    inputs: Option<PathBuf>,
    /// Run at most this many of the inputs.
    #[arg(long)]
    limit: Option<usize>,
    /// The generated code to run.
    #[arg(long, value_enum, default_value_t = LangArg::C)]
    lang: LangArg,
    /// Instructions per layer (emulated targets).
    #[arg(long)]
    profile: bool,
    /// Wall-clock limit of each emulator run in seconds (default: scaled with the work).
    #[arg(long)]
    timeout: Option<f64>,
    /// Build without the sanitizers (host; faster).
    #[arg(long)]
    no_sanitize: bool,
    #[command(flatten)]
    input_map: InputMapArgs,
    #[arg(long)]
    json: bool,
}

impl RunArgs {
    /// Refuses what cannot run before anything is built.
    fn check(&self, target: &Target, lang: Lang) -> Result<Option<Duration>> {
        if target.name != "host" {
            firmware::check_runnable(target)?;
        } else if self.profile {
            return Err(Error::input("--profile counts instructions under an emulator: give an emulated --target"));
        }
        if !self.dir.join(lang.dir()).is_dir() {
            let (dir, language) = (self.dir.display(), if lang == Lang::Rust { "Rust" } else { "C" });
            return Err(Error::input(format!(
                "{dir}: no generated {language} here; compile with --emit {}",
                lang.dir()
            )));
        }
        if self.limit == Some(0) {
            return Err(Error::input("--limit 0: nothing to run"));
        }
        match self.timeout {
            Some(t) if t > 0.0 && t.is_finite() => Ok(Some(Duration::from_secs_f64(t))),
            Some(t) => Err(Error::input(format!("--timeout {t}: expected a positive number of seconds"))),
            None => Ok(None),
        }
    }

    pub fn run(self) -> Result<()> {
        let target = Target::load(&self.target)?;
        let lang = if self.lang == LangArg::Rust { Lang::Rust } else { Lang::C };
        let timeout = self.check(&target, lang)?;
        let report = CompileReport::load(&self.dir)?;
        let qgraph = load_qgraph(&self.dir)?;
        let (input, n) = quantized_inputs(&report, &qgraph, self.inputs.as_deref(), self.limit, &self.input_map)?;
        let (exact, mismatched) = if target.name == "host" {
            let result = run_host(&self.dir, &report.name, &qgraph, &input, n, lang, !self.no_sanitize)?;
            print(self.json, &result, || result.to_text())?;
            (result.bit_exact, result.mismatched_bytes)
        } else {
            let request = RunRequest {
                dir: &self.dir,
                report: &report,
                graph: &qgraph,
                lang,
                input: &input,
                n,
                profile: self.profile,
                timeout,
            };
            let result = firmware::run(&target, &request)?;
            if result.layers.is_some() {
                // Kept for the HTML report (`ompqc report DIR --html`).
                let path = self.dir.join(PROFILE_FILE);
                let json = serde_json::to_vec_pretty(&result).map_err(|e| Error::internal(format!("profile: {e}")))?;
                std::fs::write(&path, json)
                    .map_err(|e| Error::input(format!("{}: cannot write: {e}", path.display())))?;
            }
            print(self.json, &result, || result.to_text())?;
            (result.bit_exact, result.mismatched_bytes)
        };
        if exact {
            return Ok(());
        }
        Err(Error::internal(format!("{mismatched} output bytes differ from the interpreter")))
    }
}
