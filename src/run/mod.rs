//! Running generated code and comparing every output byte with the reference interpreter. The host harness builds
//! the generated C with the host's gcc (`CC` overrides it) under AddressSanitizer and UndefinedBehaviorSanitizer;
//! `rust` builds the generated crate instead, and `firmware` builds either for a device and runs it under QEMU.

pub mod firmware;
pub mod rust;

use std::path::{Path, PathBuf};
use std::process::Command;

use askama::Template;
use serde::Serialize;

use crate::emit::Lang;
use crate::error::{Error, Result};
use crate::interp;
use crate::ir::quant::QGraph;

#[derive(Template)]
#[template(path = "c/harness.c.txt", escape = "none")]
struct Harness<'a> {
    version: &'a str,
    name: &'a str,
    guard: &'a str,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunResult {
    pub target: String,
    /// The generated code that ran: c or rust.
    pub lang: String,
    pub inputs: usize,
    pub mismatched_bytes: usize,
    pub bit_exact: bool,
    /// (input, byte) of the first difference.
    pub first_mismatch: Option<(usize, usize)>,
    /// Bytes of one inference's output.
    pub output_bytes: usize,
    pub macs: u64,
}

/// The C compiler for host builds.
pub(crate) fn host_cc() -> String {
    std::env::var("CC").ok().filter(|c| !c.is_empty()).unwrap_or_else(|| "gcc".into())
}

/// Builds the C in `c_dir` (model `name`) with the harness into `build`, returns the executable.
fn build_host(c_dir: &Path, name: &str, build: &Path, sanitize: bool) -> Result<PathBuf> {
    let harness = Harness { version: env!("CARGO_PKG_VERSION"), name, guard: &name.to_ascii_uppercase() }
        .render()
        .map_err(|e| Error::internal(format!("rendering the harness: {e}")))?;
    let harness_path = build.join("harness.c");
    std::fs::write(&harness_path, harness).map_err(|e| Error::internal(format!("{}: {e}", harness_path.display())))?;
    let exe = build.join("harness");
    let sources = crate::build::c_sources(c_dir)?;
    let cc = host_cc();
    let mut cmd = Command::new(&cc);
    cmd.args(crate::build::STRICT_FLAGS).args(["-O2", "-g"]);
    if sanitize {
        cmd.args(["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]);
    }
    cmd.arg("-I").arg(c_dir).args(&sources).arg(&harness_path).arg("-o").arg(&exe);
    let out = cmd
        .output()
        .map_err(|e| Error::input(format!("cannot run the host C compiler '{cc}' ({e}); install gcc or set CC")))?;
    if !out.status.success() {
        let log = String::from_utf8_lossy(&out.stderr);
        let first = log.lines().find(|l| l.contains("error")).unwrap_or(log.lines().next().unwrap_or(""));
        return Err(Error::internal(format!("the generated C does not compile with {cc}: {first}")));
    }
    Ok(exe)
}

/// Builds the generated C of `dir`, runs it on `input` (quantized, `n` samples in storage order) and compares every
/// output byte with the interpreter.
pub fn run_host(
    dir: &Path,
    name: &str,
    graph: &QGraph,
    input: &[i8],
    n: usize,
    lang: Lang,
    sanitize: bool,
) -> Result<RunResult> {
    let build = std::env::temp_dir().join(format!("ompqc-run-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&build).map_err(|e| Error::internal(format!("{}: {e}", build.display())))?;
    let result = (|| {
        let exe = match lang {
            Lang::C => build_host(&dir.join("c"), name, &build, sanitize)?,
            Lang::Rust => rust::build_host(dir, name, &build)?,
        };
        let (inputs, outputs) = (build.join("inputs.bin"), build.join("outputs.bin"));
        let bytes: Vec<u8> = input.iter().map(|&v| v as u8).collect();
        std::fs::write(&inputs, bytes).map_err(|e| Error::internal(format!("{}: {e}", inputs.display())))?;
        let out = Command::new(&exe)
            .arg(&inputs)
            .arg(&outputs)
            .arg(n.to_string())
            .output()
            .map_err(|e| Error::internal(format!("running the harness: {e}")))?;
        if !out.status.success() {
            let log = String::from_utf8_lossy(&out.stderr);
            let first = log
                .lines()
                .find(|l| l.contains("ERROR") || l.contains("runtime error") || l.contains("panicked"))
                .unwrap_or("");
            return Err(Error::internal(format!("the generated code failed on the host ({}): {first}", out.status)));
        }
        let got = std::fs::read(&outputs).map_err(|e| Error::internal(format!("{}: {e}", outputs.display())))?;
        let (mismatched, first) = compare(graph, input, n, &got);
        let macs = graph.macs();
        Ok(RunResult {
            target: "host".into(),
            lang: lang.dir().into(),
            inputs: n,
            mismatched_bytes: mismatched,
            bit_exact: mismatched == 0,
            first_mismatch: first,
            output_bytes: graph.tensor(graph.output).elems(),
            macs,
        })
    })();
    let _ = std::fs::remove_dir_all(&build);
    result
}

/// Compares `got` (the outputs of `n` inputs) with the interpreter's outputs: the bytes that differ (a missing or
/// extra byte counts as one) and the (input, byte) of the first difference.
pub(crate) fn compare(graph: &QGraph, input: &[i8], n: usize, got: &[u8]) -> (usize, Option<(usize, usize)>) {
    let expected: Vec<u8> = interp::run(graph, input, n).into_iter().map(|v| v as u8).collect();
    let len = graph.tensor(graph.output).elems().max(1);
    let mismatched = got.iter().zip(&expected).filter(|(a, b)| a != b).count() + got.len().abs_diff(expected.len());
    let first = got.iter().zip(&expected).position(|(a, b)| a != b).map(|i| (i / len, i % len));
    (mismatched, first)
}

/// Makes the child started by `cmd` die with this process (Linux's parent-death signal), so that an emulator is
/// not left running when ompqc is killed.
pub(crate) fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child's own state.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

pub(crate) fn unique() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
