//! The byte streams `validate` talks over: a serial port (raw, 8N1, at a baud rate) or a TCP socket that QEMU's
//! emulated UART connects to.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

use super::protocol::Link;
use crate::error::{Error, Result};

/// A serial port in raw mode.
pub struct SerialPort {
    file: std::fs::File,
    name: String,
}

impl SerialPort {
    pub fn open(path: &Path, baud: u32) -> Result<SerialPort> {
        let name = path.display().to_string();
        let speed = speed(baud).ok_or_else(|| {
            Error::input(format!("--baud {baud}: not a standard rate (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1000000)"))
        })?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| Error::input(format!("{name}: cannot open the serial port: {e}")))?;
        let fd = file.as_raw_fd();
        // SAFETY: fd is an open descriptor owned by `file`, and the termios struct is initialised by tcgetattr.
        unsafe {
            let mut tio: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(fd, &mut tio) != 0 {
                return Err(Error::input(format!("{name}: not a serial port: {}", std::io::Error::last_os_error())));
            }
            libc::cfmakeraw(&mut tio);
            tio.c_cflag |= libc::CLOCAL | libc::CREAD;
            tio.c_cflag &= !(libc::CSTOPB | libc::PARENB | libc::CRTSCTS);
            tio.c_cc[libc::VMIN] = 0;
            tio.c_cc[libc::VTIME] = 0;
            if libc::cfsetspeed(&mut tio, speed) != 0 || libc::tcsetattr(fd, libc::TCSANOW, &tio) != 0 {
                return Err(Error::input(format!(
                    "{name}: cannot set {baud} baud: {}",
                    std::io::Error::last_os_error()
                )));
            }
            libc::tcflush(fd, libc::TCIOFLUSH);
        }
        Ok(SerialPort { file, name })
    }
}

fn speed(baud: u32) -> Option<libc::speed_t> {
    Some(match baud {
        9600 => libc::B9600,
        19200 => libc::B19200,
        38400 => libc::B38400,
        57600 => libc::B57600,
        115200 => libc::B115200,
        230400 => libc::B230400,
        460800 => libc::B460800,
        921600 => libc::B921600,
        1_000_000 => libc::B1000000,
        _ => return None,
    })
}

impl Link for SerialPort {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.file
            .write_all(bytes)
            .map_err(|e| Error::input(format!("{}: the port failed while writing: {e}", self.name)))
    }

    fn receive(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        let mut poll = libc::pollfd { fd: self.file.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        let millis = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut poll, 1, millis) };
        if ready < 0 {
            return Err(Error::input(format!("{}: {}", self.name, std::io::Error::last_os_error())));
        }
        if poll.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 && poll.revents & libc::POLLIN == 0 {
            return Err(Error::input(format!("{}: the serial port went away (unplugged?)", self.name)));
        }
        if ready == 0 {
            return Ok(0);
        }
        match self.file.read(buf) {
            Ok(0) => Err(Error::input(format!("{}: the serial port went away (unplugged?)", self.name))),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::Interrupted => {
                Ok(0)
            }
            Err(e) => Err(Error::input(format!("{}: the serial port failed: {e}", self.name))),
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// A TCP connection, here QEMU's emulated UART (`-serial tcp:...`).
pub struct Socket {
    stream: TcpStream,
    name: String,
}

impl Socket {
    pub fn new(stream: TcpStream, name: String) -> Socket {
        Socket { stream, name }
    }
}

impl Link for Socket {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream
            .write_all(bytes)
            .map_err(|e| Error::input(format!("{}: the connection failed while writing: {e}", self.name)))
    }

    fn receive(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize> {
        self.stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .map_err(|e| Error::internal(format!("{}: {e}", self.name)))?;
        match self.stream.read(buf) {
            Ok(0) => Err(Error::input(format!("{}: the connection closed (the emulator stopped?)", self.name))),
            Ok(n) => Ok(n),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => Ok(0),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(0),
            Err(e) => Err(Error::input(format!("{}: the connection failed: {e}", self.name))),
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}
