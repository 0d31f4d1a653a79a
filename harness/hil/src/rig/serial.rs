//! One instrument line speaking a line protocol: a serial port, or a raw TCP socket (an LXI instrument's SCPI
//! port, 5025). Send a line, read reply lines with a deadline. The only module that names serialport; it must not
//! know what any command means.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use serialport::{ClearBuffer, SerialPort};

use super::error::RigError;
use super::spec::{LineEnding, PortSpec};

/// The prefix of a TCP address in a rig file's `port`: `tcp:HOST:PORT`.
pub(crate) const TCP_PREFIX: &str = "tcp:";

/// What carries the bytes.
enum Wire {
    Serial(Box<dyn SerialPort>),
    /// `None` after the instrument closed the connection: the next command connects again.
    Tcp(Option<TcpStream>),
}

/// Longest reply line kept; a device that streams without line endings is garbled, not a memory leak.
const MAX_LINE: usize = 4096;

/// An open serial port with a line buffer. Serial I/O is inherently wall-clock: deadlines use `Instant`.
pub(crate) struct SerialLine {
    wire: Wire,
    name: String,
    ending: LineEnding,
    pending: Vec<u8>,
    /// How long a TCP connect, or an answer to `*IDN?` or `SYST:ERR?`, may take.
    timeout: Duration,
    scpi: bool,
}

/// Most entries read from a SCPI error queue after one command (a real queue holds 10 to 30).
const MAX_QUEUED_ERRORS: usize = 32;

impl SerialLine {
    /// Opens the serial port at `spec.baud`, 8N1, no flow control, or connects to `tcp:HOST:PORT`.
    pub(crate) fn open(spec: &PortSpec) -> Result<SerialLine, RigError> {
        let wire = if spec.path.starts_with(TCP_PREFIX) {
            Wire::Tcp(None)
        } else {
            let port = serialport::new(&spec.path, spec.baud)
                .timeout(spec.timeout)
                .open()
                .map_err(|e| RigError::Io {
                    port: spec.path.clone(),
                    command: "open".to_string(),
                    source: e.into(),
                })?;
            Wire::Serial(port)
        };
        let mut line = SerialLine {
            wire,
            name: spec.path.clone(),
            ending: spec.line_ending,
            pending: Vec::new(),
            timeout: spec.timeout,
            scpi: spec.scpi,
        };
        line.connected("open")?;
        Ok(line)
    }

    /// The TCP stream, connecting first when there is none (at open, or after the instrument dropped it).
    fn connected(&mut self, command: &str) -> Result<(), RigError> {
        let Wire::Tcp(stream) = &mut self.wire else {
            return Ok(());
        };
        if stream.is_some() {
            return Ok(());
        }
        let address = &self.name[TCP_PREFIX.len()..];
        let io = |source| RigError::Io {
            port: self.name.clone(),
            command: command.to_string(),
            source,
        };
        let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
        for addr in address.to_socket_addrs().map_err(io)? {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(s) => {
                    s.set_nodelay(true).map_err(io)?;
                    *stream = Some(s);
                    return Ok(());
                }
                Err(e) => last = e,
            }
        }
        Err(io(last))
    }

    /// The port's path, for errors.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Whether the instrument speaks SCPI (has an error queue to check).
    pub(crate) fn scpi(&self) -> bool {
        self.scpi
    }

    /// The instrument's `*IDN?` answer: maker, model, serial number, firmware.
    pub(crate) fn identify(&mut self) -> Result<String, RigError> {
        self.send("*IDN?")?;
        self.read_line("*IDN?", self.timeout)
    }

    /// Reads the SCPI error queue after `command` until it says `0,"No error"`; the first entry fails the
    /// command (the queue is emptied either way, so one error is not blamed on the next command).
    pub(crate) fn check_errors(&mut self, command: &str) -> Result<(), RigError> {
        let mut first = None;
        'queue: for _ in 0..MAX_QUEUED_ERRORS {
            self.send("SYST:ERR?")?;
            // A reply to the command that came after its timeout may arrive first: it is not an entry, and the
            // entry follows it.
            let deadline = Instant::now() + self.timeout;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let reply = self.read_line("SYST:ERR?", left)?;
                match scpi_error_code(&reply) {
                    Some(0) => break 'queue,
                    Some(_) => {
                        first.get_or_insert(reply);
                        break;
                    }
                    None => continue,
                }
            }
        }
        match first {
            None => Ok(()),
            Some(error) => Err(RigError::Instrument {
                port: self.name.clone(),
                command: command.to_string(),
                error,
            }),
        }
    }

    /// Drops anything unread (a late reply to an earlier command) and sends `line` with the line ending.
    pub(crate) fn send(&mut self, line: &str) -> Result<(), RigError> {
        self.pending.clear();
        self.connected(line)?;
        let framed = format!("{line}{}", self.ending.as_str());
        let result = match &mut self.wire {
            Wire::Serial(port) => port
                .clear(ClearBuffer::Input)
                .map_err(std::io::Error::from)
                .and_then(|()| port.write_all(framed.as_bytes()))
                .and_then(|()| port.flush()),
            Wire::Tcp(Some(stream)) => match drain_stale(stream) {
                // An instrument that closed an idle connection: nothing of this command was sent yet, so
                // connect again and send it.
                Err(e) if peer_closed(&e) => {
                    self.drop_connection();
                    self.connected(line)?;
                    match &mut self.wire {
                        Wire::Tcp(Some(stream)) => stream.write_all(framed.as_bytes()),
                        _ => unreachable!("connected above"),
                    }
                }
                Err(e) => Err(e),
                Ok(()) => stream.write_all(framed.as_bytes()),
            },
            Wire::Tcp(None) => unreachable!("connected above"),
        };
        result.map_err(|e| {
            self.drop_connection();
            self.io(line, e)
        })
    }

    /// After an I/O error the socket is closed; the next command connects again.
    fn drop_connection(&mut self) {
        if let Wire::Tcp(stream) = &mut self.wire {
            *stream = None;
        }
    }

    /// The next non-empty reply line (CR, LF or CRLF ended, trimmed), waiting at most `timeout`.
    pub(crate) fn read_line(
        &mut self,
        command: &str,
        timeout: Duration,
    ) -> Result<String, RigError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.take_line() {
                return Ok(line);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.timeout(command, timeout));
            }
            self.fill(command, left)?;
        }
    }

    fn take_line(&mut self) -> Option<String> {
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n' || b == b'\r') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line).trim().to_string();
            if !text.is_empty() {
                return Some(text);
            }
        }
        if self.pending.len() > MAX_LINE {
            let text = String::from_utf8_lossy(&self.pending).trim().to_string();
            self.pending.clear();
            return Some(text);
        }
        None
    }

    fn fill(&mut self, command: &str, left: Duration) -> Result<(), RigError> {
        let left = left.max(Duration::from_millis(1));
        let mut buf = [0u8; 256];
        let read = match &mut self.wire {
            Wire::Serial(port) => port
                .set_timeout(left)
                .map_err(std::io::Error::from)
                .and_then(|()| port.read(&mut buf)),
            Wire::Tcp(Some(stream)) => match stream.set_read_timeout(Some(left)) {
                Ok(()) => match stream.read(&mut buf) {
                    Ok(0) => Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionAborted,
                        "the instrument closed the connection",
                    )),
                    other => other,
                },
                Err(e) => Err(e),
            },
            Wire::Tcp(None) => Err(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                "not connected",
            )),
        };
        match read {
            Ok(n) => {
                self.pending.extend_from_slice(&buf[..n]);
                Ok(())
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                Ok(())
            }
            Err(e) => {
                self.drop_connection();
                Err(self.io(command, e))
            }
        }
    }

    fn io(&self, command: &str, source: std::io::Error) -> RigError {
        RigError::Io {
            port: self.name.clone(),
            command: command.to_string(),
            source,
        }
    }

    fn timeout(&self, command: &str, waited: Duration) -> RigError {
        RigError::Timeout {
            port: self.name.clone(),
            command: command.to_string(),
            waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

/// Whether an error on an idle connection means the instrument closed or reset it (it dropped an idle socket,
/// or it was power-cycled): nothing of the next command was sent, so it can connect again and send it.
fn peer_closed(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    matches!(e.kind(), ConnectionAborted | ConnectionReset | BrokenPipe)
}

/// Reads and drops what a TCP peer sent since the last command (a late reply), without waiting.
fn drain_stale(stream: &mut TcpStream) -> std::io::Result<()> {
    stream.set_nonblocking(true)?;
    let mut buf = [0u8; 256];
    let result = loop {
        match stream.read(&mut buf) {
            Ok(0) => {
                break Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "the instrument closed the connection",
                ))
            }
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    stream.set_nonblocking(false)?;
    result
}

/// The code of a SCPI error-queue entry, `-113,"Undefined header"` or `+0,"No error"` (SCPI 1999 §21.8: a code,
/// a comma, a quoted description; some instruments leave the quotes out); `None` when the line is not one, such
/// as a late reply `1` or `25` to an earlier query. An instrument that answers a bare code is not read as one:
/// its `SYST:ERR?` times out, and the rig does not open.
pub(crate) fn scpi_error_code(line: &str) -> Option<i32> {
    let (code, _description) = line.split_once(',')?;
    code.trim().trim_start_matches('+').parse().ok()
}

#[cfg(test)]
mod tests {
    use super::scpi_error_code;

    #[test]
    fn error_queue_entries() {
        assert_eq!(scpi_error_code("+0,\"No error\""), Some(0));
        assert_eq!(scpi_error_code("0,\"No error\""), Some(0));
        assert_eq!(scpi_error_code("-113,\"Undefined header\""), Some(-113));
        assert_eq!(
            scpi_error_code("-222,\"Data out of range;OUTP 9\""),
            Some(-222)
        );
        assert_eq!(scpi_error_code("OK"), None);
        // Late replies to earlier queries are not queue entries.
        assert_eq!(scpi_error_code("1"), None);
        assert_eq!(scpi_error_code("25"), None);
        assert_eq!(scpi_error_code("0"), None);
        // A description without quotes, as some instruments send it.
        assert_eq!(scpi_error_code("+0, No error"), Some(0));
    }
}
