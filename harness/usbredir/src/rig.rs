//! A rig controller for served boards (`hil vboard serve --rig ADDR`): the line protocol of
//! fixtures/rigs/bench-example.toml on a socket. QEMU maps the socket to a guest serial port, so a soak
//! running inside the guest power-cycles, straps and resets the board it reaches over usbredir through a real
//! serial driver, like on the bench. Each usbredir connection takes the lowest free channel (from 1) when it is
//! accepted and keeps it while it lasts, so a VM started again after its last connection closed finds its
//! board on channel 1 again.
//!
//! | command        | reply                 |                                                        |
//! |----------------|-----------------------|--------------------------------------------------------|
//! | `PWR n ON|OFF` | `OK PWR n ON|OFF`     | power; each power-on starts a new boot                 |
//! | `BOOT0 n 0|1`  | `OK BOOT0 n 0|1`      | BOOT0 level, sampled at the next boot                  |
//! | `RST n MS`     | `OK RST n`            | NRST pulse of MS milliseconds                          |
//! | `TEMP n?`      | `TEMP n 28.0`         | die temperature, °C                                    |
//! | `XFERS n?`     | `XFERS n 1234`        | control transfers the board has served (diagnostics)   |
//! | `CLOCKS n?`    | `CLOCKS n PLLM 24 HSE 24493827 USB 49999608 PPM 41658` | this boot's clocks (diagnostics) |
//!
//! The same socket also answers as a SCPI bench supply (see [`scpi`]): `*IDN?`, `OUTP ON|OFF,(@n)`,
//! `MEAS:CURR? (@n)` and `SYST:ERR?`, with an error queue per connection.
//!
//! Anything else, or a channel without a board, gets `ERR <why>`. Lines end in CR, LF or CRLF; replies in CRLF.
//! A command the board's session cannot start within [`START_WAIT`] (it is busy with a long transfer) gets an
//! `ERR` and is dropped, never carried out later; one it started is always answered.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::serve::{accept_until, Listener};
use crate::session::{is_idle, Connection};

/// How long a command waits for its board's session to start it: the session looks every poll (10 ms) and
/// between transfers, and one transfer may take a sector erase (up to 2 s).
pub const START_WAIT: Duration = Duration::from_millis(2500);
/// The longest NRST pulse: the session holds its board in reset for it, answering nothing meanwhile.
pub const MAX_PULSE_MS: u32 = 1000;
/// How long a command waits for its reply: a command started just before [`START_WAIT`] ran out is still
/// answered. A rig file's `timeout_ms` should be longer, so the client reads an `ERR` instead of giving up.
pub const ANSWER_WAIT: Duration = Duration::from_millis(2500 + MAX_PULSE_MS as u64 + 500);
/// How often a quiet rig connection looks at the stop flag.
const IDLE_POLL: Duration = Duration::from_millis(50);
/// Longest command line kept; a client streaming without line endings gets an error, not our memory.
const MAX_LINE: usize = 256;

/// One rig command, for the board of one channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RigCommand {
    Power(bool),
    Boot0(bool),
    Reset {
        ms: u32,
    },
    Temperature,
    Transfers,
    Clocks,
    /// The supply current the board draws (the simulated supply's `MEAS:CURR?`).
    Current,
}

/// A command on its way to a session, with where the reply line goes and until when it may be carried out.
pub struct RigRequest {
    pub command: RigCommand,
    pub reply: Sender<String>,
    /// Not started by then, the command is dropped: its client is told `ERR` instead.
    pub deadline: Instant,
}

/// Why a command line is refused; its text follows `ERR` in the reply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RigParseError {
    #[error("empty command")]
    Empty,
    #[error("bad channel {0:?} (channels count from 1)")]
    BadChannel(String),
    #[error("bad pulse length {0:?} (milliseconds, at most {MAX_PULSE_MS})")]
    BadPulse(String),
    #[error(
        "unknown command {0:?} (PWR n ON|OFF, BOOT0 n 0|1, RST n MS, TEMP n?, XFERS n?, CLOCKS n?)"
    )]
    Unknown(String),
}

/// Parses one command line into its channel and command.
pub fn parse(line: &str) -> Result<(u16, RigCommand), RigParseError> {
    let words: Vec<String> = line.split_whitespace().map(str::to_uppercase).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let channel = |w: &str| {
        w.trim_end_matches('?')
            .parse::<u16>()
            .ok()
            .filter(|c| *c > 0)
            .ok_or_else(|| RigParseError::BadChannel(w.to_string()))
    };
    let command = match words.as_slice() {
        ["PWR", c, "ON"] => (channel(c)?, RigCommand::Power(true)),
        ["PWR", c, "OFF"] => (channel(c)?, RigCommand::Power(false)),
        ["BOOT0", c, "1"] => (channel(c)?, RigCommand::Boot0(true)),
        ["BOOT0", c, "0"] => (channel(c)?, RigCommand::Boot0(false)),
        ["RST", c, ms] => {
            let ms = ms
                .parse::<u32>()
                .ok()
                .filter(|ms| *ms <= MAX_PULSE_MS)
                .ok_or_else(|| RigParseError::BadPulse(ms.to_string()))?;
            (channel(c)?, RigCommand::Reset { ms })
        }
        ["TEMP", c] if c.ends_with('?') => (channel(c)?, RigCommand::Temperature),
        ["XFERS", c] if c.ends_with('?') => (channel(c)?, RigCommand::Transfers),
        ["CLOCKS", c] if c.ends_with('?') => (channel(c)?, RigCommand::Clocks),
        [] => return Err(RigParseError::Empty),
        _ => return Err(RigParseError::Unknown(line.trim().to_string())),
    };
    Ok(command)
}

/// The sessions that take rig commands, by channel. Shared by the usbredir listener (which registers each
/// connection's session) and the rig listener (which forwards commands to them).
#[derive(Clone)]
pub struct RigBoards {
    sessions: Arc<Mutex<BTreeMap<u16, Sender<RigRequest>>>>,
    start_wait: Duration,
    answer_wait: Duration,
}

impl Default for RigBoards {
    fn default() -> Self {
        Self::with_waits(START_WAIT, ANSWER_WAIT)
    }
}

impl RigBoards {
    pub fn new() -> Self {
        Self::default()
    }

    /// With other waits than [`START_WAIT`] and [`ANSWER_WAIT`] (`answer` must be the longer).
    pub fn with_waits(start: Duration, answer: Duration) -> Self {
        RigBoards {
            sessions: Arc::default(),
            start_wait: start,
            answer_wait: answer.max(start),
        }
    }

    /// Takes the lowest free channel for a session, until the returned slot is dropped.
    pub fn register(&self) -> RigSlot {
        let (tx, requests) = mpsc::channel();
        let mut boards = self.lock();
        let channel = (1..=u16::MAX)
            .find(|c| !boards.contains_key(c))
            .unwrap_or(u16::MAX);
        boards.insert(channel, tx);
        RigSlot {
            boards: self.clone(),
            channel,
            requests,
        }
    }

    /// Carries out one command line and returns the reply line.
    pub fn execute(&self, line: &str) -> String {
        match parse(line) {
            Ok((channel, command)) => self.run(channel, command),
            Err(e) => format!("ERR {e}"),
        }
    }

    /// Carries out one command for the board on `channel`; the reply line, `ERR …` when it could not be.
    pub fn run(&self, channel: u16, command: RigCommand) -> String {
        let Some(session) = self.lock().get(&channel).cloned() else {
            return format!(
                "ERR no board on channel {channel} (no usbredir client is connected for it)"
            );
        };
        let (reply, answer) = mpsc::channel();
        let deadline = Instant::now() + self.start_wait;
        let request = RigRequest {
            command,
            reply,
            deadline,
        };
        if session.send(request).is_err() {
            return format!(
                "ERR the board on channel {channel} is gone (its usbredir client closed)"
            );
        }
        answer.recv_timeout(self.answer_wait).unwrap_or_else(|_| {
            format!("ERR the board on channel {channel} is busy; the command was not carried out")
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u16, Sender<RigRequest>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A session's channel and the commands waiting for it; the channel is free again when this is dropped.
pub struct RigSlot {
    boards: RigBoards,
    pub channel: u16,
    pub requests: Receiver<RigRequest>,
}

impl Drop for RigSlot {
    fn drop(&mut self) {
        self.boards.lock().remove(&self.channel);
    }
}

/// Serve rig connections on `listener` until `stop` is set, one thread per connection.
pub fn serve_rig(
    listener: &Listener,
    boards: &RigBoards,
    stop: &Arc<AtomicBool>,
) -> io::Result<()> {
    accept_until(listener, stop, "rig controller", |conn, peer| {
        let boards = boards.clone();
        let stop = Arc::clone(stop);
        thread::Builder::new().name("rig".into()).spawn(move || {
            eprintln!("hil: rig controller: {peer} connected");
            match rig_connection(conn, &boards, &stop) {
                Ok(()) => eprintln!("hil: rig controller: {peer} closed"),
                Err(e) => eprintln!("hil: rig controller: {peer} closed: {e}"),
            }
        })?;
        Ok(())
    })
}

/// One client: command lines in, reply lines out, until it closes or the server stops.
fn rig_connection(
    mut conn: Box<dyn Connection + Send>,
    boards: &RigBoards,
    stop: &AtomicBool,
) -> io::Result<()> {
    conn.set_read_timeout(Some(IDLE_POLL))?;
    let mut line = Vec::new();
    // After an over-long line, the rest of it up to its end is thrown away, not run as a command.
    let mut overflowed = false;
    let mut chunk = [0u8; 256];
    let mut scpi = scpi::Supply::default();
    while !stop.load(Ordering::Relaxed) {
        let n = match conn.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if is_idle(&e) => continue,
            Err(e) => return Err(e),
        };
        for &b in &chunk[..n] {
            if b == b'\r' || b == b'\n' {
                let text = String::from_utf8_lossy(&line).into_owned();
                line.clear();
                if std::mem::take(&mut overflowed) || text.trim().is_empty() {
                    continue;
                }
                let reply = match scpi.handle(&text, boards) {
                    Some(reply) => reply,
                    None => Some(boards.execute(&text)),
                };
                if let Some(reply) = reply {
                    conn.write_all(format!("{reply}\r\n").as_bytes())?;
                    conn.flush()?;
                }
            } else if overflowed {
            } else if line.len() < MAX_LINE {
                line.push(b);
            } else {
                line.clear();
                overflowed = true;
                conn.write_all(b"ERR line too long\r\n")?;
                conn.flush()?;
            }
        }
    }
    Ok(())
}

pub mod scpi;
#[cfg(test)]
mod tests;
