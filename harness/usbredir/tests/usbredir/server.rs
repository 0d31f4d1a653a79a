//! The server under test, in a thread of the test process: a usbredir listener on a Unix socket (or TCP), with
//! a rig controller when a test asks for one. Stopping it joins the thread and returns the server's stats.

use std::io::Write;
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use usbredir::protocol::Caps;
use usbredir::{
    serve, serve_rig, ConnectionCounts, ListenAddr, Listener, RigBoards, SessionConfig,
};
use vboard::BoardConfig;

use crate::client::{Client, Stream};

pub const DEADLINE: Duration = Duration::from_secs(10);

pub struct Server {
    pub stop: Arc<AtomicBool>,
    pub thread: Option<JoinHandle<ConnectionCounts>>,
    pub addr: ListenAddr,
    pub rig: Option<PathBuf>,
}

impl Server {
    pub fn start(name: &str) -> Server {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("usbredir-{}-{name}.sock", std::process::id()));
        Self::start_at(&ListenAddr::Unix(path))
    }

    pub fn start_at(addr: &ListenAddr) -> Server {
        Self::start_with(addr, None)
    }

    /// A server that also plays the rig controller on `<name>-rig.sock`.
    pub fn start_with_rig(name: &str) -> Server {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let sock =
            |what: &str| dir.join(format!("usbredir-{}-{name}{what}.sock", std::process::id()));
        Self::start_with(&ListenAddr::Unix(sock("")), Some(sock("-rig")))
    }

    pub fn start_with(addr: &ListenAddr, rig: Option<PathBuf>) -> Server {
        Self::start_configured(addr, rig, |_| {})
    }

    /// A server whose session config `tune` adjusts first (caps, timeouts).
    pub fn start_configured(
        addr: &ListenAddr,
        rig: Option<PathBuf>,
        tune: impl FnOnce(&mut SessionConfig),
    ) -> Server {
        let listener = Listener::bind(addr, false).expect("bind");
        let addr = listener.local_addr();
        let stop = Arc::new(AtomicBool::new(false));
        let mut config = SessionConfig::new(BoardConfig::healthy_default(), 1);
        tune(&mut config);
        if let Some(path) = &rig {
            let rig = Listener::bind(&ListenAddr::Unix(path.clone()), false).expect("bind rig");
            let boards = RigBoards::new();
            config.rig = Some(boards.clone());
            let flag = Arc::clone(&stop);
            thread::spawn(move || serve_rig(&rig, &boards, &flag).expect("serve rig"));
        }
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || serve(&listener, &config, &flag).expect("serve"));
        Server {
            stop,
            thread: Some(thread),
            addr,
            rig,
        }
    }

    /// A rig-controller client: sends one command line, returns the reply line.
    pub fn rig(&self) -> impl FnMut(&str) -> String {
        let path = self.rig.clone().expect("a server with a rig");
        let stream = UnixStream::connect(path).expect("connect to the rig");
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
        let mut stream = stream;
        move |line: &str| {
            stream.write_all(format!("{line}\n").as_bytes()).unwrap();
            let mut reply = String::new();
            std::io::BufRead::read_line(&mut reader, &mut reply).expect("a rig reply");
            reply.trim_end().to_string()
        }
    }

    pub fn client(&self) -> Client {
        let stream: Box<dyn Stream> = match &self.addr {
            ListenAddr::Unix(p) => {
                let s = UnixStream::connect(p).expect("connect");
                s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
                Box::new(s)
            }
            ListenAddr::Tcp(a) => {
                let s = TcpStream::connect(a).expect("connect");
                s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
                Box::new(s)
            }
        };
        Client {
            stream,
            caps: Caps::default(),
            buf: Vec::new(),
            next_id: 1,
        }
    }

    pub fn stop(mut self) -> ConnectionCounts {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().expect("server thread")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
