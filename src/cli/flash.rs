use std::path::PathBuf;

use clap::{Args, ValueEnum};

use ompqc::deploy::flash::{self, quoted, Probe};
use ompqc::deploy::project::Firmware;
use ompqc::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ProbeArg {
    ProbeRs,
    Openocd,
    StFlash,
    Pyocd,
}

#[derive(Args)]
pub struct FlashArgs {
    /// A firmware directory (`ompqc firmware`).
    fwdir: PathBuf,
    /// The programming tool (default: the first of probe-rs, openocd, st-flash, pyocd the board file names).
    #[arg(long, value_enum)]
    probe: Option<ProbeArg>,
    /// Print the commands without running them.
    #[arg(long)]
    dry_run: bool,
}

impl FlashArgs {
    pub fn run(self) -> Result<()> {
        let firmware = Firmware::load(&self.fwdir)?;
        let probe = match self.probe {
            Some(p) => [Probe::ProbeRs, Probe::Openocd, Probe::StFlash, Probe::Pyocd][p as usize],
            None => Probe::preferred(&firmware, &self.fwdir).ok_or_else(|| {
                Error::input(format!("board {}: its board file names no programming tool", firmware.board.name))
            })?,
        };
        let commands = probe.commands(&firmware, &self.fwdir)?;
        if self.dry_run {
            for cmd in &commands {
                println!("{}", quoted(cmd));
            }
            return Ok(());
        }
        flash::run(probe, &commands, &mut |line| println!("{line}"))?;
        println!("flashed {} onto {}", firmware.elf, firmware.board.name);
        Ok(())
    }
}
