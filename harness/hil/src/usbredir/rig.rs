//! A rig controller for served boards (`hil vboard serve --rig ADDR`): the line protocol of
//! fixtures/rigs/bench-example.toml on a socket. QEMU maps the socket to a guest serial port, so a soak
//! running inside the guest power-cycles, straps and resets the board it reaches over usbredir through a real
//! serial driver, like on the bench. Each usbredir connection takes the lowest free channel (from 1) for as
//! long as it lasts, so a guest that reboots finds its board on channel 1 again.
//!
//! | command        | reply                 |                                                        |
//! |----------------|-----------------------|--------------------------------------------------------|
//! | `PWR n ON|OFF` | `OK PWR n ON|OFF`     | power; each power-on starts a new boot                 |
//! | `BOOT0 n 0|1`  | `OK BOOT0 n 0|1`      | BOOT0 level, sampled at the next boot                  |
//! | `RST n MS`     | `OK RST n`            | NRST pulse of MS milliseconds                          |
//! | `TEMP n?`      | `TEMP n 28.0`         | die temperature, °C                                    |
//! | `XFERS n?`     | `XFERS n 1234`        | control transfers the board has served (diagnostics)   |
//!
//! Anything else, or a channel without a board, gets `ERR <why>`. Lines end in CR, LF or CRLF; replies in CRLF.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use super::serve::Listener;
use super::session::Connection;

/// How long a command waits for its board's session to carry it out (the session looks every poll, 10 ms).
const ANSWER_WAIT: Duration = Duration::from_secs(2);
/// How often a quiet rig connection looks at the stop flag.
const IDLE_POLL: Duration = Duration::from_millis(50);
/// Longest command line kept; a client streaming without line endings gets an error, not our memory.
const MAX_LINE: usize = 256;

/// One rig command, for the board of one channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RigCommand {
    Power(bool),
    Boot0(bool),
    Reset { ms: u32 },
    Temperature,
    Transfers,
}

/// A command on its way to a session, with where the reply line goes.
pub struct RigRequest {
    pub command: RigCommand,
    pub reply: Sender<String>,
}

/// Parses one command line into its channel and command; the error is the `ERR` reply's text.
pub fn parse(line: &str) -> Result<(u16, RigCommand), String> {
    let words: Vec<String> = line.split_whitespace().map(str::to_uppercase).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let channel = |w: &str| {
        w.trim_end_matches('?')
            .parse::<u16>()
            .ok()
            .filter(|c| *c > 0)
            .ok_or_else(|| format!("bad channel {w:?} (channels count from 1)"))
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
                .filter(|ms| *ms <= 10_000)
                .ok_or_else(|| format!("bad pulse length {ms:?} (milliseconds, at most 10000)"))?;
            (channel(c)?, RigCommand::Reset { ms })
        }
        ["TEMP", c] if c.ends_with('?') => (channel(c)?, RigCommand::Temperature),
        ["XFERS", c] if c.ends_with('?') => (channel(c)?, RigCommand::Transfers),
        [] => return Err("empty command".into()),
        _ => {
            return Err(format!(
                "unknown command {:?} (PWR n ON|OFF, BOOT0 n 0|1, RST n MS, TEMP n?, XFERS n?)",
                line.trim()
            ))
        }
    };
    Ok(command)
}

/// The sessions that take rig commands, by channel. Shared by the usbredir listener (which registers each
/// connection's session) and the rig listener (which forwards commands to them).
#[derive(Clone, Default)]
pub struct RigBoards(Arc<Mutex<BTreeMap<u16, Sender<RigRequest>>>>);

impl RigBoards {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a session on the lowest free channel; it reads its commands from the returned receiver.
    pub fn register(&self) -> (u16, Receiver<RigRequest>) {
        let (tx, rx) = mpsc::channel();
        let mut boards = self.lock();
        let channel = (1..=u16::MAX)
            .find(|c| !boards.contains_key(c))
            .unwrap_or(u16::MAX);
        boards.insert(channel, tx);
        (channel, rx)
    }

    pub fn unregister(&self, channel: u16) {
        self.lock().remove(&channel);
    }

    /// Carries out one command line and returns the reply line.
    pub fn execute(&self, line: &str) -> String {
        let (channel, command) = match parse(line) {
            Ok(c) => c,
            Err(e) => return format!("ERR {e}"),
        };
        let Some(session) = self.lock().get(&channel).cloned() else {
            return format!(
                "ERR no board on channel {channel} (no usbredir client is connected for it)"
            );
        };
        let (reply, answer) = mpsc::channel();
        if session.send(RigRequest { command, reply }).is_err() {
            return format!(
                "ERR the board on channel {channel} is gone (its usbredir client closed)"
            );
        }
        answer
            .recv_timeout(ANSWER_WAIT)
            .unwrap_or_else(|_| format!("ERR the board on channel {channel} did not answer"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u16, Sender<RigRequest>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Serve rig connections on `listener` until `stop` is set, one thread per connection.
pub fn serve_rig(
    listener: &Listener,
    boards: &RigBoards,
    stop: &Arc<AtomicBool>,
) -> io::Result<()> {
    listener.set_nonblocking()?;
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((conn, peer)) => {
                let boards = boards.clone();
                let stop = Arc::clone(stop);
                thread::Builder::new().name("rig".into()).spawn(move || {
                    eprintln!("hil: rig controller: {peer} connected");
                    match rig_connection(conn, &boards, &stop) {
                        Ok(()) => eprintln!("hil: rig controller: {peer} closed"),
                        Err(e) => eprintln!("hil: rig controller: {peer} closed: {e}"),
                    }
                })?;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(IDLE_POLL),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("hil: rig controller: accept failed: {e}");
                thread::sleep(IDLE_POLL);
            }
        }
    }
    Ok(())
}

/// One client: command lines in, reply lines out, until it closes or the server stops.
fn rig_connection(
    mut conn: Box<dyn Connection + Send>,
    boards: &RigBoards,
    stop: &AtomicBool,
) -> io::Result<()> {
    conn.set_read_timeout(Some(IDLE_POLL))?;
    let mut line = Vec::new();
    let mut chunk = [0u8; 256];
    while !stop.load(Ordering::Relaxed) {
        let n = match conn.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(e) => return Err(e),
        };
        for &b in &chunk[..n] {
            if b == b'\r' || b == b'\n' {
                let text = String::from_utf8_lossy(&line).into_owned();
                line.clear();
                if text.trim().is_empty() {
                    continue;
                }
                let reply = boards.execute(&text);
                conn.write_all(format!("{reply}\r\n").as_bytes())?;
                conn.flush()?;
            } else if line.len() < MAX_LINE {
                line.push(b);
            } else {
                line.clear();
                conn.write_all(b"ERR line too long\r\n")?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("PWR 1 ON", 1, RigCommand::Power(true))]
    #[case("pwr 2 off", 2, RigCommand::Power(false))]
    #[case("BOOT0 1 1", 1, RigCommand::Boot0(true))]
    #[case("BOOT0 3 0", 3, RigCommand::Boot0(false))]
    #[case("RST 1 20", 1, RigCommand::Reset { ms: 20 })]
    #[case("TEMP 1?", 1, RigCommand::Temperature)]
    #[case("  XFERS 4?  ", 4, RigCommand::Transfers)]
    fn parses_the_bench_example_commands(
        #[case] line: &str,
        #[case] channel: u16,
        #[case] command: RigCommand,
    ) {
        assert_eq!(parse(line), Ok((channel, command)));
    }

    #[rstest]
    #[case("PWR 0 ON", "bad channel")]
    #[case("PWR x ON", "bad channel")]
    #[case("PWR 1 MAYBE", "unknown command \"PWR 1 MAYBE\"")]
    #[case("RST 1 forever", "bad pulse length")]
    #[case("RST 1 20000", "bad pulse length")]
    #[case("TEMP 1", "unknown command")]
    #[case("", "empty command")]
    fn refuses_anything_else_with_the_reason(#[case] line: &str, #[case] why: &str) {
        let e = parse(line).unwrap_err();
        assert!(e.contains(why), "{line:?}: {e}");
    }

    #[test]
    fn a_channel_without_a_session_or_with_a_closed_one_is_an_error_reply() {
        let boards = RigBoards::new();
        assert!(boards
            .execute("PWR 1 ON")
            .starts_with("ERR no board on channel 1"));
        let (channel, rx) = boards.register();
        assert_eq!(channel, 1);
        drop(rx);
        assert!(boards.execute("PWR 1 ON").contains("is gone"));
        assert!(boards.execute("HELLO").starts_with("ERR unknown command"));
    }

    #[test]
    fn forwards_to_the_registered_session_and_returns_its_reply() {
        let boards = RigBoards::new();
        let (one, _rx1) = boards.register();
        let (two, rx) = boards.register();
        assert_eq!((one, two), (1, 2));
        let session = thread::spawn(move || {
            let request = rx.recv().unwrap();
            assert_eq!(request.command, RigCommand::Temperature);
            request.reply.send("TEMP 2 28.0".into()).unwrap();
        });
        assert_eq!(boards.execute("TEMP 2?"), "TEMP 2 28.0");
        session.join().unwrap();
        boards.unregister(1);
        assert_eq!(boards.register().0, 1, "a freed channel is taken again");
    }
}
