//! The host's side of the validation firmware's framed protocol (templates/firmware/frame.h; docs/FIRMWARE.md):
//! "OQ", kind, sequence number (u16), payload length (u16), payload, CRC-16/CCITT-FALSE of kind to payload; every
//! multi-byte field little-endian. The reader hunts for "OQ", so bytes between frames are skipped.

use std::time::{Duration, Instant};

use crate::error::{Error, Result};

const SYNC: [u8; 2] = [b'O', b'Q'];

/// The largest payload the host accepts in a reply.
const MAX_PAYLOAD: usize = 65535;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub kind: u8,
    pub seq: u16,
    pub payload: Vec<u8>,
}

/// CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR.
pub fn crc16(bytes: &[u8]) -> u16 {
    bytes.iter().fold(0xFFFF, |mut crc: u16, &b| {
        crc ^= (b as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
        crc
    })
}

impl Frame {
    pub fn encode(&self) -> Vec<u8> {
        let len = self.payload.len() as u16;
        let mut body = vec![self.kind];
        body.extend(self.seq.to_le_bytes());
        body.extend(len.to_le_bytes());
        body.extend(&self.payload);
        let crc = crc16(&body);
        let mut out = SYNC.to_vec();
        out.extend(body);
        out.extend(crc.to_le_bytes());
        out
    }
}

/// A byte stream to a board with a read deadline: a serial port, or QEMU's emulated UART on a socket.
pub trait Link {
    fn send(&mut self, bytes: &[u8]) -> Result<()>;
    /// Reads what is waiting, up to `buf.len()` bytes, waiting at most `timeout`; 0 bytes means none came.
    fn receive(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize>;
    /// What the link is, for messages ("/dev/ttyACM0", "QEMU netduinoplus2").
    fn describe(&self) -> String;
}

/// Why no frame came back.
#[derive(Debug, PartialEq, Eq)]
pub enum Silence {
    /// Nothing, or nothing that formed a frame, within the deadline.
    Timeout,
}

/// Reads frames from a link, keeping bytes that arrive past a frame for the next one.
pub struct Reader {
    pending: Vec<u8>,
}

impl Default for Reader {
    fn default() -> Self {
        Reader::new()
    }
}

impl Reader {
    pub fn new() -> Reader {
        Reader { pending: Vec::new() }
    }

    /// The next complete frame, by `deadline`. A frame whose CRC fails is an error: the line is not to be trusted.
    pub fn next(&mut self, link: &mut dyn Link, deadline: Instant) -> Result<std::result::Result<Frame, Silence>> {
        loop {
            if let Some(frame) = self.parse(link)? {
                return Ok(Ok(frame));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Err(Silence::Timeout));
            }
            let mut buf = [0u8; 4096];
            let n = link.receive(&mut buf, (deadline - now).min(Duration::from_millis(100)))?;
            self.pending.extend_from_slice(&buf[..n]);
        }
    }

    /// A frame from the pending bytes, dropping what precedes its sync.
    fn parse(&mut self, link: &dyn Link) -> Result<Option<Frame>> {
        let Some(start) = self.pending.windows(2).position(|w| w == SYNC) else {
            // Keep a trailing 'O': it may start the next sync.
            let keep = usize::from(self.pending.last() == Some(&SYNC[0]));
            self.pending.drain(..self.pending.len() - keep);
            return Ok(None);
        };
        self.pending.drain(..start);
        if self.pending.len() < 7 {
            return Ok(None);
        }
        let len = u16::from_le_bytes([self.pending[5], self.pending[6]]) as usize;
        if self.pending.len() < 7 + len + 2 {
            return Ok(None);
        }
        let body = &self.pending[2..7 + len];
        let sent = u16::from_le_bytes([self.pending[7 + len], self.pending[8 + len]]);
        if crc16(body) != sent {
            return Err(Error::input(format!(
                "{}: a reply frame failed its CRC (kind {:?}, {} payload bytes): the line is corrupting data; check the \
                 baud rate and the cable",
                link.describe(),
                self.pending[2] as char,
                len.min(MAX_PAYLOAD)
            )));
        }
        let frame = Frame { kind: body[0], seq: u16::from_le_bytes([body[1], body[2]]), payload: body[5..].to_vec() };
        self.pending.drain(..7 + len + 2);
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A link that delivers scripted bytes, a few at a time.
    struct Script {
        bytes: VecDeque<u8>,
    }

    impl Link for Script {
        fn send(&mut self, _: &[u8]) -> Result<()> {
            Ok(())
        }
        fn receive(&mut self, buf: &mut [u8], _: Duration) -> Result<usize> {
            let n = buf.len().min(self.bytes.len()).min(3);
            for b in buf.iter_mut().take(n) {
                *b = self.bytes.pop_front().unwrap();
            }
            Ok(n)
        }
        fn describe(&self) -> String {
            "script".into()
        }
    }

    #[test]
    fn crc_matches_the_standard_check_value() {
        // CRC-16/CCITT-FALSE's check value over "123456789".
        assert_eq!(crc16(b"123456789"), 0x29B1);
    }

    #[test]
    fn frames_survive_garbage_and_split_reads() {
        let a = Frame { kind: b'r', seq: 7, payload: vec![1, 2, 3, 0x4F, 0x51] };
        let b = Frame { kind: b'i', seq: 65535, payload: vec![] };
        let mut bytes = b"noise O QO".to_vec();
        bytes.extend(a.encode());
        bytes.extend(b"\x00\xFFO");
        bytes.extend(b.encode());
        let mut link = Script { bytes: bytes.into() };
        let mut reader = Reader::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        assert_eq!(reader.next(&mut link, deadline).unwrap(), Ok(a));
        assert_eq!(reader.next(&mut link, deadline).unwrap(), Ok(b));
        assert_eq!(reader.next(&mut link, Instant::now()).unwrap(), Err(Silence::Timeout));
    }

    #[test]
    fn a_corrupted_frame_is_an_error_naming_the_link() {
        let mut bytes = Frame { kind: b'r', seq: 1, payload: vec![9; 10] }.encode();
        bytes[9] ^= 0x10;
        let mut link = Script { bytes: bytes.into() };
        let err = Reader::new().next(&mut link, Instant::now() + Duration::from_secs(5)).unwrap_err();
        assert!(err.message.starts_with("script: a reply frame failed its CRC"), "{}", err.message);
    }
}
