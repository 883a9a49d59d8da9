//! `ompqc flash`: programs a built firmware directory onto its board with an installed tool, using the board
//! file's names for the chip.

use std::path::Path;
use std::process::Command;

use super::project::Firmware;
use crate::error::{Error, Result};

/// The programming tools ompqc drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    ProbeRs,
    Openocd,
    StFlash,
    Pyocd,
}

impl Probe {
    pub const ALL: [Probe; 4] = [Probe::ProbeRs, Probe::Openocd, Probe::StFlash, Probe::Pyocd];

    pub fn program(self) -> &'static str {
        match self {
            Probe::ProbeRs => "probe-rs",
            Probe::Openocd => "openocd",
            Probe::StFlash => "st-flash",
            Probe::Pyocd => "pyocd",
        }
    }

    fn install_hint(self) -> &'static str {
        match self {
            Probe::ProbeRs => "cargo install probe-rs-tools --locked (https://probe.rs)",
            Probe::Openocd => "apt-get install openocd",
            Probe::StFlash => "apt-get install stlink-tools",
            Probe::Pyocd => "pip install pyocd",
        }
    }

    /// The commands that program `fw` (in `dir`) with this tool, or why the board file does not say how.
    pub fn commands(self, fw: &Firmware, dir: &Path) -> Result<Vec<Vec<String>>> {
        let programmer = &fw.board.programmer;
        let file = |name: &str| dir.join(name).display().to_string();
        let missing = |what: &str| {
            Error::input(format!(
                "board {}: its board file gives no {what}, so {} cannot program it",
                fw.board.name,
                self.program()
            ))
        };
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        Ok(match self {
            Probe::ProbeRs => {
                let chip = programmer.probe_rs_chip.as_deref().ok_or_else(|| missing("probe_rs_chip"))?;
                vec![
                    s(&["probe-rs", "download", "--chip", chip, "--verify", &file(&fw.elf)]),
                    s(&["probe-rs", "reset", "--chip", chip]),
                ]
            }
            Probe::Openocd => {
                if programmer.openocd.is_empty() {
                    return Err(missing("openocd configuration"));
                }
                let mut cmd = vec!["openocd".to_string()];
                for config in &programmer.openocd {
                    cmd.extend(["-f".to_string(), config.clone()]);
                }
                cmd.extend(["-c".to_string(), format!("program {} verify reset exit", file(&fw.elf))]);
                vec![cmd]
            }
            Probe::StFlash => {
                if !programmer.st_flash {
                    return Err(missing("st_flash = true"));
                }
                vec![s(&["st-flash", "--reset", "write", &file(&fw.bin), &format!("{:#010x}", fw.flash_base)])]
            }
            Probe::Pyocd => {
                let target = programmer.pyocd_target.as_deref().ok_or_else(|| missing("pyocd_target"))?;
                vec![s(&["pyocd", "flash", "--target", target, &file(&fw.hex)])]
            }
        })
    }

    /// The first tool the board file names, in the order of `ALL`.
    pub fn preferred(fw: &Firmware, dir: &Path) -> Option<Probe> {
        Probe::ALL.into_iter().find(|p| p.commands(fw, dir).is_ok())
    }
}

/// Shell-quoted, for printing a command to copy.
pub fn quoted(cmd: &[String]) -> String {
    cmd.iter()
        .map(|a| {
            if a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@".contains(c)) {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs the commands, printing each first; a missing tool is an input error saying how to install it.
pub fn run(probe: Probe, commands: &[Vec<String>], print: &mut dyn FnMut(&str)) -> Result<()> {
    let installed = Command::new(probe.program()).arg("--version").output().is_ok();
    if !installed {
        return Err(Error::input(format!(
            "{} is not installed; install it with: {}",
            probe.program(),
            probe.install_hint()
        )));
    }
    for cmd in commands {
        print(&quoted(cmd));
        let status = Command::new(&cmd[0])
            .args(&cmd[1..])
            .status()
            .map_err(|e| Error::input(format!("cannot run {}: {e}", cmd[0])))?;
        if !status.success() {
            return Err(Error::input(format!(
                "{} failed ({status}): is the board connected and powered?",
                quoted(cmd)
            )));
        }
    }
    Ok(())
}
