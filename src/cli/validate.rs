use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{print, quantized_inputs, InputMapArgs};
use ompqc::board::Board;
use ompqc::deploy::link::SerialPort;
use ompqc::deploy::project::{self, Firmware, Mode, Request};
use ompqc::deploy::validate::{self, Patience};
use ompqc::emit::manifest::{load_qgraph, CompileReport, QGRAPH_FILE};
use ompqc::emit::sha256_hex;
use ompqc::{Error, Result};

#[derive(Args)]
pub struct ValidateArgs {
    /// An `ompqc compile` output directory, compiled for the board's core.
    dir: PathBuf,
    /// The board: a bundled name or a board .toml file.
    #[arg(long)]
    board: String,
    /// The board's console serial port (the validation firmware flashed: `ompqc flash`).
    #[arg(long, conflicts_with = "qemu", required_unless_present = "qemu")]
    port: Option<PathBuf>,
    /// The port's baud rate (default: the board file's).
    #[arg(long, requires = "port")]
    baud: Option<u32>,
    /// Boot the validation firmware on QEMU's model of the board instead, its UART on a local socket.
    #[arg(long)]
    qemu: bool,
    /// The validation firmware's directory: reused when it holds this model's build for this board, else built
    /// (default: DIR/firmware-BOARD-validate).
    #[arg(long)]
    firmware: Option<PathBuf>,
    /// Inputs (.npy); default: the calibration data the model was compiled with.
    #[arg(long)]
    inputs: Option<PathBuf>,
    /// Validate at most this many of the inputs.
    #[arg(long)]
    limit: Option<usize>,
    /// Seconds to wait for each reply before sending the input again (default: scaled with the model's work).
    #[arg(long)]
    timeout: Option<f64>,
    #[command(flatten)]
    input_map: InputMapArgs,
    #[arg(long)]
    json: bool,
}

impl ValidateArgs {
    pub fn run(self) -> Result<()> {
        let board = Board::load(&self.board)?;
        let report = CompileReport::load(&self.dir)?;
        project::check(&self.dir, &report, &board)?;
        if self.limit == Some(0) {
            return Err(Error::input("--limit 0: nothing to validate"));
        }
        let reply = match self.timeout {
            Some(t) if t > 0.0 && t.is_finite() => Some(Duration::from_secs_f64(t)),
            Some(t) => return Err(Error::input(format!("--timeout {t}: expected a positive number of seconds"))),
            None => None,
        };
        let graph = load_qgraph(&self.dir)?;
        let (input, n) = quantized_inputs(&report, &graph, self.inputs.as_deref(), self.limit, &self.input_map)?;
        let fwdir = self.firmware.clone().unwrap_or_else(|| self.dir.join(format!("firmware-{}-validate", board.name)));
        let firmware = self.firmware(&report, &graph, &board, &fwdir)?;
        // A reply takes the transfer both ways and the inference: bound the inference by 100 cycles (or emulated
        // instructions at 20 M a second) per MAC.
        let work = Duration::from_secs_f64(graph.macs() as f64 * 100.0 / board.clock_hz.min(20_000_000) as f64);
        let patience = |baud: u32| Patience {
            connect: Duration::from_secs(10),
            reply: reply.unwrap_or_else(|| {
                let bits = 10.0 * (input.len() / n.max(1) + graph.tensor(graph.output).elems() + 32) as f64;
                Duration::from_secs(2) + work + Duration::from_secs_f64(bits / baud as f64)
            }),
            attempts: 3,
        };
        let result = if self.qemu {
            let mut emulation = validate::boot(&board, &fwdir.join(&firmware.elf))?;
            validate::session(&mut emulation.link, &firmware, &graph, &input, n, false, patience(1_000_000))?
        } else {
            let port = self.port.as_deref().expect("clap requires --port without --qemu");
            let baud = self.baud.unwrap_or(board.uart.baud);
            let mut link = SerialPort::open(port, baud)?;
            validate::session(&mut link, &firmware, &graph, &input, n, true, patience(baud))?
        };
        print(self.json, &result, || result.to_text())?;
        if result.bit_exact {
            return Ok(());
        }
        Err(Error::internal(format!("{} output bytes differ from the interpreter", result.mismatched_bytes)))
    }

    /// The validation firmware in `fwdir`: reused when it is this model's build for this board, else built.
    fn firmware(
        &self,
        report: &CompileReport,
        graph: &ompqc::ir::quant::QGraph,
        board: &Board,
        fwdir: &std::path::Path,
    ) -> Result<Firmware> {
        let hash = std::fs::read(self.dir.join(QGRAPH_FILE)).map(|b| sha256_hex(&b)).unwrap_or_default();
        if let Ok(fw) = Firmware::load(fwdir) {
            let current = fw.ompqc_version == env!("CARGO_PKG_VERSION")
                && &fw.board == board
                && fw.mode == Mode::Validate
                && fw.model_hash == hash
                && fwdir.join(&fw.elf).is_file();
            if current {
                return Ok(fw);
            }
        }
        let request =
            Request { dir: &self.dir, report, graph, board, mode: Mode::Validate, bench_inputs: None, out: fwdir };
        project::build(&request)
    }
}
