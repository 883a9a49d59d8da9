//! The `ompqc` command line (src/cli): parse, call the library, print.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // A panic is a bug in ompqc: report it on one line with exit code 1 instead of a backtrace dump
    // (OMPQC_DEBUG=1 keeps Rust's panic report, for debugging ompqc itself).
    if std::env::var_os("OMPQC_DEBUG").is_none() {
        std::panic::set_hook(Box::new(|_| {}));
    }
    match std::panic::catch_unwind(|| cli::Cli::parse_args().and_then(cli::Cli::run)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("ompqc: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            // A closed pipe on stdout (`ompqc targets | head`) ends the output; it is not an error of ompqc's.
            if msg.contains("Broken pipe") {
                return ExitCode::SUCCESS;
            }
            eprintln!("ompqc: internal error (please report): {msg}");
            ExitCode::from(1)
        }
    }
}
