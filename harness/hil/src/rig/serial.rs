//! One serial port speaking a line protocol: send a line, read reply lines with a deadline. The only module
//! that names serialport; it must not know what any command means.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use serialport::{ClearBuffer, SerialPort};

use super::error::RigError;
use super::spec::{LineEnding, PortSpec};

/// Longest reply line kept; a device that streams without line endings is garbled, not a memory leak.
const MAX_LINE: usize = 4096;

/// An open serial port with a line buffer. Serial I/O is inherently wall-clock: deadlines use `Instant`.
pub(crate) struct SerialLine {
    port: Box<dyn SerialPort>,
    name: String,
    ending: LineEnding,
    pending: Vec<u8>,
}

impl SerialLine {
    /// Opens the port at `spec.baud`, 8N1, no flow control.
    pub(crate) fn open(spec: &PortSpec) -> Result<SerialLine, RigError> {
        let port = serialport::new(&spec.path, spec.baud)
            .timeout(spec.timeout)
            .open()
            .map_err(|e| RigError::Io {
                port: spec.path.clone(),
                command: "open".to_string(),
                source: e.into(),
            })?;
        Ok(SerialLine {
            port,
            name: spec.path.clone(),
            ending: spec.line_ending,
            pending: Vec::new(),
        })
    }

    /// The port's path, for errors.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Drops anything unread (a late reply to an earlier command) and sends `line` with the line ending.
    pub(crate) fn send(&mut self, line: &str) -> Result<(), RigError> {
        self.pending.clear();
        self.port
            .clear(ClearBuffer::Input)
            .map_err(|e| self.io(line, e.into()))?;
        let framed = format!("{line}{}", self.ending.as_str());
        self.port
            .write_all(framed.as_bytes())
            .and_then(|()| self.port.flush())
            .map_err(|e| self.io(line, e))
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
        self.port
            .set_timeout(left.max(Duration::from_millis(1)))
            .map_err(|e| self.io(command, e.into()))?;
        let mut buf = [0u8; 256];
        match self.port.read(&mut buf) {
            Ok(n) => {
                self.pending.extend_from_slice(&buf[..n]);
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(()),
            Err(e) => Err(self.io(command, e)),
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
