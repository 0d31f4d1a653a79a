//! The listener: a Unix socket or a loopback TCP address, one thread and one fresh board per connection.
//! A connection that breaks the protocol or vanishes is closed and reported on stderr; the others go on.
//! Refuses non-loopback TCP addresses unless asked: the board has no authentication, and usbredir gives
//! whoever connects full access to the device.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, ToSocketAddrs};
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use thiserror::Error;

use crate::rig::{RigBoards, RigSlot};
use crate::session::{Connection, ConnectionCounts, Session, SessionConfig};

/// How often the accept loop looks at the stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(20);

/// Where to listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::Unix(p) => write!(f, "unix:{}", p.display()),
            ListenAddr::Tcp(a) => write!(f, "{a}"),
        }
    }
}

impl ListenAddr {
    /// `unix:/path/sock`, `/path/sock` (anything with a `/`), `127.0.0.1:PORT`, `[::1]:PORT`, `localhost:PORT`
    /// or `HOST:PORT`.
    pub fn parse(s: &str) -> Result<ListenAddr, ServeError> {
        if let Some(path) = s.strip_prefix("unix:") {
            return Ok(ListenAddr::Unix(PathBuf::from(path)));
        }
        if s.contains('/') {
            return Ok(ListenAddr::Unix(PathBuf::from(s)));
        }
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Ok(ListenAddr::Tcp(addr));
        }
        let bad = |reason: &str| ServeError::BadAddress {
            addr: s.to_string(),
            reason: reason.to_string(),
        };
        let (host, port) = s
            .rsplit_once(':')
            .ok_or_else(|| bad("expected HOST:PORT or a socket path"))?;
        let port: u16 = port.parse().map_err(|_| bad("the port is not a number"))?;
        if host == "localhost" {
            return Ok(ListenAddr::Tcp(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                port,
            )));
        }
        (host, port)
            .to_socket_addrs()
            .map_err(|_| bad("cannot resolve the host name"))?
            .next()
            .map(ListenAddr::Tcp)
            .ok_or_else(|| bad("the host name has no address"))
    }
}

/// Why the server cannot start.
#[derive(Debug, Error)]
pub enum ServeError {
    #[error(
        "bad listen address {addr:?}: {reason} (use unix:/path/sock, 127.0.0.1:PORT or [::1]:PORT)"
    )]
    BadAddress { addr: String, reason: String },
    #[error(
        "refusing to listen on {addr}: not a loopback address. The virtual board has no authentication and \
         usbredir gives whoever connects full access to the device; pass --allow-remote to do it anyway"
    )]
    NotLoopback { addr: SocketAddr },
    #[error("{path} is in use by a running server", path = path.display())]
    InUse { path: PathBuf },
    #[error("cannot listen on {addr}")]
    Bind {
        addr: String,
        #[source]
        source: io::Error,
    },
}

/// A bound listener; a Unix socket file is removed when it is dropped.
pub enum Listener {
    Unix {
        listener: UnixListener,
        path: PathBuf,
    },
    Tcp(TcpListener),
}

impl Listener {
    /// Bind `addr`. A stale Unix socket file (nobody listening) is replaced.
    pub fn bind(addr: &ListenAddr, allow_remote: bool) -> Result<Listener, ServeError> {
        let bind_err = |source| ServeError::Bind {
            addr: addr.to_string(),
            source,
        };
        match addr {
            ListenAddr::Tcp(a) if !a.ip().is_loopback() && !allow_remote => {
                Err(ServeError::NotLoopback { addr: *a })
            }
            ListenAddr::Tcp(a) => TcpListener::bind(a).map(Listener::Tcp).map_err(bind_err),
            ListenAddr::Unix(path) => {
                remove_stale_socket(path)?;
                let listener = UnixListener::bind(path).map_err(bind_err)?;
                Ok(Listener::Unix {
                    listener,
                    path: path.clone(),
                })
            }
        }
    }

    /// The address actually bound (with the port the system chose for port 0).
    pub fn local_addr(&self) -> ListenAddr {
        match self {
            Listener::Unix { path, .. } => ListenAddr::Unix(path.clone()),
            Listener::Tcp(l) => match l.local_addr() {
                Ok(a) => ListenAddr::Tcp(a),
                Err(_) => ListenAddr::Tcp(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)),
            },
        }
    }

    fn set_nonblocking(&self) -> io::Result<()> {
        match self {
            Listener::Unix { listener, .. } => listener.set_nonblocking(true),
            Listener::Tcp(l) => l.set_nonblocking(true),
        }
    }

    fn accept(&self) -> io::Result<(Box<dyn Connection + Send>, String)> {
        match self {
            Listener::Unix { listener, path } => {
                let (s, _) = listener.accept()?;
                s.set_nonblocking(false)?;
                Ok((Box::new(s), format!("unix:{}", path.display())))
            }
            Listener::Tcp(l) => {
                let (s, peer) = l.accept()?;
                s.set_nonblocking(false)?;
                s.set_nodelay(true)?;
                Ok((Box::new(s), peer.to_string()))
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let Listener::Unix { path, .. } = self {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl<C: Connection + ?Sized> Connection for Box<C> {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }
}

fn remove_stale_socket(path: &Path) -> Result<(), ServeError> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        return Ok(()); // bind reports "address in use"; we do not delete other files
    }
    if UnixStream::connect(path).is_ok() {
        return Err(ServeError::InUse {
            path: path.to_path_buf(),
        });
    }
    std::fs::remove_file(path).map_err(|source| ServeError::Bind {
        addr: path.display().to_string(),
        source,
    })
}

/// Serve connections on `listener` until `stop` is set; returns the totals of the connections that ended.
/// Each connection runs on its own thread with its own board; progress and errors go to stderr.
pub fn serve(
    listener: &Listener,
    config: &SessionConfig,
    stop: &AtomicBool,
) -> io::Result<ConnectionCounts> {
    let totals = Arc::new(Mutex::new(ConnectionCounts::default()));
    let live = Arc::new(AtomicUsize::new(0));
    let mut number = 0u64;
    accept_until(listener, stop, "usbredir", |conn, peer| {
        // At the cap the newcomer is closed at once; the connections already open go on.
        if live.load(Ordering::SeqCst) >= config.max_connections {
            eprintln!(
                "hil: usbredir: refused a connection from {peer}: {} connections already served (--max-connections)",
                config.max_connections
            );
            drop(conn);
            return Ok(());
        }
        let config = connection_config(config, number);
        let totals = Arc::clone(&totals);
        let live = Arc::clone(&live);
        live.fetch_add(1, Ordering::SeqCst);
        let n = number;
        // The rig channel is taken here, in accept order, not by the connection's thread.
        let rig = config.rig.as_ref().map(RigBoards::register);
        let spawned = thread::Builder::new()
            .name(format!("usbredir-{n}"))
            .spawn(move || {
                run_connection(conn, &peer, &config, n, rig, &totals);
                live.fetch_sub(1, Ordering::SeqCst);
            });
        spawned?;
        number += 1;
        Ok(())
    })?;
    let totals = totals.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok(totals)
}

/// Serve probe connections on `listener` until `stop` is set: probe connection `n` is the CMSIS-DAP probe wired to
/// the board of board connection `n` (the board's connection must come first; the probe waits for it up to the
/// hello timeout). Each runs on its own thread.
pub fn serve_probes(
    listener: &Listener,
    config: &SessionConfig,
    stop: &AtomicBool,
) -> io::Result<()> {
    let mut number = 0u64;
    accept_until(listener, stop, "usbredir probe", |mut conn, peer| {
        let n = number;
        number += 1;
        let boards = config.boards.clone();
        let (poll, hello_timeout) = (config.poll, config.hello_timeout);
        thread::Builder::new()
            .name(format!("usbredir-probe-{n}"))
            .spawn(move || {
                let started = std::time::Instant::now();
                let board = loop {
                    if let Some(b) = boards.get(n) {
                        break b;
                    }
                    if started.elapsed() > hello_timeout {
                        eprintln!(
                            "hil: usbredir probe connection {n} ({peer}): no board connection {n} to wire it to; closed"
                        );
                        return;
                    }
                    thread::sleep(ACCEPT_POLL);
                };
                let serial = format!("VPROBE{n:04}");
                eprintln!("hil: usbredir probe connection {n} ({peer}): CMSIS-DAP probe {serial} on board {n}");
                let mut session = crate::probe::ProbeSession::new(board, &serial, poll, hello_timeout);
                match session.run(&mut conn) {
                    Ok(()) => eprintln!(
                        "hil: usbredir probe connection {n} closed: {} DAP commands, {} SWD transfers",
                        session.commands,
                        session.transfers()
                    ),
                    Err(e) => eprintln!(
                        "hil: usbredir probe connection {n} closed on error: {}",
                        dfuse::error_chain(&e)
                    ),
                }
            })?;
        Ok(())
    })
}

/// Accepts connections on `listener` until `stop` is set, handing each to `accepted` with its peer's name; an
/// accept that fails is reported on stderr (naming `what`) and retried. Only `accepted`'s errors end the loop.
pub(crate) fn accept_until(
    listener: &Listener,
    stop: &AtomicBool,
    what: &str,
    mut accepted: impl FnMut(Box<dyn Connection + Send>, String) -> io::Result<()>,
) -> io::Result<()> {
    listener.set_nonblocking()?;
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((conn, peer)) => accepted(conn, peer)?,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(ACCEPT_POLL),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                eprintln!("hil: {what}: accept failed: {e}");
                thread::sleep(ACCEPT_POLL);
            }
        }
    }
    Ok(())
}

/// Connection `n`'s config: capture `FILE.pcap` becomes `FILE-n.pcap`.
fn connection_config(config: &SessionConfig, n: u64) -> SessionConfig {
    let mut c = config.clone();
    c.capture = config.capture.as_deref().map(|p| numbered(p, n));
    c
}

fn numbered(path: &Path, n: u64) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pcap".into());
    path.with_file_name(format!("{stem}-{n}.{ext}"))
}

fn run_connection(
    mut conn: Box<dyn Connection + Send>,
    peer: &str,
    config: &SessionConfig,
    n: u64,
    rig: Option<RigSlot>,
    totals: &Mutex<ConnectionCounts>,
) {
    let mut session = match Session::new(config, n, rig) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "hil: usbredir connection {n} ({peer}): {}",
                dfuse::error_chain(&e)
            );
            return;
        }
    };
    let rig = match session.rig_channel() {
        Some(c) => format!(", rig channel {c}"),
        None => String::new(),
    };
    eprintln!(
        "hil: usbredir connection {n} ({peer}): new board, seed {}{rig}",
        session.seed()
    );
    let result = session.run(&mut conn);
    let stats = session.stats().clone();
    match result {
        Ok(()) => eprintln!("hil: usbredir connection {n} closed: {stats}"),
        Err(e) => eprintln!(
            "hil: usbredir connection {n} closed on error: {}; {stats}",
            dfuse::error_chain(&e)
        ),
    }
    totals.lock().unwrap_or_else(|e| e.into_inner()).add(&stats);
}
