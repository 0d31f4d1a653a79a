//! What a session runs over and is made from: the [`Connection`] byte stream (a Unix or TCP socket), the
//! [`SessionConfig`] every connection's board is built from, and why a connection ends early. Holds no state
//! of a running session.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;
use vboard::BoardConfig;

use crate::protocol::DecodeError;
use crate::rig::RigBoards;

/// How long a transfer the board never answers is held before the reply says timeout (dfu-util's and
/// Linux's usual control timeout).
pub const NO_RESPONSE_WAIT: Duration = Duration::from_secs(5);
/// How often the board's bus state is looked at while the client is quiet.
pub const POLL: Duration = Duration::from_millis(10);

/// A byte stream a session runs over: a Unix or TCP socket.
pub trait Connection: Read + Write {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
}

impl Connection for UnixStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        UnixStream::set_read_timeout(self, timeout)
    }
}

impl Connection for TcpStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }
}

/// What every connection's board is made from.
#[derive(Clone)]
pub struct SessionConfig {
    pub board: BoardConfig,
    /// The run seed: connection `n`'s board draws like a virtual rig board with rig-file seed `n + 1` in a
    /// soak with this seed (`vboard::board_seed(seed, n + 1)`).
    pub seed: u64,
    /// Write every control transfer to this pcap file (usbmon format).
    pub capture: Option<PathBuf>,
    pub no_response_wait: Duration,
    pub poll: Duration,
    /// Take rig commands: each connection answers on the lowest channel free when it starts.
    pub rig: Option<RigBoards>,
    /// Connections served at once; more are accepted and closed at once (each live one holds a board of
    /// about 1 MiB).
    pub max_connections: usize,
    /// A connection that has not sent its hello by then is closed (wall-clock time).
    pub hello_timeout: Duration,
    /// Where each connection's board is found by a probe connection tied to it.
    pub boards: crate::boards::Boards,
}

/// Default cap on connections served at once.
pub const MAX_CONNECTIONS: usize = 16;
/// Default time a new connection has to send its hello.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(10);

impl SessionConfig {
    pub fn new(board: BoardConfig, seed: u64) -> Self {
        Self {
            board,
            seed,
            capture: None,
            no_response_wait: NO_RESPONSE_WAIT,
            poll: POLL,
            rig: None,
            max_connections: MAX_CONNECTIONS,
            hello_timeout: HELLO_TIMEOUT,
            boards: crate::boards::Boards::default(),
        }
    }
}

/// Why a connection ended early.
#[derive(Debug, Error)]
pub enum SessionError {
    #[error("connection I/O failed")]
    Io(#[from] io::Error),
    #[error("the client sent a malformed packet")]
    Malformed(#[source] DecodeError),
    #[error("the client closed the connection in the middle of a packet ({got} of {need} bytes)")]
    Truncated { got: usize, need: usize },
    #[error("the client's first packet is type {kind}, not hello: not a usbredir client?")]
    NoHello { kind: u32 },
    #[error("no hello from the client within {} ms: not a usbredir client?", .0.as_millis())]
    HelloTimeout(Duration),
    #[error("cannot write the capture {}", path.display())]
    Capture {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}
