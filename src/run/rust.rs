//! Building a generated Rust crate (DIR/rust) with cargo: a host harness binary, or a C-callable static library
//! that the firmware harness links in place of the generated C.

use std::path::{Path, PathBuf};
use std::process::Command;

use askama::Template;

use crate::error::{Error, Result};
use crate::target::Toolchain;

#[derive(Template)]
#[template(path = "rust/harness_Cargo.toml.txt", escape = "none")]
struct HarnessToml<'a> {
    version: &'a str,
    name: &'a str,
    crate_path: &'a str,
}

#[derive(Template)]
#[template(path = "rust/harness_main.rs.txt", escape = "none")]
struct HarnessMain<'a> {
    version: &'a str,
    name: &'a str,
}

#[derive(Template)]
#[template(path = "rust/ffi_Cargo.toml.txt", escape = "none")]
struct FfiToml<'a> {
    version: &'a str,
    name: &'a str,
    crate_path: &'a str,
    /// The crate's features for the core, as a TOML array.
    features: String,
    /// rustc's opt-level, as a TOML value.
    opt_level: &'a str,
}

#[derive(Template)]
#[template(path = "rust/ffi_lib.rs.txt", escape = "none")]
struct FfiLib<'a> {
    version: &'a str,
    name: &'a str,
    /// Calls the harness's mark after each layer.
    profile: bool,
}

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn cargo() -> String {
    std::env::var("CARGO").ok().filter(|c| !c.is_empty()).unwrap_or_else(|| "cargo".into())
}

/// The generated crate of `dir`, as a TOML string literal of its absolute path.
fn crate_path(dir: &Path) -> Result<String> {
    let path = dir.join("rust");
    if !path.join("Cargo.toml").is_file() {
        return Err(Error::input(format!(
            "{}: no Rust crate here; compile with --emit rust (or --emit c,rust)",
            dir.display()
        )));
    }
    let path = std::fs::canonicalize(&path).map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
    Ok(toml::Value::String(path.display().to_string()).to_string())
}

fn write_all(files: &[(PathBuf, String)]) -> Result<()> {
    for (path, text) in files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::internal(format!("{}: {e}", parent.display())))?;
        }
        std::fs::write(path, text).map_err(|e| Error::internal(format!("{}: {e}", path.display())))?;
    }
    Ok(())
}

fn render(t: &dyn askama::DynTemplate) -> Result<String> {
    t.dyn_render().map_err(|e| Error::internal(format!("rendering a Rust harness: {e}")))
}

/// `cargo build --release` of the package in `dir` with `extra` arguments and rustc `flags`; target files under
/// `dir/target`.
fn cargo_build(dir: &Path, extra: &[&str], flags: &[String]) -> Result<()> {
    // Absolute: cargo runs in `dir`, and takes a relative target directory from there.
    let dir = &std::path::absolute(dir).map_err(|e| Error::internal(format!("{}: {e}", dir.display())))?;
    let cargo = cargo();
    let out = Command::new(&cargo)
        .args(["build", "--release", "--offline", "--quiet"])
        .args(extra)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .env("CARGO_ENCODED_RUSTFLAGS", flags.join("\x1f"))
        .output()
        .map_err(|e| Error::input(format!("cannot run {cargo} to build the generated Rust ({e}); install Rust")))?;
    if !out.status.success() {
        let log = String::from_utf8_lossy(&out.stderr);
        let first = log.lines().find(|l| l.starts_with("error")).or(log.lines().next()).unwrap_or("");
        return Err(Error::internal(format!("building the generated Rust with {cargo} failed: {first}")));
    }
    Ok(())
}

/// Builds the host harness for the crate of `dir` (model `name`) in `build`; returns the executable.
pub fn build_host(dir: &Path, name: &str, build: &Path) -> Result<PathBuf> {
    let crate_path = crate_path(dir)?;
    let harness = build.join("rust-harness");
    write_all(&[
        (harness.join("Cargo.toml"), render(&HarnessToml { version: VERSION, name, crate_path: &crate_path })?),
        (harness.join("src/main.rs"), render(&HarnessMain { version: VERSION, name })?),
    ])?;
    cargo_build(&harness, &[], &[])?;
    Ok(harness.join("target/release/ompqc_harness"))
}

/// Checks that rustup has the standard library of `triple` installed.
pub fn check_rust_target(target: &str, triple: &str) -> Result<()> {
    let out = Command::new("rustup").args(["target", "list", "--installed"]).output();
    let installed = out.as_ref().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim() == triple));
    if installed {
        return Ok(());
    }
    Err(Error::input(format!(
        "target {target}: the Rust standard library for {triple} is not installed (rustup target add {triple})"
    )))
}

/// Builds the crate of `dir` as a static library exporting `NAME_run` for `target`'s Rust triple, with its crate
/// features and rustc flags (and, with `profile`, a call of the harness's `ompqc_mark` after each layer); returns
/// the library.
pub fn build_staticlib(dir: &Path, name: &str, target: &Toolchain, profile: bool, build: &Path) -> Result<PathBuf> {
    let ffi = build.join("rust-ffi");
    build_ffi(dir, name, target, profile, "2", &ffi)?;
    Ok(ffi.join("target").join(target.rust_target.as_deref().unwrap_or_default()).join("release/libompqc_ffi.a"))
}

/// Builds the crate of `dir` (model `name`) for `target`'s Rust triple as `build_staticlib` does, optimised for size
/// (opt-level "s", as `report` compiles the C at -Os); returns the crate's rlib, whose objects are its own code and
/// data.
pub fn build_for_size(dir: &Path, name: &str, target: &Toolchain, build: &Path) -> Result<PathBuf> {
    let ffi = build.join("rust-size");
    build_ffi(dir, name, target, false, "\"s\"", &ffi)?;
    let deps = ffi.join("target").join(target.rust_target.as_deref().unwrap_or_default()).join("release/deps");
    let prefix = format!("lib{name}-");
    std::fs::read_dir(&deps)
        .map_err(|e| Error::internal(format!("{}: {e}", deps.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name().is_some_and(|f| f.to_string_lossy().starts_with(&prefix))
                && p.extension().is_some_and(|x| x == "rlib")
        })
        .ok_or_else(|| Error::internal(format!("{}: no lib{name}-*.rlib after the build", deps.display())))
}

/// Writes and builds the static library crate `ffi` wrapping the crate of `dir` at rustc opt-level `opt_level` (a
/// TOML value).
fn build_ffi(dir: &Path, name: &str, target: &Toolchain, profile: bool, opt_level: &str, ffi: &Path) -> Result<()> {
    let (triple, features) = (target.rust_target.as_deref().unwrap_or_default(), &target.rust_features);
    let crate_path = crate_path(dir)?;
    let features = toml::Value::Array(features.iter().map(|f| toml::Value::String(f.clone())).collect()).to_string();
    let toml = FfiToml { version: VERSION, name, crate_path: &crate_path, features, opt_level };
    write_all(&[
        (ffi.join("Cargo.toml"), render(&toml)?),
        (ffi.join("src/lib.rs"), render(&FfiLib { version: VERSION, name, profile })?),
    ])?;
    cargo_build(ffi, &["--target", triple], &target.rust_flags)
}
