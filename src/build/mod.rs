//! Building generated C with a target's own toolchain (targets/*.toml): objects for size reports, and bare-metal
//! firmware images linked for the target's emulator.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};
use crate::target::Target;

pub mod firmware;
pub mod sizes;
pub mod stack;

/// Flags every build of generated code uses: the code must be warning-free C99 on every target.
pub const STRICT_FLAGS: &[&str] = &["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"];

/// Each function and object in its own section, so that sizes are per symbol and the linker drops what is unused.
pub const SECTION_FLAGS: &[&str] = &["-ffunction-sections", "-fdata-sections"];

/// Whether a program can be started (it answers `--version`).
pub fn is_installed(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}

/// Checks that the target's C compiler is installed; the error names the packages that provide it.
pub fn check_toolchain(target: &Target) -> Result<()> {
    let cc = &target.toolchain.cc;
    if is_installed(cc) {
        return Ok(());
    }
    Err(Error::input(format!(
        "target {}: the C compiler {cc} is not installed (Debian: apt-get install {})",
        target.name,
        target.toolchain.packages.join(" ")
    )))
}

/// The `.c` files of a directory, sorted.
pub fn c_sources(dir: &Path) -> Result<Vec<PathBuf>> {
    files_with_extension(dir, "c")
}

/// The files of a directory whose names end in `.ext`, sorted.
pub fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::input(format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    Ok(files)
}

/// Compiles each source into an object in `out` with the target's flags and `flags` (optimisation, extras).
pub fn compile_objects(
    target: &Target,
    sources: &[PathBuf],
    include: &Path,
    flags: &[&str],
    out: &Path,
) -> Result<Vec<PathBuf>> {
    check_toolchain(target)?;
    std::fs::create_dir_all(out).map_err(|e| Error::internal(format!("{}: {e}", out.display())))?;
    sources
        .iter()
        .map(|source| {
            let stem = source.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let object = out.join(format!("{stem}.o"));
            let mut cmd = Command::new(&target.toolchain.cc);
            cmd.args(&target.toolchain.cflags).args(STRICT_FLAGS).args(SECTION_FLAGS).args(flags);
            cmd.arg("-I").arg(include).arg("-c").arg(source).arg("-o").arg(&object);
            run_compiler(target, cmd, &format!("compiling {}", source.display()))?;
            Ok(object)
        })
        .collect()
}

pub(crate) fn run_compiler(target: &Target, mut cmd: Command, what: &str) -> Result<()> {
    let cc = &target.toolchain.cc;
    let out = cmd.output().map_err(|e| Error::input(format!("target {}: cannot run {cc}: {e}", target.name)))?;
    if out.status.success() {
        return Ok(());
    }
    let log = String::from_utf8_lossy(&out.stderr);
    let first = log.lines().find(|l| l.contains("error")).or(log.lines().next()).unwrap_or("").trim().to_string();
    Err(Error::internal(format!("target {}: {what} with {cc} failed: {first}", target.name)))
}
