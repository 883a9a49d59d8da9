use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{print, quantized_inputs, InputMapArgs};
use ompqc::board::Board;
use ompqc::deploy::project::{self, Mode, Request};
use ompqc::emit::manifest::{load_qgraph, CompileReport};
use ompqc::Result;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Answers `ompqc validate` over the UART.
    Validate,
    /// Runs embedded test inputs and prints their cycles on the UART.
    Bench,
    /// A clean main to start an application from.
    App,
}

impl ModeArg {
    pub fn mode(self) -> Mode {
        match self {
            ModeArg::Validate => Mode::Validate,
            ModeArg::Bench => Mode::Bench,
            ModeArg::App => Mode::App,
        }
    }
}

#[derive(Args)]
pub struct FirmwareArgs {
    /// An `ompqc compile` output directory, compiled for the board's core (`--target`).
    dir: PathBuf,
    /// The board: a bundled name (netduinoplus2, stm32vldiscovery, microbit, hifive1, nucleo-f446re,
    /// stm32f746g-disco, nrf5340dk) or a board .toml file.
    #[arg(long)]
    board: String,
    /// The firmware directory to write (default: DIR/firmware-BOARD-MODE).
    #[arg(short = 'o', long)]
    out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ModeArg::Validate)]
    mode: ModeArg,
    /// bench: the inputs to embed (.npy; default: the calibration data the model was compiled with).
    #[arg(long)]
    inputs: Option<PathBuf>,
    /// bench: how many of them.
    #[arg(long, default_value_t = 8)]
    count: usize,
    #[command(flatten)]
    input_map: InputMapArgs,
    #[arg(long)]
    json: bool,
}

impl FirmwareArgs {
    pub fn run(self) -> Result<()> {
        let board = Board::load(&self.board)?;
        let report = CompileReport::load(&self.dir)?;
        project::check(&self.dir, &report, &board)?;
        let graph = load_qgraph(&self.dir)?;
        let mode = self.mode.mode();
        let out = self.out.clone().unwrap_or_else(|| self.dir.join(format!("firmware-{}-{}", board.name, mode.name())));
        let bench = if mode == Mode::Bench {
            if self.count == 0 {
                return Err(ompqc::Error::input("--count 0: the bench firmware needs at least one input"));
            }
            Some(quantized_inputs(&report, &graph, self.inputs.as_deref(), Some(self.count), &self.input_map)?)
        } else {
            None
        };
        let request = Request {
            dir: &self.dir,
            report: &report,
            graph: &graph,
            board: &board,
            mode,
            bench_inputs: bench.as_ref().map(|(bytes, n)| (bytes.as_slice(), *n)),
            out: &out,
        };
        let firmware = project::build(&request)?;
        print(self.json, &firmware, || firmware.to_text().replacen("wrote ", &format!("wrote {}/: ", out.display()), 1))
    }
}
