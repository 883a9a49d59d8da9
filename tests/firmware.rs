//! Firmware for real boards (README: firmware, flash, validate): the bundled example built for the four boards QEMU
//! models as real chips, validated over their emulated UARTs on all its test inputs; a serial port (a pty); the
//! protocol's recovery from garbage and lost frames; a firmware that never answers; the flash commands.
//! The toolchains and QEMU come from scripts/test.sh; without them these tests print why they skip.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{check, compile_cli, eval_dir, input_map, ompqc, repo};
use ompqc::board::Board;
use ompqc::deploy::project::Firmware;
use ompqc::deploy::protocol::Link;
use ompqc::deploy::validate::{self, Patience};
use ompqc::emit::manifest::{load_qgraph, CompileReport};
use ompqc::Result;

/// The four boards QEMU models as real chips, with the target their code is compiled for.
const QEMU_BOARDS: &[(&str, &str)] = &[
    ("netduinoplus2", "cortex-m4"),
    ("stm32vldiscovery", "cortex-m3"),
    ("microbit", "cortex-m0plus"),
    ("hifive1", "rv32imac"),
];

/// True when the boards' toolchains and QEMUs are installed; otherwise prints why the caller skips.
fn tools_present(test: &str) -> bool {
    let missing: Vec<String> = QEMU_BOARDS
        .iter()
        .filter_map(|(board, _)| {
            let board = Board::load(board).unwrap();
            let qemu = board.qemu.as_ref().unwrap();
            let target = board.target().unwrap();
            ompqc::build::check_toolchain(&target).err().map(|e| e.message).or_else(|| {
                (!ompqc::build::is_installed(&qemu.binary)).then(|| format!("{} is not installed", qemu.binary))
            })
        })
        .collect();
    if !missing.is_empty() {
        eprintln!("{test}: skipped: {} (scripts/test.sh installs them)", missing.join("; "));
    }
    missing.is_empty()
}

fn temp(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ompqc-board-test-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn example() -> PathBuf {
    repo().join("examples/digits")
}

/// The bundled example compiled for `target` into `dir`.
fn compile_example(target: &str, dir: &Path) {
    let ex = example();
    compile_cli(&ex.join("model.onnx"), &ex.join("calib_x.npy"), 0.0625, &["--target", target, "--fast"], dir);
}

fn json(out: &std::process::Output, what: &str) -> serde_json::Value {
    check(out, what);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: {e}"))
}

#[test]
fn the_example_validates_bit_exact_on_every_board_qemu_models() {
    if !tools_present("the_example_validates_bit_exact_on_every_board_qemu_models") {
        return;
    }
    let root = temp("qemu-boards");
    std::thread::scope(|scope| {
        for &(board, target) in QEMU_BOARDS {
            let dir = root.join(board);
            scope.spawn(move || {
                compile_example(target, &dir);
                let fw = json(
                    &ompqc().arg("firmware").arg(&dir).args(["--board", board, "--json"]).output().unwrap(),
                    board,
                );
                // The image lies in the chip's real flash: entry and vector table.
                let flash = Board::load(board).unwrap().memory.flash;
                let (entry, vectors) = (fw["entry"].as_u64().unwrap(), fw["vector_table"].as_u64().unwrap());
                assert_eq!(vectors, flash.base, "{board}");
                assert!(entry >= flash.base && entry < flash.base + flash.size, "{board}: entry {entry:#x}");
                let fwdir = dir.join(format!("firmware-{board}-validate"));
                for file in ["elf", "hex", "bin"] {
                    assert!(fwdir.join(fw[file].as_str().unwrap()).is_file(), "{board}: {file}");
                }
                let result = json(
                    &ompqc()
                        .arg("validate")
                        .arg(&dir)
                        .args(["--board", board, "--qemu", "--json", "--inputs"])
                        .arg(example().join("test_x.npy"))
                        .output()
                        .unwrap(),
                    board,
                );
                assert_eq!(result["inputs"], 540, "{board}");
                assert_eq!(result["mismatched_bytes"], 0, "{board}");
                assert_eq!(result["bit_exact"], true, "{board}");
                assert_eq!(result["top1_agreement"], 1.0, "{board}");
                assert!(result["cycles_per_inference"].is_null() && result["ms_per_inference"].is_null(), "{board}");
            });
        }
    });
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn dscnn_validates_bit_exact_on_netduinoplus2() {
    let (Some(eval), true) = (eval_dir("dscnn_validates_bit_exact_on_netduinoplus2"), tools_present("dscnn")) else {
        return;
    };
    let model = eval.join("mlperf_tiny_dscnn_kws");
    let (scale, offset) = input_map(&common::meta(&model));
    let dir = temp("dscnn");
    let offset = offset.to_string();
    let args = ["--target", "cortex-m4", "--bits", "8", "--fast", "--input-offset", &offset];
    compile_cli(&model.join("model.onnx"), &model.join("calib_x.npy"), scale, &args, &dir);
    let result = json(
        &ompqc()
            .arg("validate")
            .arg(&dir)
            .args(["--board", "netduinoplus2", "--qemu", "--json", "--limit", "40", "--inputs"])
            .arg(model.join("test_x.npy"))
            .output()
            .unwrap(),
        "validate DS-CNN",
    );
    assert_eq!((result["inputs"].as_u64(), result["mismatched_bytes"].as_u64()), (Some(40), Some(0)));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The example's validation firmware for netduinoplus2, built: (compiled directory, firmware directory).
fn netduino_firmware(tag: &str) -> (PathBuf, PathBuf) {
    let dir = temp(tag);
    compile_example("cortex-m4", &dir);
    check(&ompqc().arg("firmware").arg(&dir).args(["--board", "netduinoplus2"]).output().unwrap(), "firmware");
    let fwdir = dir.join("firmware-netduinoplus2-validate");
    (dir, fwdir)
}

#[test]
fn a_serial_port_validates_like_the_socket() {
    if !tools_present("a_serial_port_validates_like_the_socket") {
        return;
    }
    let (dir, fwdir) = netduino_firmware("pty");
    let fw = Firmware::load(&fwdir).unwrap();
    // QEMU puts the UART on a pseudo-terminal and names it on stdout.
    let mut qemu = std::process::Command::new("qemu-system-arm")
        .args(["-M", "netduinoplus2", "-nographic", "-monitor", "none", "-serial", "pty", "-kernel"])
        .arg(fwdir.join(&fw.elf))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(qemu.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let pty = line.split_whitespace().find(|w| w.starts_with("/dev/pts/")).unwrap_or_else(|| panic!("{line}"));
    let out = ompqc()
        .arg("validate")
        .arg(&dir)
        .args(["--board", "netduinoplus2", "--port", pty, "--baud", "115200", "--limit", "20", "--json"])
        .output()
        .unwrap();
    let _ = qemu.kill();
    let _ = qemu.wait();
    let result = json(&out, "validate --port");
    assert_eq!((result["inputs"].as_u64(), result["bit_exact"].as_bool()), (Some(20), Some(true)));
    assert_eq!(result["link"].as_str(), Some(pty));
    // DWT CYCCNT reads 0 under QEMU: the port's figures are the counter's, whatever it says.
    assert_eq!(result["cycles_per_inference"], 0);
    // The port is gone once QEMU is: a clear error, not a hang.
    let out = ompqc().arg("validate").arg(&dir).args(["--board", "netduinoplus2", "--port", pty]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(pty) && err.lines().count() == 1, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A link that loses or garbles frames on the way to the board: the n-th frame of a kind ('I' info request, 'R'
/// input) meets a fault.
struct Faulty<'a> {
    inner: &'a mut dyn Link,
    sent: Vec<u8>,
    faults: Vec<(u8, usize, Fault)>,
}

#[derive(Clone, Copy)]
enum Fault {
    /// Garbage (with a false sync and a frame header that fails its CRC) goes first.
    Garbage,
    /// Only the first half of the frame goes out.
    Truncate,
    /// Nothing goes out.
    Drop,
}

impl<'a> Faulty<'a> {
    fn new(inner: &'a mut dyn Link, faults: &[(u8, usize, Fault)]) -> Faulty<'a> {
        Faulty { inner, sent: Vec::new(), faults: faults.to_vec() }
    }
}

impl Link for Faulty<'_> {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        let kind = bytes[2];
        self.sent.push(kind);
        let nth = self.sent.iter().filter(|&&k| k == kind).count();
        match self.faults.iter().find(|(k, n, _)| *k == kind && *n == nth).map(|f| f.2) {
            Some(Fault::Garbage) => {
                self.inner.send(b"\x00\xffnoise OQR\x09\x00\x03\x00\x01\x02\x03\x04\x05 more noise")?;
                self.inner.send(bytes)
            }
            Some(Fault::Truncate) => self.inner.send(&bytes[..bytes.len() / 2]),
            Some(Fault::Drop) => Ok(()),
            None => self.inner.send(bytes),
        }
    }
    fn receive(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        self.inner.receive(buf, timeout)
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[test]
fn the_protocol_recovers_from_garbage_and_lost_frames_and_reports_silence() {
    if !tools_present("the_protocol_recovers_from_garbage_and_lost_frames_and_reports_silence") {
        return;
    }
    let (dir, fwdir) = netduino_firmware("protocol");
    let fw = Firmware::load(&fwdir).unwrap();
    let graph = load_qgraph(&dir).unwrap();
    let report = CompileReport::load(&dir).unwrap();
    let samples = ompqc::data::load_samples(
        &example().join("test_x.npy"),
        &graph.tensor(graph.input).shape,
        report.input_scale,
        report.input_offset,
    )
    .unwrap()
    .take(12);
    let input = ompqc::interp::quantize_input(&graph, &samples).unwrap();
    let patience = Patience { connect: Duration::from_secs(10), reply: Duration::from_secs(3), attempts: 3 };

    // Garbage before the handshake and before an input; a truncated input; a dropped input. Each lost input is
    // sent again and every output still matches.
    let mut emulation = validate::boot(&fw.board, &fwdir.join(&fw.elf)).unwrap();
    let faults =
        [(b'I', 1, Fault::Garbage), (b'R', 2, Fault::Garbage), (b'R', 4, Fault::Truncate), (b'R', 7, Fault::Drop)];
    let mut link = Faulty::new(&mut emulation.link, &faults);
    let result = validate::session(&mut link, &fw, &graph, &input, 12, false, patience).unwrap();
    assert!(result.bit_exact && result.inputs == 12, "{result:?}");
    // The two lost inputs, at least (a stall of the emulator mid-frame costs one more).
    assert!(result.resent_frames >= 2 && link.sent.iter().filter(|&&k| k == b'R').count() == 12 + result.resent_frames);
    drop(emulation);

    // A frame lost on every attempt: the board counts as not answering.
    let mut emulation = validate::boot(&fw.board, &fwdir.join(&fw.elf)).unwrap();
    let faults = [(b'R', 1, Fault::Drop), (b'R', 2, Fault::Drop), (b'R', 3, Fault::Drop)];
    let mut link = Faulty::new(&mut emulation.link, &faults);
    let quick = Patience { reply: Duration::from_millis(500), ..patience };
    let err = validate::session(&mut link, &fw, &graph, &input, 12, false, quick).unwrap_err();
    assert!(
        err.message.contains("the board stopped answering: input frame 1 got no reply after 3 attempts"),
        "{}",
        err.message
    );
    drop(emulation);

    // A firmware that never answers (the application main prints classes, no frames).
    let app = dir.join("app");
    check(
        &ompqc()
            .arg("firmware")
            .arg(&dir)
            .args(["--board", "netduinoplus2", "--mode", "app", "-o"])
            .arg(&app)
            .output()
            .unwrap(),
        "app firmware",
    );
    let app_fw = Firmware::load(&app).unwrap();
    let mut emulation = validate::boot(&app_fw.board, &app.join(&app_fw.elf)).unwrap();
    let short = Patience { connect: Duration::from_secs(2), ..patience };
    let err = validate::session(&mut emulation.link, &fw, &graph, &input, 12, false, short).unwrap_err();
    assert!(err.message.contains("no answer from the validation firmware within 2 s"), "{}", err.message);
    assert_eq!(err.exit_code(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn firmware_modes_build_and_the_makefile_rebuilds_the_same_image() {
    if !tools_present("firmware_modes_build_and_the_makefile_rebuilds_the_same_image") {
        return;
    }
    let dir = temp("modes");
    compile_example("cortex-m4", &dir);
    // The bench firmware runs its embedded inputs under QEMU and finds every output as the interpreter computed.
    let bench = dir.join("bench");
    check(
        &ompqc()
            .arg("firmware")
            .arg(&dir)
            .args(["--board", "netduinoplus2", "--mode", "bench", "--count", "3", "-o"])
            .arg(&bench)
            .output()
            .unwrap(),
        "bench firmware",
    );
    let fw = Firmware::load(&bench).unwrap();
    // The same inputs give the same files, byte for byte.
    let again = dir.join("bench-again");
    let args = ["--board", "netduinoplus2", "--mode", "bench", "--count", "3", "-o"];
    check(&ompqc().arg("firmware").arg(&dir).args(args).arg(&again).output().unwrap(), "bench firmware again");
    let listing = |d: &Path| {
        let mut files: Vec<_> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
        files.sort();
        files.iter().map(|p| (p.file_name().unwrap().to_owned(), std::fs::read(p).unwrap())).collect::<Vec<_>>()
    };
    assert!(listing(&bench) == listing(&again) && listing(&bench).len() >= 15);
    let mut emulation = validate::boot(&fw.board, &bench.join(&fw.elf)).unwrap();
    let mut text = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !String::from_utf8_lossy(&text).contains("per inference") && std::time::Instant::now() < deadline {
        let mut buf = [0u8; 256];
        let n = emulation.link.receive(&mut buf, Duration::from_millis(100)).unwrap();
        text.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&text);
    assert!(text.contains("input 2: ") && text.contains("done: 3 inputs, 0 differ"), "{text}");
    drop(emulation);

    // The project's Makefile builds the image ompqc built, byte for byte.
    if ompqc::build::is_installed("make") {
        let copy = dir.join("copy");
        std::fs::create_dir_all(&copy).unwrap();
        for entry in std::fs::read_dir(&bench).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                std::fs::create_dir_all(copy.join("model")).unwrap();
                for m in std::fs::read_dir(&path).unwrap() {
                    let m = m.unwrap().path();
                    std::fs::copy(&m, copy.join("model").join(m.file_name().unwrap())).unwrap();
                }
            } else if !path.to_string_lossy().ends_with(".elf") {
                std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
            }
        }
        check(&std::process::Command::new("make").current_dir(&copy).output().unwrap(), "make");
        assert_eq!(std::fs::read(copy.join(&fw.elf)).unwrap(), std::fs::read(bench.join(&fw.elf)).unwrap());
        assert_eq!(std::fs::read(copy.join(&fw.bin)).unwrap(), std::fs::read(bench.join(&fw.bin)).unwrap());
    }

    // Every bundled board builds; those QEMU does not model are refused by `validate --qemu` with the reason.
    let others = [
        ("nucleo-f446re", "cortex-m4"),
        ("stm32f746g-disco", "cortex-m7"),
        ("nrf5340dk", "cortex-m33"),
        ("pico", "cortex-m0plus"),
    ];
    for (board, target) in others {
        let sub = dir.join(board);
        compile_example(target, &sub);
        let fw = json(&ompqc().arg("firmware").arg(&sub).args(["--board", board, "--json"]).output().unwrap(), board);
        let described = Board::load(board).unwrap();
        assert_eq!(fw["vector_table"].as_u64(), Some(described.vector_table()), "{board}");
        if described.boot2.is_some() {
            // The RP2040's boot ROM runs the first 256 bytes of flash only if their last 4 are the CRC-32 of the rest.
            let image = std::fs::read(sub.join("firmware-pico-validate").join(fw["bin"].as_str().unwrap())).unwrap();
            let crc = image[..252].iter().fold(0xFFFF_FFFFu32, |mut crc, &b| {
                crc ^= (b as u32) << 24;
                (0..8).for_each(|_| crc = if crc & 1 << 31 != 0 { (crc << 1) ^ 0x04C1_1DB7 } else { crc << 1 });
                crc
            });
            assert_eq!(image[252..256], crc.to_le_bytes());
            assert_eq!(described.vector_table(), described.memory.flash.base + 256);
        }
        let out = ompqc().arg("validate").arg(&sub).args(["--board", board, "--qemu"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{board}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("QEMU does not model it"), "{board}");
    }

    // Code compiled for another core, and a model too large for the board's RAM (a board file of 1 KiB RAM), are
    // refused in one line, leaving no directory.
    let out = ompqc().arg("firmware").arg(&dir).args(["--board", "microbit"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("compiled for cortex-m4") && err.contains("--target cortex-m0plus"), "{err}");
    assert!(!dir.join("firmware-microbit-validate").exists());
    let small = dir.join("small.toml");
    let text = include_str!("../boards/netduinoplus2.toml").replace("size = 0x20000 }", "size = 0x400 }");
    std::fs::write(&small, text.replace("name = \"netduinoplus2\"", "name = \"small\"")).unwrap();
    let out = ompqc().arg("firmware").arg(&dir).arg("--board").arg(&small).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("ompqc: board small: the firmware does not fit") && err.lines().count() == 1, "{err}");
    assert!(!dir.join("firmware-small-validate").exists());
    // A QEMU that cannot start the board: its own message, exit 2.
    let bogus = dir.join("bogus.toml");
    std::fs::write(
        &bogus,
        include_str!("../boards/netduinoplus2.toml").replace("machine = \"netduinoplus2\"", "machine = \"bogus\""),
    )
    .unwrap();
    let out =
        ompqc().arg("validate").arg(&dir).arg("--board").arg(&bogus).args(["--qemu", "--limit", "1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("QEMU stopped") && err.contains("unsupported machine type"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flash_prints_each_tools_command_and_names_a_missing_tool() {
    if !tools_present("flash_prints_each_tools_command_and_names_a_missing_tool") {
        return;
    }
    let (dir, fwdir) = netduino_firmware("flash");
    let elf = fwdir.join("model_validate.elf").display().to_string();
    let dry = |probe: &[&str]| {
        let out = ompqc().arg("flash").arg(&fwdir).args(probe).arg("--dry-run").output().unwrap();
        check(&out, "flash --dry-run");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(
        dry(&[]),
        format!("probe-rs download --chip STM32F405RGTx --verify {elf}\nprobe-rs reset --chip STM32F405RGTx\n")
    );
    assert_eq!(
        dry(&["--probe", "openocd"]),
        format!("openocd -f interface/stlink.cfg -f target/stm32f4x.cfg -c 'program {elf} verify reset exit'\n")
    );
    let bin = fwdir.join("model_validate.bin").display().to_string();
    assert_eq!(dry(&["--probe", "st-flash"]), format!("st-flash --reset write {bin} 0x08000000\n"));
    // Without the tool: one line saying how to install it, exit 2.
    let out = ompqc().arg("flash").arg(&fwdir).env("PATH", "/nonexistent").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("probe-rs is not installed; install it with: cargo install probe-rs-tools"), "{err}");
    // Not a firmware directory.
    let out = ompqc().arg("flash").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a firmware directory"));
    let _ = std::fs::remove_dir_all(&dir);
}
