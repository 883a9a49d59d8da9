//! `ompqc validate`: streams inputs to the validation firmware on a board (or on QEMU's model of it), compares every
//! output byte with the reference interpreter, and reports as X-CUBE-AI's "validate on target" does: inputs,
//! mismatched bytes, top-1 agreement, cycles per inference and milliseconds at the board's clock.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::link::Socket;
use super::project::Firmware;
use super::protocol::{Frame, Link, Reader, Silence};
use crate::board::Board;
use crate::error::{Error, Result};
use crate::interp;
use crate::ir::quant::QGraph;

#[derive(Clone, Debug, Serialize)]
pub struct Validation {
    pub board: String,
    /// Where it ran: the serial port, or "qemu".
    pub link: String,
    pub inputs: usize,
    pub bit_exact: bool,
    pub mismatched_bytes: usize,
    /// (input, byte) of the first difference.
    pub first_mismatch: Option<(usize, usize)>,
    pub output_bytes: usize,
    /// The fraction of inputs whose largest output is at the interpreter's.
    pub top1_agreement: f64,
    /// The mean of the board's cycle counter over the inputs; null where the counter is not real (QEMU).
    pub cycles_per_inference: Option<u64>,
    pub ms_per_inference: Option<f64>,
    pub clock_hz: u64,
    /// Frames sent again after an error reply or no reply.
    pub resent_frames: usize,
}

impl Validation {
    pub fn to_text(&self) -> String {
        let total = self.inputs * self.output_bytes;
        let verdict =
            if self.bit_exact { "bit-exact".to_string() } else { format!("first at {:?}", self.first_mismatch) };
        let cycles = match (self.cycles_per_inference, self.ms_per_inference) {
            (Some(c), Some(ms)) => format!("{c} cycles per inference, {ms:.3} ms at {} Hz", self.clock_hz),
            _ => "cycles not measured: QEMU models no cycle counter".to_string(),
        };
        format!(
            "validated on {} over {}: {} inputs, {} of {} output bytes differ from the interpreter ({verdict})\n\
             top-1 agreement {:.2}%; {cycles}; {} frames resent\n",
            self.board,
            self.link,
            self.inputs,
            self.mismatched_bytes,
            total,
            100.0 * self.top1_agreement,
            self.resent_frames
        )
    }
}

/// How long to wait and how often to try.
#[derive(Clone, Copy, Debug)]
pub struct Patience {
    /// For the firmware to answer the first info request (it may still be booting).
    pub connect: Duration,
    /// For each reply.
    pub reply: Duration,
    /// Sends of one frame before the board counts as not answering.
    pub attempts: usize,
}

/// What the firmware says of itself.
struct Info {
    input_size: usize,
    output_size: usize,
    model_hash: [u8; 8],
}

fn u32_at(bytes: &[u8], at: usize) -> usize {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
}

/// Error replies' codes (frame.h's `frame_status`).
fn error_reason(code: Option<&u8>) -> &'static str {
    match code {
        Some(1) => "a CRC error",
        Some(2) => "a frame too long",
        Some(3) => "an unknown kind",
        Some(4) => "a wrong input length",
        _ => "an error",
    }
}

/// Asks for the firmware's info until it answers.
fn connect(link: &mut dyn Link, reader: &mut Reader, patience: Patience) -> Result<Info> {
    let give_up = Instant::now() + patience.connect;
    while Instant::now() < give_up {
        link.send(&Frame { kind: b'I', seq: 0, payload: vec![] }.encode())?;
        let deadline = (Instant::now() + Duration::from_millis(500)).min(give_up);
        while let Ok(frame) = reader.next(link, deadline)? {
            if frame.kind == b'i' && frame.payload.len() >= 22 && frame.payload[0] == 1 {
                let p = &frame.payload;
                let mut model_hash = [0u8; 8];
                model_hash.copy_from_slice(&p[14..22]);
                return Ok(Info { input_size: u32_at(p, 1), output_size: u32_at(p, 5), model_hash });
            }
        }
    }
    Err(Error::input(format!(
        "{}: no answer from the validation firmware within {:.0} s (is it flashed? `ompqc flash FWDIR`; is this the \
         board's console port and baud rate?)",
        link.describe(),
        patience.connect.as_secs_f64()
    )))
}

/// Runs one input: its output and the cycles it took, and how many sends it needed.
fn infer(
    link: &mut dyn Link,
    reader: &mut Reader,
    seq: u16,
    input: &[i8],
    output_size: usize,
    patience: Patience,
) -> Result<(Vec<u8>, u64, usize)> {
    let request = Frame { kind: b'R', seq, payload: input.iter().map(|&v| v as u8).collect() }.encode();
    let mut last = String::from("no reply");
    for attempt in 0..patience.attempts {
        link.send(&request)?;
        let deadline = Instant::now() + patience.reply;
        loop {
            match reader.next(link, deadline)? {
                Err(Silence::Timeout) => break,
                Ok(frame) if frame.seq != seq => continue, // a late reply to an earlier frame
                Ok(frame) if frame.kind == b'r' && frame.payload.len() == 5 + output_size => {
                    let cycles = u32_at(&frame.payload, 1) as u64;
                    return Ok((frame.payload[5..].to_vec(), cycles, attempt));
                }
                Ok(frame) if frame.kind == b'e' => {
                    last = format!("the board reported {}", error_reason(frame.payload.first()));
                    break;
                }
                Ok(frame) => {
                    last =
                        format!("an unexpected reply (kind {:?}, {} bytes)", frame.kind as char, frame.payload.len());
                    break;
                }
            }
        }
    }
    Err(Error::input(format!(
        "{}: the board stopped answering: input frame {seq} got {last} after {} attempts of {:.1} s each",
        link.describe(),
        patience.attempts,
        patience.reply.as_secs_f64()
    )))
}

/// Validates `n` quantized inputs (storage order) over `link` against the interpreter's outputs for `graph`.
/// `counted`: whether the board's cycle counter is real (not under QEMU).
pub fn session(
    link: &mut dyn Link,
    firmware: &Firmware,
    graph: &QGraph,
    input: &[i8],
    n: usize,
    counted: bool,
    patience: Patience,
) -> Result<Validation> {
    let (in_size, out_size) = (graph.tensor(graph.input).elems(), graph.tensor(graph.output).elems());
    let mut reader = Reader::new();
    let info = connect(link, &mut reader, patience)?;
    let hash: String = info.model_hash.iter().map(|b| format!("{b:02x}")).collect();
    if info.input_size != in_size || info.output_size != out_size || !firmware.model_hash.starts_with(&hash) {
        return Err(Error::input(format!(
            "{}: the board runs another model ({} -> {} bytes, hash {hash}...; expected {in_size} -> {out_size}, hash \
             {}...): flash this model's validation firmware",
            link.describe(),
            info.input_size,
            info.output_size,
            &firmware.model_hash[..16]
        )));
    }
    let expected: Vec<u8> = interp::run(graph, input, n).into_iter().map(|v| v as u8).collect();
    let (mut got, mut cycles, mut resent) = (Vec::with_capacity(n * out_size), 0u64, 0usize);
    for k in 0..n {
        let seq = (k % 0xFFFF) as u16 + 1;
        let (output, c, extra) =
            infer(link, &mut reader, seq, &input[k * in_size..(k + 1) * in_size], out_size, patience)?;
        got.extend(output);
        cycles += c;
        resent += extra;
    }
    let mismatched = got.iter().zip(&expected).filter(|(a, b)| a != b).count();
    let first = got.iter().zip(&expected).position(|(a, b)| a != b).map(|i| (i / out_size, i % out_size));
    let argmax = |row: &[u8]| {
        let values: Vec<i8> = row.iter().map(|&b| b as i8).collect();
        (0..values.len()).fold(0, |best, i| if values[i] > values[best] { i } else { best })
    };
    let agree = got
        .chunks(out_size.max(1))
        .zip(expected.chunks(out_size.max(1)))
        .filter(|(a, b)| argmax(a) == argmax(b))
        .count();
    let clock_hz = firmware.board.clock_hz;
    let per_inference = (counted && n > 0).then(|| cycles / n as u64);
    Ok(Validation {
        board: firmware.board.name.clone(),
        link: link.describe(),
        inputs: n,
        bit_exact: mismatched == 0,
        mismatched_bytes: mismatched,
        first_mismatch: first,
        output_bytes: out_size,
        top1_agreement: if n > 0 { agree as f64 / n as f64 } else { 0.0 },
        cycles_per_inference: per_inference,
        ms_per_inference: per_inference.map(|c| c as f64 * 1e3 / clock_hz as f64),
        clock_hz,
        resent_frames: resent,
    })
}

/// The board's firmware running under QEMU, its console UART on a local socket; stopped when dropped.
pub struct Emulation {
    child: Child,
    pub link: Socket,
}

impl Drop for Emulation {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Boots `elf` on the board's QEMU machine with its console UART connected to a socket this process listens on.
pub fn boot(board: &Board, elf: &Path) -> Result<Emulation> {
    let qemu = board.qemu.as_ref().ok_or_else(|| {
        Error::input(format!("board {}: QEMU does not model it (no [qemu] in its board file); use --port", board.name))
    })?;
    if !crate::build::is_installed(&qemu.binary) {
        return Err(Error::input(format!(
            "board {}: {} is not installed (Debian: apt-get install {})",
            board.name,
            qemu.binary,
            if qemu.binary.ends_with("arm") { "qemu-system-arm" } else { "qemu-system-misc" }
        )));
    }
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::internal(format!("a local socket: {e}")))?;
    let port = listener.local_addr().map_err(|e| Error::internal(e.to_string()))?.port();
    let mut cmd = Command::new(&qemu.binary);
    cmd.args(["-M", &qemu.machine, "-nographic", "-monitor", "none"]);
    for _ in 0..qemu.serial_index {
        cmd.args(["-serial", "null"]);
    }
    cmd.arg("-serial").arg(format!("tcp:127.0.0.1:{port}")).arg("-kernel").arg(elf);
    crate::run::die_with_parent(&mut cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::input(format!("board {}: cannot start {}: {e}", board.name, qemu.binary)))?;
    // QEMU's messages are drained as they come (a full pipe would stall it) and kept for an error.
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let mut reader = child.stderr.take().map(|mut stderr| {
        let log = log.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                log.lock().unwrap_or_else(|e| e.into_inner()).push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    });
    listener.set_nonblocking(true).map_err(|e| Error::internal(e.to_string()))?;
    let give_up = Instant::now() + Duration::from_secs(20);
    let stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(Error::internal(format!("accepting QEMU's connection: {e}"))),
        }
        if let Ok(Some(status)) = child.try_wait() {
            // QEMU has exited: its stderr ends, and the reader has all of its message once it does.
            if let Some(reader) = reader.take() {
                let _ = reader.join();
            }
            let log = std::mem::take(&mut *log.lock().unwrap_or_else(|e| e.into_inner()));
            let first = log.lines().next().unwrap_or("no message").trim().to_string();
            return Err(Error::input(format!("board {}: QEMU stopped ({status}): {first}", board.name)));
        }
        if Instant::now() > give_up {
            let _ = child.kill();
            return Err(Error::internal(format!("board {}: QEMU did not connect its UART within 20 s", board.name)));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    stream.set_nonblocking(false).map_err(|e| Error::internal(e.to_string()))?;
    let link = Socket::new(stream, format!("QEMU {} (emulated UART)", qemu.machine));
    Ok(Emulation { child, link })
}
