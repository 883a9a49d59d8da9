//! `ompqc firmware`: a standalone firmware project for a board (templates/firmware), built with the board's core's
//! toolchain into NAME.elf, .hex and .bin. The project is the generated model (model/), start-up code with the
//! vector table at the chip's flash base, a linker script for its real memory map, the console UART's driver, the
//! cycle counter, a main for the mode, and a Makefile that rebuilds the same image.

use std::path::Path;
use std::process::Command;

use askama::Template;
use serde::{Deserialize, Serialize};

use crate::board::{Board, Boot2, NamedRegion, Step};
use crate::build::{self, sizes, stack};
use crate::emit::manifest::{CompileReport, QGRAPH_FILE};
use crate::emit::{sha256_hex, write_marked_dir};
use crate::error::{Error, Result};
use crate::interp;
use crate::ir::quant::QGraph;
use crate::target::Target;

/// The file that marks a firmware directory and describes it.
pub const MANIFEST: &str = "firmware.json";

/// What the firmware's main does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Answers `ompqc validate` over the UART (frame.h).
    Validate,
    /// Runs embedded test inputs and prints their cycles.
    Bench,
    /// A clean main to start an application from.
    App,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Validate => "validate",
            Mode::Bench => "bench",
            Mode::App => "app",
        }
    }
}

/// A built firmware directory's manifest (FWDIR/firmware.json).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Firmware {
    pub ompqc_version: String,
    /// The board file it was built for, whole: `flash` and `validate` need nothing else.
    pub board: Board,
    pub core: String,
    pub mode: Mode,
    pub model: String,
    /// SHA-256 of the compiled model (DIR/model.qgraph.json): what the validation firmware reports.
    pub model_hash: String,
    /// File names in the directory.
    pub elf: String,
    pub hex: String,
    pub bin: String,
    pub entry: u64,
    pub vector_table: u64,
    pub flash_base: u64,
    pub flash_bytes: u64,
    pub flash_capacity: u64,
    /// Static RAM: data and zero-initialised data (the arena, the model's buffers), without the stack.
    pub ram_bytes: u64,
    pub ram_capacity: u64,
    /// The stack the link keeps free: the model's deepest call chain plus the firmware's own frames.
    pub stack_bytes: u64,
    pub sections: sizes::Sections,
}

impl Firmware {
    pub fn load(dir: &Path) -> Result<Firmware> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::input(format!(
                "{}: not a firmware directory (no {MANIFEST}: {e}); build one with `ompqc firmware`",
                dir.display()
            ))
        })?;
        serde_json::from_str(&text).map_err(|e| Error::input(format!("{}: {e}", path.display())))
    }

    pub fn to_text(&self) -> String {
        let pct = |a: u64, b: u64| if b > 0 { 100.0 * a as f64 / b as f64 } else { 0.0 };
        format!(
            "firmware {} for {} ({} code, {} mode): entry {:#x}, vector table at {:#x} (flash at {:#x})\n\
             flash {} of {} bytes ({:.1}%): text {}, rodata {}, data {}\n\
             RAM {} of {} bytes ({:.1}%) and {} kept for the stack: data {}, bss {}\n\
             wrote {}, {} and {}\n",
            self.model,
            self.board.name,
            self.core,
            self.mode.name(),
            self.entry,
            self.vector_table,
            self.flash_base,
            self.flash_bytes,
            self.flash_capacity,
            pct(self.flash_bytes, self.flash_capacity),
            self.sections.text,
            self.sections.rodata,
            self.sections.data,
            self.ram_bytes,
            self.ram_capacity,
            pct(self.ram_bytes + self.stack_bytes, self.ram_capacity),
            self.stack_bytes,
            self.sections.data,
            self.sections.bss,
            self.elf,
            self.hex,
            self.bin,
        )
    }
}

/// What `firmware` builds.
pub struct Request<'a> {
    /// An `ompqc compile` output directory with generated C.
    pub dir: &'a Path,
    pub report: &'a CompileReport,
    pub graph: &'a QGraph,
    pub board: &'a Board,
    pub mode: Mode,
    /// The bench mode's embedded inputs (quantized, storage order) and how many.
    pub bench_inputs: Option<(&'a [i8], usize)>,
    pub out: &'a Path,
}

/// Stack the firmware's own frames take beyond the model's deepest call chain (main, the frame and UART code).
const FIRMWARE_STACK: u64 = 512;

/// Checks that the compiled directory can become firmware for the board, before anything is built.
pub fn check(dir: &Path, report: &CompileReport, board: &Board) -> Result<Target> {
    let target = board.target()?;
    if report.target != board.core {
        return Err(Error::input(format!(
            "{}: compiled for {}, but board {} runs {} code; compile with --target {}",
            dir.display(),
            report.target,
            board.name,
            board.core,
            board.core
        )));
    }
    if !dir.join("c").is_dir() {
        return Err(Error::input(format!("{}: no generated C here; compile with --emit c", dir.display())));
    }
    build::check_toolchain(&target)?;
    Ok(target)
}

/// Writes the project and builds it into `req.out`, all at once: a failed build leaves no directory.
pub fn build(req: &Request) -> Result<Firmware> {
    let board = req.board;
    let target = check(req.dir, req.report, board)?;
    crate::emit::check_marked_dir(req.out, MANIFEST)?;
    let work = std::env::temp_dir().join(format!("ompqc-firmware-{}-{}", std::process::id(), crate::run::unique()));
    let result = build_in(req, &target, &work);
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn build_in(req: &Request, target: &Target, work: &Path) -> Result<Firmware> {
    let (board, name) = (req.board, req.report.name.as_str());
    let stack_bytes = model_stack(req, target, &work.join("stack"))? + FIRMWARE_STACK;
    let model_hash = sha256_hex(&read(&req.dir.join(QGRAPH_FILE))?);
    let stem = format!("{name}_{}", req.mode.name());
    let mut files = sources(req, target, &model_hash, stack_bytes, work)?;
    let flags = Flags::of(target);
    let c_sources: Vec<String> = files.iter().map(|(p, _)| p.clone()).filter(|p| p.ends_with(".c")).collect();
    files.push(("Makefile".into(), makefile(req, target, &flags, &stem, &c_sources)?.into_bytes()));
    let project = work.join("project");
    for (rel, bytes) in &files {
        write_file(&project.join(rel), bytes)?;
    }

    // Built here as the Makefile builds it, warnings as errors.
    let elf = project.join(format!("{stem}.elf"));
    let mut cmd = Command::new(&target.toolchain.cc);
    cmd.args(&flags.cflags).arg("-Werror").args(&c_sources).args(&flags.ldflags).arg("-o").arg(&elf);
    cmd.current_dir(&project);
    link(target, cmd, board)?;
    let objcopy = tool(target, "objcopy");
    for (format, ext) in [("ihex", "hex"), ("binary", "bin")] {
        let out = Command::new(&objcopy)
            .args(["-O", format])
            .arg(&elf)
            .arg(project.join(format!("{stem}.{ext}")))
            .output()
            .map_err(|e| Error::input(format!("cannot run {objcopy}: {e}")))?;
        if !out.status.success() {
            return Err(Error::internal(format!("{objcopy}: {}", String::from_utf8_lossy(&out.stderr).trim())));
        }
    }

    let image = Image::read(&elf)?;
    let sections = sizes::read(&[&elf])?.sections;
    let firmware = Firmware {
        ompqc_version: env!("CARGO_PKG_VERSION").into(),
        board: board.clone(),
        core: board.core.clone(),
        mode: req.mode,
        model: name.into(),
        model_hash,
        elf: format!("{stem}.elf"),
        hex: format!("{stem}.hex"),
        bin: format!("{stem}.bin"),
        entry: image.entry,
        vector_table: image.first_code,
        flash_base: board.memory.flash.base,
        flash_bytes: sections.flash(),
        flash_capacity: board.memory.flash.size,
        ram_bytes: sections.ram(),
        ram_capacity: board.memory.ram.size,
        stack_bytes,
        sections,
    };
    let flash = board.memory.flash;
    let in_flash = |a: u64| a >= flash.base && a < flash.base + flash.size;
    if !in_flash(firmware.entry) || firmware.vector_table != board.vector_table() {
        return Err(Error::internal(format!(
            "{}: entry {:#x} must lie in flash and the vector table {:#x} at {:#x}",
            elf.display(),
            firmware.entry,
            firmware.vector_table,
            board.vector_table()
        )));
    }
    let manifest = serde_json::to_string_pretty(&firmware).map_err(|e| Error::internal(e.to_string()))? + "\n";
    let mut outputs = files;
    for file in [&firmware.elf, &firmware.hex, &firmware.bin] {
        outputs.push((file.clone(), read(&project.join(file))?));
    }
    outputs.push((MANIFEST.into(), manifest.into_bytes()));
    write_marked_dir(req.out, &outputs, MANIFEST)?;
    Ok(firmware)
}

/// Builds the image; the linker's "region overflowed" and the stack assertion become one line saying what does not
/// fit (an input error: the model is too large for the board).
fn link(target: &Target, mut cmd: Command, board: &Board) -> Result<()> {
    let cc = &target.toolchain.cc;
    let out = cmd.output().map_err(|e| Error::input(format!("target {}: cannot run {cc}: {e}", target.name)))?;
    if out.status.success() {
        return Ok(());
    }
    let log = String::from_utf8_lossy(&out.stderr);
    let (flash, ram) = (board.memory.flash.size, board.memory.ram.size);
    if let Some(line) = log.lines().find(|l| l.contains("overflowed") || l.contains("the stack needs")) {
        let what = line.rsplit(": ").next().unwrap_or(line).trim();
        return Err(Error::input(format!(
            "board {}: the firmware does not fit its {flash} bytes of flash and {ram} bytes of RAM ({what})",
            board.name
        )));
    }
    let first = log.lines().find(|l| l.contains("error") && !l.contains("collect2")).unwrap_or("").trim();
    Err(Error::internal(format!("board {}: building the firmware with {cc} failed: {first}", board.name)))
}

/// The compiler flags of the project: the target's code generation flags, then the firmware's own.
struct Flags {
    cflags: Vec<String>,
    ldflags: Vec<String>,
}

impl Flags {
    fn of(target: &Target) -> Flags {
        let mut cflags = target.toolchain.cflags.clone();
        cflags.extend(
            [build::firmware::FIRMWARE_OPT, "-std=c99", "-Wall", "-Wextra", "-pedantic", "-I.", "-Imodel"]
                .map(String::from),
        );
        cflags.extend(build::SECTION_FLAGS.iter().map(|f| f.to_string()));
        let ldflags = ["-nostartfiles", "-T", "link.ld", "-Wl,--gc-sections"].map(String::from).to_vec();
        Flags { cflags, ldflags }
    }
}

/// A binutils tool beside the target's C compiler (arm-none-eabi-gcc -> arm-none-eabi-objcopy).
fn tool(target: &Target, name: &str) -> String {
    let cc = &target.toolchain.cc;
    match cc.strip_suffix("gcc") {
        Some(prefix) => format!("{prefix}{name}"),
        None => name.to_string(),
    }
}

/// The bound on the model's stack from its C's call graph, at the firmware's optimisation.
fn model_stack(req: &Request, target: &Target, out: &Path) -> Result<u64> {
    let c_dir = req.dir.join("c");
    let flags = [build::firmware::FIRMWARE_OPT, stack::CALLGRAPH_FLAG];
    let objects = build::compile_objects(target, &build::c_sources(&c_dir)?, &c_dir, &flags, out)?;
    let name = &req.report.name;
    Ok(stack::deepest(&stack::callgraph_files(&objects), name, &format!("{name}_run"))? as u64)
}

#[derive(Template)]
#[template(path = "firmware/board.h.txt", escape = "none")]
struct BoardHeader<'a> {
    version: &'a str,
    board: &'a str,
    description: &'a str,
    clock_hz: u64,
    uart_kind: &'a str,
    baud: u32,
    uart_clock_hz: u64,
    uart_base: u64,
    divisor: u64,
    tx_pin: Option<u32>,
    rx_pin: Option<u32>,
    counter_macro: &'a str,
    counter_base: Option<u64>,
    setup: &'a [Step],
}

#[derive(Template)]
#[template(path = "firmware/link.ld.txt", escape = "none")]
struct LinkScript<'a> {
    version: &'a str,
    board: &'a str,
    riscv: bool,
    boot2: bool,
    flash_base: u64,
    flash_size: u64,
    ram_base: u64,
    ram_size: u64,
    extra: &'a [NamedRegion],
    stack_bytes: u64,
}

#[derive(Template)]
#[template(path = "firmware/main-validate.c.txt", escape = "none")]
struct ValidateMain<'a> {
    version: &'a str,
    name: &'a str,
    upper: &'a str,
    board: &'a str,
    hash_bytes: &'a str,
}

#[derive(Template)]
#[template(path = "firmware/main-bench.c.txt", escape = "none")]
struct BenchMain<'a> {
    version: &'a str,
    name: &'a str,
    upper: &'a str,
    board: &'a str,
    count: usize,
    inputs: Vec<String>,
    expected: Vec<String>,
}

#[derive(Template)]
#[template(path = "firmware/main-app.c.txt", escape = "none")]
struct AppMain<'a> {
    version: &'a str,
    name: &'a str,
    upper: &'a str,
    board: &'a str,
}

#[derive(Template)]
#[template(path = "firmware/Makefile.txt", escape = "none")]
struct Makefile<'a> {
    version: &'a str,
    name: &'a str,
    mode: &'a str,
    board: &'a str,
    core: &'a str,
    packages: &'a str,
    stem: &'a str,
    cc: &'a str,
    objcopy: &'a str,
    size: &'a str,
    cflags: &'a str,
    ldflags: &'a str,
    sources: &'a str,
}

/// The second-stage bootloader's source, and the C array of its bytes as the boot ROM wants them: assembled here,
/// padded to 252 bytes and followed by their CRC-32 (polynomial 0x04C11DB7, initial value 0xFFFFFFFF, neither
/// reflected nor inverted).
fn boot2(kind: Boot2, target: &Target, work: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let Boot2::Rp2040 = kind;
    let source = include_str!("../../templates/firmware/boot2-rp2040.S");
    let dir = work.join("boot2");
    write_file(&dir.join("boot2.S"), source.as_bytes())?;
    let object = dir.join("boot2.o");
    let mut cmd = Command::new(&target.toolchain.cc);
    cmd.args(&target.toolchain.cflags).arg("-c").arg(dir.join("boot2.S")).arg("-o").arg(&object);
    build::run_compiler(target, cmd, "assembling the second-stage bootloader")?;
    let bytes = read(&object)?;
    let code = {
        use object::{Object, ObjectSection};
        let file = object::File::parse(&*bytes).map_err(|e| Error::internal(format!("boot2.o: {e}")))?;
        let text = file.section_by_name(".text").ok_or_else(|| Error::internal("boot2.o: no .text"))?;
        text.data().map_err(|e| Error::internal(format!("boot2.o: {e}")))?.to_vec()
    };
    let size = kind.size() as usize;
    if code.len() > size - 4 {
        return Err(Error::internal(format!(
            "the second-stage bootloader takes {} bytes, over {}",
            code.len(),
            size - 4
        )));
    }
    let mut image = code;
    image.resize(size - 4, 0);
    image.extend(crc32_mpeg2(&image).to_le_bytes());
    let mut c = format!(
        "/* Generated by ompqc {}: boot2.S assembled, padded to {} bytes and followed by their CRC-32, which the boot \
         ROM checks before running it. link.ld places it first in flash. */\n#include <stdint.h>\n\n\
         __attribute__((section(\".boot2\"), used)) const uint8_t ompqc_boot2[{size}] = {{\n",
        env!("CARGO_PKG_VERSION"),
        size - 4
    );
    for line in image.chunks(16) {
        c += "    ";
        c += &line.iter().map(|b| format!("0x{b:02x}")).collect::<Vec<_>>().join(", ");
        c += ",\n";
    }
    c += "};\n";
    Ok(vec![("boot2.S".into(), source.as_bytes().to_vec()), ("boot2.c".into(), c.into_bytes())])
}

/// CRC-32/MPEG-2: polynomial 0x04C11DB7, initial value 0xFFFFFFFF, neither reflected nor inverted.
fn crc32_mpeg2(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0xFFFF_FFFF, |mut crc: u32, &b| {
        crc ^= (b as u32) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 { (crc << 1) ^ 0x04C1_1DB7 } else { crc << 1 };
        }
        crc
    })
}

/// The UART drivers, by kind.
fn uart_driver(board: &Board) -> &'static str {
    use crate::board::UartKind::*;
    match board.uart.kind {
        Stm32Usart => include_str!("../../templates/firmware/uart/stm32-usart.c"),
        Stm32UsartV2 => include_str!("../../templates/firmware/uart/stm32-usart-v2.c"),
        NrfUart => include_str!("../../templates/firmware/uart/nrf-uart.c"),
        NrfUarte => include_str!("../../templates/firmware/uart/nrf-uarte.c"),
        SifiveUart => include_str!("../../templates/firmware/uart/sifive-uart.c"),
        Pl011 => include_str!("../../templates/firmware/uart/pl011.c"),
    }
}

fn render(template: &impl Template, what: &str) -> Result<Vec<u8>> {
    template.render().map(String::into_bytes).map_err(|e| Error::internal(format!("rendering {what}: {e}")))
}

/// The project's sources: (path in the project, contents).
fn sources(
    req: &Request,
    target: &Target,
    model_hash: &str,
    stack_bytes: u64,
    work: &Path,
) -> Result<Vec<(String, Vec<u8>)>> {
    let (board, name) = (req.board, req.report.name.as_str());
    let version = env!("CARGO_PKG_VERSION");
    let upper = name.to_ascii_uppercase();
    let riscv = target.architecture.starts_with("rv");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for source in
        build::c_sources(&req.dir.join("c"))?.into_iter().chain(build::files_with_extension(&req.dir.join("c"), "h")?)
    {
        let file = source.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        files.push((format!("model/{file}"), read(&source)?));
    }
    let header = BoardHeader {
        version,
        board: &board.name,
        description: &board.description,
        clock_hz: board.clock_hz,
        uart_kind: board.uart.kind.name(),
        baud: board.uart.baud,
        uart_clock_hz: board.uart.clock_hz,
        uart_base: board.uart.base,
        divisor: board.uart_divisor(),
        tx_pin: board.uart.tx_pin,
        rx_pin: board.uart.rx_pin,
        counter_macro: board.counter.kind.macro_name(),
        counter_base: board.counter.base,
        setup: &board.uart.setup,
    };
    files.push(("board.h".into(), render(&header, "board.h")?));
    let link = LinkScript {
        version,
        board: &board.name,
        riscv,
        boot2: board.boot2.is_some(),
        flash_base: board.memory.flash.base,
        flash_size: board.memory.flash.size,
        ram_base: board.memory.ram.base,
        ram_size: board.memory.ram.size,
        extra: &board.memory.extra,
        stack_bytes,
    };
    files.push(("link.ld".into(), render(&link, "link.ld")?));
    let fixed: &[(&str, &str)] = &[
        ("board.c", include_str!("../../templates/firmware/board.c")),
        ("console.c", include_str!("../../templates/firmware/console.c")),
        ("counter.c", include_str!("../../templates/firmware/counter.c")),
        ("counter.h", include_str!("../../templates/firmware/counter.h")),
        ("uart.h", include_str!("../../templates/firmware/uart.h")),
        ("uart.c", uart_driver(board)),
        (
            "startup.c",
            if riscv {
                include_str!("../../templates/firmware/startup-riscv.c")
            } else {
                include_str!("../../templates/firmware/startup-arm.c")
            },
        ),
    ];
    files.extend(fixed.iter().map(|(p, text)| (p.to_string(), text.as_bytes().to_vec())));
    if let Some(kind) = board.boot2 {
        files.extend(boot2(kind, target, work)?);
    }
    let main = match req.mode {
        Mode::Validate => {
            files.push(("frame.c".into(), include_bytes!("../../templates/firmware/frame.c").to_vec()));
            files.push(("frame.h".into(), include_bytes!("../../templates/firmware/frame.h").to_vec()));
            let hash_bytes =
                (0..8).map(|i| format!("0x{}u", &model_hash[2 * i..2 * i + 2])).collect::<Vec<_>>().join(", ");
            let main = ValidateMain { version, name, upper: &upper, board: &board.name, hash_bytes: &hash_bytes };
            render(&main, "the validation main")?
        }
        Mode::Bench => {
            let (input, count) = req.bench_inputs.unwrap_or((&[], 0));
            if count == 0 {
                return Err(Error::input("--mode bench: no inputs to embed"));
            }
            let expected = interp::run(req.graph, input, count);
            let rows = |data: &[i8], len: usize| -> Vec<String> {
                data.chunks(len.max(1))
                    .map(|row| row.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", "))
                    .collect()
            };
            let (in_len, out_len) = (input.len() / count, expected.len() / count);
            let main = BenchMain {
                version,
                name,
                upper: &upper,
                board: &board.name,
                count,
                inputs: rows(input, in_len),
                expected: rows(&expected, out_len),
            };
            render(&main, "the benchmark main")?
        }
        Mode::App => render(&AppMain { version, name, upper: &upper, board: &board.name }, "the application main")?,
    };
    files.push(("main.c".into(), main));
    files.sort();
    Ok(files)
}

fn makefile(req: &Request, target: &Target, flags: &Flags, stem: &str, sources: &[String]) -> Result<String> {
    let make = Makefile {
        version: env!("CARGO_PKG_VERSION"),
        name: &req.report.name,
        mode: req.mode.name(),
        board: &req.board.name,
        core: &req.board.core,
        packages: &target.toolchain.packages.join(", "),
        stem,
        cc: &target.toolchain.cc,
        objcopy: &tool(target, "objcopy"),
        size: &tool(target, "size"),
        cflags: &flags.cflags.join(" "),
        ldflags: &flags.ldflags.join(" "),
        sources: &sources.join(" "),
    };
    make.render().map_err(|e| Error::internal(format!("rendering the Makefile: {e}")))
}

/// Where a linked image starts: its entry point and the lowest address of code (the vector table on Arm).
struct Image {
    entry: u64,
    first_code: u64,
}

impl Image {
    fn read(elf: &Path) -> Result<Image> {
        use object::{Object, ObjectSection, SectionKind};
        let bytes = read(elf)?;
        let file = object::File::parse(&*bytes).map_err(|e| Error::internal(format!("{}: {e}", elf.display())))?;
        let first_code = file
            .sections()
            .filter(|s| s.kind() == SectionKind::Text && s.size() > 0)
            .map(|s| s.address())
            .min()
            .unwrap_or(0);
        Ok(Image { entry: file.entry(), first_code })
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::input(format!("{}: {e}", path.display())))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::internal(format!("{}: {e}", parent.display())))?;
    }
    std::fs::write(path, bytes).map_err(|e| Error::internal(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_boot2_checksum_is_crc32_mpeg2() {
        // The standard check value over "123456789".
        assert_eq!(super::crc32_mpeg2(b"123456789"), 0x0376_E6E7);
    }
}
