//! Firmware runs under emulation: the generated C and a bare-metal harness with the inputs embedded, built with
//! the target's toolchain and run under QEMU with `-icount shift=0`. Outputs come back over semihosting; an
//! instruction-counting QEMU plugin (templates/qemu) records exact counts at the harness's marks.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::build::{
    self,
    firmware::{inputs_source, render_harness, Buffers, FIRMWARE_OPT, STACK_MARGIN},
    sizes, stack,
};
use crate::emit::manifest::CompileReport;
use crate::emit::Lang;
use crate::error::{Error, Result};
use crate::ir::quant::QGraph;
use crate::target::{Emulator, Target};

const PLUGIN_SOURCE: &str = include_str!("../../templates/qemu/icount_plugin.c.txt");

/// Flash kept for the harness, the C library and the start-up code when sizing batches of embedded inputs.
const HARNESS_FLASH_BYTES: u64 = 64 * 1024;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LayerCount {
    pub name: String,
    pub op: String,
    /// The kernel that ran it (plan::kernels).
    pub kernel: String,
    pub macs: u64,
    pub instructions: u64,
    /// The cycle estimate (`FirmwareRun::cycles_estimate`), on cores with a timing table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cycles: Option<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FirmwareRun {
    pub target: String,
    /// The generated code that ran: c or rust.
    pub lang: String,
    pub machine: String,
    pub inputs: usize,
    pub mismatched_bytes: usize,
    pub bit_exact: bool,
    /// (input, byte) of the first difference.
    pub first_mismatch: Option<(usize, usize)>,
    /// Bytes of one inference's output.
    pub output_bytes: usize,
    pub macs: u64,
    /// The mean over the inputs of the instructions from the call of NAME_run to its return.
    pub instructions_per_inference: u64,
    pub instructions_per_mac: f64,
    /// The fewest and the most instructions any input took.
    pub instructions_range: (u64, u64),
    /// The mean cycles per inference the QEMU plugin estimates from the core's Technical Reference Manual timings
    /// (zero wait states; templates/qemu says what it counts), on cores with a timing table (`cycle_model`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cycles_estimate: Option<u64>,
    /// The board's clock (`clock_hz`) and the estimate's milliseconds per inference at it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_hz: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ms_at_clock: Option<f64>,
    /// Per layer, on the first input (`--profile`).
    pub layers: Option<Vec<LayerCount>>,
    /// The bound on NAME_run's stack from the C's call graph (build::stack), at the firmware's optimisation.
    pub stack_bytes: Option<u64>,
    /// The most stack any run used, measured by painting (at least the harness's margin, `STACK_MARGIN`).
    pub stack_used: u64,
}

/// What a run needs beyond the compiled directory.
pub struct RunRequest<'a> {
    pub dir: &'a Path,
    /// The directory's report: the model's name, its arenas and the layers the profile reports.
    pub report: &'a CompileReport,
    pub graph: &'a QGraph,
    pub lang: Lang,
    /// Quantized inputs, `n` samples in storage order.
    pub input: &'a [i8],
    pub n: usize,
    pub profile: bool,
    /// Wall-clock limit per emulator run; `None` scales with the work.
    pub timeout: Option<Duration>,
}

/// Checks that the target can run firmware here: an emulator entry, its QEMU and the toolchain installed.
pub fn check_runnable(target: &Target) -> Result<&Emulator> {
    let emulator = target.emulator.as_ref().ok_or_else(|| {
        Error::input(format!("target {}: no emulator entry in its target file, so `run` cannot run it", target.name))
    })?;
    build::check_toolchain(target)?;
    if !build::is_installed(&emulator.qemu) {
        return Err(Error::input(format!(
            "target {}: the emulator {} is not installed (Debian: apt-get install {})",
            target.name,
            emulator.qemu,
            emulator.packages.join(" ")
        )));
    }
    Ok(emulator)
}

/// Builds the firmware for `target`, runs it under QEMU and compares every output byte with the interpreter.
pub fn run(target: &Target, req: &RunRequest) -> Result<FirmwareRun> {
    let emulator = check_runnable(target)?;
    let build_dir = std::env::temp_dir().join(format!("ompqc-fw-{}-{}", std::process::id(), super::unique()));
    std::fs::create_dir_all(&build_dir).map_err(|e| Error::internal(format!("{}: {e}", build_dir.display())))?;
    let result = run_in(target, emulator, req, &build_dir);
    let _ = std::fs::remove_dir_all(&build_dir);
    result
}

/// What every image of a run shares: the objects of the harness and the model (in that order: a static library is
/// searched for what the objects before it need), the compiler flags, the flash the model takes and the bound on
/// its stack from the C's call graph (none for Rust).
struct Shared {
    objects: Vec<PathBuf>,
    flags: Vec<String>,
    model_flash: u64,
    stack_bound: Option<u64>,
}

/// The stack the harness paints for a Rust model (its call graph is not known).
const RUST_STACK_PAINT: usize = 16 * 1024;

fn build_shared(target: &Target, req: &RunRequest, build_dir: &Path) -> Result<Shared> {
    let (graph, name) = (req.graph, req.report.name.as_str());
    let arena = match req.lang {
        Lang::C => req.report.arena_bytes,
        Lang::Rust => req.report.rust_arena_bytes.unwrap_or(req.report.arena_bytes),
    };
    let c_dir = req.dir.join("c");
    let mut flags = vec![FIRMWARE_OPT.to_string()];
    if req.profile {
        let hook = build_dir.join("ompqc_profile.h");
        let text =
            format!("void ompqc_mark(void);\n#define {}(layer) ompqc_mark()\n", crate::emit::c::layer_hook(name));
        write(&hook, &text)?;
        flags.extend(["-include".to_string(), hook.display().to_string()]);
    }
    let flag_refs: Vec<&str> = flags.iter().map(String::as_str).collect();
    let (model, stack_bound) = match req.lang {
        Lang::C => {
            let with_graph = [&flag_refs[..], &[stack::CALLGRAPH_FLAG]].concat();
            let model = build::compile_objects(target, &build::c_sources(&c_dir)?, &c_dir, &with_graph, build_dir)?;
            let bound = stack::deepest(&stack::callgraph_files(&model), name, &format!("{name}_run"))?;
            (model, Some(bound as u64))
        }
        Lang::Rust => {
            // Its standard library is installed.
            rust_triple(target)?;
            (vec![super::rust::build_staticlib(req.dir, name, &target.toolchain, req.profile, build_dir)?], None)
        }
    };
    let harness = build_dir.join("ompqc_firmware.c");
    let paint = stack_bound.map_or(RUST_STACK_PAINT, |b| b as usize);
    write(&harness, &render_harness(name, Buffers::of(graph, arena), paint)?)?;
    let mut objects = build::compile_objects(target, &[harness], build_dir, &flag_refs, &build_dir.join("harness"))?;
    objects.extend(model);
    let model_flash = match req.lang {
        Lang::C => sizes::read(&objects)?.sections.flash(),
        // The static library is not an ELF object: size the batches by the constants, with room for code.
        Lang::Rust => (graph.nodes.iter().map(|n| n.op.constant_bytes()).sum::<usize>() + 64 * 1024) as u64,
    };
    Ok(Shared { objects, flags, model_flash, stack_bound })
}

/// What one firmware image reports: the outputs, the instruction and cycle counts at the harness's marks, and the
/// stack bytes used.
struct ImageRun {
    outputs: Vec<u8>,
    marks: Vec<(u64, u64)>,
    stack: u64,
}

/// Builds and runs the image embedding inputs `start..start + count`: their outputs, and the instruction counts at
/// the harness's marks.
fn run_image(
    target: &Target,
    emulator: &Emulator,
    req: &RunRequest,
    shared: &Shared,
    plugin: &Path,
    (start, count): (usize, usize),
    build_dir: &Path,
) -> Result<ImageRun> {
    let graph = req.graph;
    let (in_size, out_size) = (graph.tensor(graph.input).elems(), graph.tensor(graph.output).elems());
    let flags: Vec<&str> = shared.flags.iter().map(String::as_str).collect();
    let batch = &req.input[start * in_size..(start + count) * in_size];
    let image_dir = build_dir.join(format!("image{start}"));
    let inputs_c = image_dir.join("ompqc_inputs.c");
    std::fs::create_dir_all(&image_dir).map_err(|e| Error::internal(format!("{}: {e}", image_dir.display())))?;
    write(&inputs_c, &inputs_source(batch, count))?;
    let mut objects = shared.objects.clone();
    objects.insert(0, build::compile_objects(target, &[inputs_c], build_dir, &flags, &image_dir)?.remove(0));
    let image = image_dir.join("firmware.elf");
    build::firmware::link(target, &objects, &flags, &image)?;
    let timeout = req.timeout.unwrap_or_else(|| default_timeout(graph.macs(), count));
    let marks = emulate(target, emulator, &image, plugin, &image_dir, timeout)?;
    let got = std::fs::read(image_dir.join("outputs.bin"))
        .map_err(|e| Error::internal(format!("target {}: the firmware wrote no outputs ({e})", target.name)))?;
    if got.len() != count * out_size {
        return Err(Error::internal(format!(
            "target {}: the firmware wrote {} output bytes, expected {}",
            target.name,
            got.len(),
            count * out_size
        )));
    }
    let stack = std::fs::read(image_dir.join("stack.bin"))
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::internal(format!("target {}: the firmware wrote no stack measurement", target.name)))?;
    Ok(ImageRun { outputs: got, marks, stack: u32::from_le_bytes(stack) as u64 })
}

fn run_in(target: &Target, emulator: &Emulator, req: &RunRequest, build_dir: &Path) -> Result<FirmwareRun> {
    let graph = req.graph;
    let (in_size, out_size) = (graph.tensor(graph.input).elems(), graph.tensor(graph.output).elems());
    let shared = build_shared(target, req, build_dir)?;
    let plugin = build_plugin(build_dir)?;
    // Inputs are embedded in flash: as many per image as the emulated board's flash holds.
    let room = emulator.flash_size.saturating_sub(shared.model_flash + HARNESS_FLASH_BYTES);
    let per_image = ((room / in_size.max(1) as u64) as usize).clamp(1, req.n.max(1));
    let hooks = if req.profile { req.report.profiled_layers() } else { vec![] };
    let mut outputs = Vec::with_capacity(req.n * out_size);
    // Instructions, then cycle estimates: per input, and per hooked layer of the first input.
    let mut spans = [Spans::default(), Spans::default()];
    let mut stack_used = 0;
    for start in (0..req.n).step_by(per_image) {
        let count = per_image.min(req.n - start);
        let ImageRun { outputs: got, marks, stack } =
            run_image(target, emulator, req, &shared, &plugin, (start, count), build_dir)?;
        outputs.extend(got);
        stack_used = stack_used.max(stack);
        if marks.len() != 2 + count * (2 + hooks.len()) {
            return Err(Error::internal(format!(
                "target {}: the instruction counter recorded {} marks, expected {}",
                target.name,
                marks.len(),
                2 + count * (2 + hooks.len())
            )));
        }
        spans[0].add(&marks.iter().map(|m| m.0).collect::<Vec<_>>(), hooks.len());
        spans[1].add(&marks.iter().map(|m| m.1).collect::<Vec<_>>(), hooks.len());
    }
    let [Spans { totals: counts, first_layers }, cycles] = spans;

    // A run within the harness's unpainted margin reads as the margin.
    if let Some(bound) = shared.stack_bound.filter(|&b| stack_used > b.max(STACK_MARGIN as u64)) {
        return Err(Error::internal(format!(
            "target {}: the model used {stack_used} bytes of stack, more than its call graph's bound of {bound}",
            target.name
        )));
    }
    let (mismatched, first) = super::compare(graph, req.input, req.n, &outputs);
    let macs = graph.macs();
    let mean = counts.iter().sum::<u64>() / counts.len().max(1) as u64;
    let timed = target.cycle_model.is_some();
    let cycles_estimate = timed.then(|| cycles.totals.iter().sum::<u64>() / cycles.totals.len().max(1) as u64);
    let layer_cycles = cycles.first_layers.filter(|_| timed).unwrap_or_default();
    let layers = first_layers.map(|cs| {
        hooks
            .iter()
            .zip(cs)
            .enumerate()
            .map(|(i, (&(ix, layer), instructions))| LayerCount {
                name: layer.name.clone(),
                // An add the convolution computes is counted in its layer.
                op: if layer.fused_add.is_some() { format!("{}+Add", layer.op) } else { layer.op.clone() },
                kernel: layer.kernel.clone(),
                macs: graph.node_macs(ix),
                instructions,
                cycles: layer_cycles.get(i).copied(),
            })
            .collect()
    });
    Ok(FirmwareRun {
        target: target.name.clone(),
        lang: req.lang.dir().to_string(),
        machine: emulator.machine.clone(),
        inputs: req.n,
        mismatched_bytes: mismatched,
        bit_exact: mismatched == 0,
        first_mismatch: first,
        output_bytes: out_size,
        macs,
        instructions_per_inference: mean,
        instructions_per_mac: if macs > 0 { mean as f64 / macs as f64 } else { 0.0 },
        instructions_range: (counts.iter().copied().min().unwrap_or(0), counts.iter().copied().max().unwrap_or(0)),
        cycles_estimate,
        clock_hz: target.clock_hz,
        ms_at_clock: cycles_estimate.zip(target.clock_hz).map(|(c, hz)| c as f64 * 1e3 / hz as f64),
        layers,
        stack_bytes: shared.stack_bound,
        stack_used,
    })
}

/// One counter's readings at the harness's marks, as spans: two marks calibrate the cost of a mark, then per input
/// its start, a mark per hooked layer and its end.
#[derive(Default)]
struct Spans {
    /// Per input, from its start to its end.
    totals: Vec<u64>,
    /// Per hooked layer, on the first input.
    first_layers: Option<Vec<u64>>,
}

impl Spans {
    fn add(&mut self, marks: &[u64], hooks: usize) {
        let (per_input, mark_cost) = (2 + hooks, marks[1] - marks[0]);
        for input in marks[2..].chunks(per_input) {
            self.totals.push(input[per_input - 1] - input[0] - mark_cost * (per_input as u64 - 1));
            if self.first_layers.is_none() && hooks > 0 {
                self.first_layers = Some(input.windows(2).take(hooks).map(|w| w[1] - w[0] - mark_cost).collect());
            }
        }
    }
}

/// The Rust target triple of `target`, installed.
fn rust_triple(target: &Target) -> Result<&str> {
    let triple = target.toolchain.rust_target.as_deref().ok_or_else(|| {
        Error::input(format!("target {}: its target file names no rust_target, so it cannot run Rust", target.name))
    })?;
    super::rust::check_rust_target(&target.name, triple)?;
    Ok(triple)
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::internal(format!("{}: {e}", path.display())))
}

/// Builds the instruction-counting plugin with the host's C compiler.
fn build_plugin(build_dir: &Path) -> Result<PathBuf> {
    let source = build_dir.join("ompqc_icount.c");
    let plugin = build_dir.join("ompqc_icount.so");
    write(&source, PLUGIN_SOURCE)?;
    let cc = super::host_cc();
    let out = Command::new(&cc)
        .args(["-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&plugin)
        .arg(&source)
        .output()
        .map_err(|e| Error::input(format!("cannot run the host C compiler '{cc}' for the QEMU plugin ({e})")))?;
    if !out.status.success() {
        let log = String::from_utf8_lossy(&out.stderr);
        return Err(Error::internal(format!("building the QEMU plugin: {}", log.lines().next().unwrap_or(""))));
    }
    Ok(plugin)
}

/// A generous wall-clock limit: QEMU with the counting plugin runs well above 20 M instructions per second here,
/// and the reference kernels stay below 60 instructions per MAC.
fn default_timeout(macs: u64, inputs: usize) -> Duration {
    let instructions = (macs.max(10_000) * 60 * inputs as u64) as f64;
    Duration::from_secs_f64(30.0 + instructions / 20e6)
}

/// Runs `image` under QEMU in `dir` (semihosting files land there) and returns the instruction counts and cycle
/// estimates (0 without a timing table) at the marks.
fn emulate(
    target: &Target,
    emulator: &Emulator,
    image: &Path,
    plugin: &Path,
    dir: &Path,
    timeout: Duration,
) -> Result<Vec<(u64, u64)>> {
    let marker = marker_address(image)?;
    let counts_path = dir.join("counts.txt");
    let mut qemu = Command::new(&emulator.qemu);
    super::die_with_parent(&mut qemu);
    let mut child = qemu
        .args(["-M", &emulator.machine])
        .args(&emulator.args)
        .args(["-nographic", "-monitor", "none", "-serial", "none"])
        .args(["-semihosting-config", "enable=on,target=native", "-icount", "shift=0"])
        .arg("-plugin")
        .arg(format!(
            "{},marker={marker:#x},out={}{}",
            plugin.display(),
            counts_path.display(),
            target.cycle_model.as_ref().map(|m| format!(",timing={m}")).unwrap_or_default()
        ))
        .arg("-kernel")
        .arg(image)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::input(format!("target {}: cannot start {}: {e}", target.name, emulator.qemu)))?;
    // The pipes are drained on threads so that a chatty guest cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| Error::internal(format!("waiting for QEMU: {e}")))? {
            break Some(status);
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let log = format!("{}{}", stdout.join().unwrap_or_default(), stderr.join().unwrap_or_default());
    let first_line = log.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no output").to_string();
    let Some(status) = status else {
        return Err(Error::internal(format!(
            "target {}: the firmware did not finish within {:.1} s under {} (a hang?); last output: {first_line}",
            target.name,
            timeout.as_secs_f64(),
            emulator.machine
        )));
    };
    if !status.success() {
        return Err(Error::internal(format!(
            "target {}: the firmware failed under {} ({status}): {first_line}",
            target.name, emulator.machine
        )));
    }
    let text = std::fs::read_to_string(&counts_path)
        .map_err(|e| Error::internal(format!("target {}: no instruction counts ({e})", target.name)))?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let mut numbers = l.split_whitespace().map(|n| n.parse::<u64>().ok());
            Some((numbers.next()??, numbers.next()??))
        })
        .collect())
}

/// The address of the harness's `ompqc_mark`; Thumb symbols carry the mode in bit 0, instructions do not.
fn marker_address(image: &Path) -> Result<u64> {
    use object::{Object, ObjectSymbol};
    let bytes = std::fs::read(image).map_err(|e| Error::internal(format!("{}: {e}", image.display())))?;
    let file = object::File::parse(&*bytes).map_err(|e| Error::internal(format!("{}: {e}", image.display())))?;
    let symbol = file
        .symbols()
        .find(|s| s.name() == Ok("ompqc_mark"))
        .ok_or_else(|| Error::internal(format!("{}: no ompqc_mark symbol", image.display())))?;
    let thumb = file.architecture() == object::Architecture::Arm;
    Ok(if thumb { symbol.address() & !1 } else { symbol.address() })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plugin's cycle table, driven from a host program: per (core, instructions in a row), the cycles of the
    /// last one (the TRMs' Table 3-1 entries, with pipelined neighbouring loads).
    #[test]
    fn the_cycle_model_prices_instructions_as_the_trm_tables_do() {
        let cases: &[(&str, &[&str], u32)] = &[
            ("cortex-m4", &["smlad r3, r9, sl, r3"], 1),
            ("cortex-m4", &["sxtb16 r7, r8, ror #8"], 1),
            ("cortex-m4", &["ldr.w r6, [r1], #4"], 2),
            // Neighbouring single loads pipeline, unless the second's base is the first's result.
            ("cortex-m4", &["ldr.w r7, [r2], #4", "ldr.w r6, [r1], #4"], 1),
            ("cortex-m4", &["ldr r6, [r1]", "ldr r2, [r6, #4]"], 2),
            ("cortex-m4", &["strb r3, [r2, r1]", "ldrsb r3, [r0, #1]!"], 1),
            ("cortex-m4", &["ldrd r9, r6, [ip], #8"], 3),
            ("cortex-m4", &["pop {r4, r5, r6, pc}"], 5),
            ("cortex-m4", &["vpush {d8}"], 3),
            ("cortex-m4", &["stmdb sp!, {r4, r5, r6, r7, r8, r9, sl, fp, lr}"], 10),
            ("cortex-m4", &["smlal r2, r1, r3, r4"], 1),
            ("cortex-m4", &["mla r0, r1, r2, r3"], 1),
            ("cortex-m4", &["sdiv r0, r1, r2"], 12),
            ("cortex-m4", &["vdiv.f32 s0, s1, s2"], 14),
            ("cortex-m4", &["bne #0x1830"], 1),
            ("cortex-m3", &["smull r2, r1, r3, r4"], 5),
            ("cortex-m3", &["smlal r2, r1, r3, r4"], 7),
            ("cortex-m3", &["mls r0, r1, r2, r3"], 2),
            ("cortex-m3", &["udiv r0, r1, r2"], 12),
        ];
        let dir = std::env::temp_dir().join(format!("ompqc-cycles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Only the plugin's table runs here: the QEMU API it calls stays unresolved (see the link flags).
        let mut driver = String::from(
            "#include \"plugin.c\"\n\
             static unsigned run(const char *core, const char **texts, int n) {\n\
                 char loaded[8] = {0}, now[8];\n int single = 0, s, i; unsigned c = 0; size_t t;\n\
                 for (t = 0; t < 2; t++) if (!strcmp(TIMINGS[t].core, core)) timing = &TIMINGS[t];\n\
                 for (i = 0; i < n; i++) { c = cycles_of(texts[i], single, loaded, &s, now); single = s; \
                 strcpy(loaded, now); }\n return c;\n}\nint main(void) {\n",
        );
        for (i, (core, texts, _)) in cases.iter().enumerate() {
            let list = texts.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(", ");
            driver += &format!(
                "    {{ const char *t{i}[] = {{{list}}}; printf(\"%u\\n\", run(\"{core}\", t{i}, {})); }}\n",
                texts.len()
            );
        }
        driver += "    return 0;\n}\n";
        write(&dir.join("plugin.c"), PLUGIN_SOURCE).unwrap();
        write(&dir.join("driver.c"), &driver).unwrap();
        let exe = dir.join("driver");
        let built = Command::new(super::super::host_cc())
            .args(["-O1", "-w", "-no-pie", "-Wl,--unresolved-symbols=ignore-all", "-o"])
            .arg(&exe)
            .arg(dir.join("driver.c"))
            .output()
            .unwrap();
        assert!(built.status.success(), "{}", String::from_utf8_lossy(&built.stderr));
        let out = Command::new(&exe).output().unwrap();
        let got: Vec<u32> = String::from_utf8_lossy(&out.stdout).lines().map(|l| l.parse().unwrap()).collect();
        for ((core, texts, want), got) in cases.iter().zip(&got) {
            assert_eq!(got, want, "{core}: {texts:?}");
        }
        assert_eq!(got.len(), cases.len());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
