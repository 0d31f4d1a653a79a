//! The usbredir server end to end, with a small usbredir client playing QEMU's part over a Unix socket (and
//! once over loopback TCP). Every read has a deadline: a broken server fails a test, it never hangs one.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use usbredir::protocol::{
    decode, encode, Caps, ControlPacket, DecodeError, DeviceConnect, Packet, Status,
};
use usbredir::{
    serve, serve_rig, ListenAddr, Listener, RigBoards, ServeError, SessionConfig, Stats,
};
use vboard::BoardConfig;

const DEADLINE: Duration = Duration::from_secs(10);
/// What QEMU 7.2 advertises (filter and bulk receiving too, which the board does not take up).
const QEMU_CAPS: Caps = Caps(Caps::OURS.0 | Caps::FILTER | Caps::BULK_RECEIVING);

struct Server {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Stats>>,
    addr: ListenAddr,
    rig: Option<PathBuf>,
}

impl Server {
    fn start(name: &str) -> Server {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("usbredir-{}-{name}.sock", std::process::id()));
        Self::start_at(&ListenAddr::Unix(path))
    }

    fn start_at(addr: &ListenAddr) -> Server {
        Self::start_with(addr, None)
    }

    /// A server that also plays the rig controller on `<name>-rig.sock`.
    fn start_with_rig(name: &str) -> Server {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let sock =
            |what: &str| dir.join(format!("usbredir-{}-{name}{what}.sock", std::process::id()));
        Self::start_with(&ListenAddr::Unix(sock("")), Some(sock("-rig")))
    }

    fn start_with(addr: &ListenAddr, rig: Option<PathBuf>) -> Server {
        let listener = Listener::bind(addr, false).expect("bind");
        let addr = listener.local_addr();
        let stop = Arc::new(AtomicBool::new(false));
        let mut config = SessionConfig::new(BoardConfig::healthy_default(), 1);
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
    fn rig(&self) -> impl FnMut(&str) -> String {
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

    fn client(&self) -> Client {
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

    fn stop(mut self) -> Stats {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().expect("server thread")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// QEMU's side of usbredir, as far as these tests need it.
struct Client {
    stream: Box<dyn Stream>,
    caps: Caps,
    buf: Vec<u8>,
    next_id: u64,
}

enum Recv {
    Packet(u64, Packet),
    Closed,
}

impl Client {
    fn send(&mut self, id: u64, packet: &Packet) {
        self.stream
            .write_all(&encode(id, packet, self.caps))
            .expect("send");
    }

    fn try_recv(&mut self, within: Duration) -> Option<Recv> {
        let deadline = Instant::now() + within;
        let mut chunk = [0u8; 4096];
        loop {
            match decode(&self.buf, self.caps) {
                Ok((h, p, used)) => {
                    self.buf.drain(..used);
                    return Some(Recv::Packet(h.id, p));
                }
                Err(DecodeError::Truncated { .. }) => {}
                Err(e) => panic!("server sent a malformed packet: {e}"),
            }
            if Instant::now() > deadline {
                return None;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Some(Recv::Closed),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return Some(Recv::Closed),
            }
        }
    }

    fn recv(&mut self) -> (u64, Packet) {
        match self.try_recv(DEADLINE) {
            Some(Recv::Packet(id, p)) => (id, p),
            Some(Recv::Closed) => panic!("server closed the connection"),
            None => panic!("no packet from the server within {DEADLINE:?}"),
        }
    }

    /// Hello both ways; then the plug packets of the board.
    fn handshake(&mut self) -> DeviceConnect {
        self.send(
            0,
            &Packet::Hello {
                version: "qemu usb-redir guest 7.2".into(),
                caps: QEMU_CAPS,
            },
        );
        match self.recv() {
            (0, Packet::Hello { caps, .. }) => assert_eq!(caps, Caps::OURS),
            other => panic!("expected hello, got {other:?}"),
        }
        self.caps = QEMU_CAPS.negotiated(Caps::OURS);
        self.expect_plug()
    }

    fn expect_plug(&mut self) -> DeviceConnect {
        match self.recv().1 {
            Packet::InterfaceInfo(list) => {
                assert_eq!(list.len(), 1);
                assert_eq!(
                    (
                        list[0].number,
                        list[0].class,
                        list[0].subclass,
                        list[0].protocol
                    ),
                    (0, 0xfe, 1, 2)
                );
            }
            other => panic!("expected interface_info, got {other:?}"),
        }
        match self.recv().1 {
            Packet::EpInfo(ep) => {
                assert_eq!((ep.kind[0], ep.kind[16], ep.kind[1]), (0, 0, 255));
                assert_eq!((ep.max_packet_size[0], ep.max_packet_size[16]), (64, 64));
            }
            other => panic!("expected ep_info, got {other:?}"),
        }
        match self.recv().1 {
            Packet::DeviceConnect(c) => c,
            other => panic!("expected device_connect, got {other:?}"),
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        // Above 32 bits: only survives if both sides really use 64-bit ids.
        (1 << 32) | self.next_id
    }

    fn send_control(
        &mut self,
        id: u64,
        request_type: u8,
        request: u8,
        value: u16,
        length: u16,
        data: &[u8],
    ) {
        let packet = Packet::Control(ControlPacket {
            endpoint: request_type & 0x80,
            request,
            request_type,
            status: Status::Success,
            value,
            index: 0,
            length,
            data: data.to_vec(),
        });
        self.send(id, &packet);
    }

    fn control(
        &mut self,
        request_type: u8,
        request: u8,
        value: u16,
        length: u16,
        data: &[u8],
    ) -> ControlPacket {
        let id = self.id();
        self.send_control(id, request_type, request, value, length, data);
        match self.recv() {
            (got, Packet::Control(c)) => {
                assert_eq!(got, id, "reply id");
                c
            }
            other => panic!("expected a control reply, got {other:?}"),
        }
    }

    fn ok(
        &mut self,
        request_type: u8,
        request: u8,
        value: u16,
        length: u16,
        data: &[u8],
    ) -> Vec<u8> {
        let c = self.control(request_type, request, value, length, data);
        assert_eq!(
            c.status,
            Status::Success,
            "request {request:#x} value {value:#x}"
        );
        c.data
    }

    /// DFU_GETSTATUS, then wait bwPollTimeout as a host must.
    fn get_status(&mut self) -> [u8; 6] {
        let s: [u8; 6] = self
            .ok(0xa1, 3, 0, 6, &[])
            .try_into()
            .expect("6 status bytes");
        thread::sleep(Duration::from_millis(u64::from(u32::from_le_bytes([
            s[1], s[2], s[3], 0,
        ]))));
        s
    }

    fn set_alt(&mut self, alt: u8) {
        let id = self.id();
        self.send(id, &Packet::SetAltSetting { interface: 0, alt });
        assert_eq!(
            self.recv(),
            (
                id,
                Packet::AltSettingStatus {
                    status: Status::Success,
                    interface: 0,
                    alt
                }
            )
        );
    }

    fn device_descriptor(&mut self) -> Vec<u8> {
        self.ok(0x80, 6, 0x0100, 18, &[])
    }

    fn expect_closed(&mut self) {
        loop {
            match self.try_recv(DEADLINE) {
                Some(Recv::Closed) => return,
                Some(Recv::Packet(..)) => {}
                None => panic!("server did not close the connection"),
            }
        }
    }
}

const DFU_DNLOAD: u8 = 1;
const DFU_UPLOAD: u8 = 2;
const DFU_ABORT: u8 = 6;
const STATE_DNLOAD_IDLE: u8 = 5;
const STATE_IDLE: u8 = 2;

fn read_option_bytes(c: &mut Client) -> Vec<u8> {
    c.set_alt(1);
    c.ok(0x21, DFU_DNLOAD, 0, 5, &[0x21, 0x00, 0x00, 0xff, 0x1f]);
    c.get_status();
    assert_eq!(c.get_status()[4], STATE_DNLOAD_IDLE);
    c.ok(0x21, DFU_ABORT, 0, 0, &[]);
    assert_eq!(c.get_status()[4], STATE_IDLE);
    c.ok(0xa1, DFU_UPLOAD, 2, 32, &[])
}

#[test]
fn enumerates_as_the_st_bootloader_with_64_bit_ids() {
    let server = Server::start("enum");
    let mut c = server.client();
    let connect = c.handshake();
    assert_eq!(
        (
            connect.speed,
            connect.class,
            connect.vendor_id,
            connect.product_id,
            connect.device_version_bcd
        ),
        (1, 0, 0x0483, 0xdf11, 0x2200)
    );
    assert!(c.caps.has(Caps::IDS_64BITS));
    let dd = c.device_descriptor();
    assert_eq!(dd.len(), 18);
    assert_eq!(&dd[8..14], &[0x83, 0x04, 0x11, 0xdf, 0x00, 0x22]);
    let id = c.id();
    c.send(id, &Packet::SetConfiguration { configuration: 1 });
    assert_eq!(
        c.recv(),
        (
            id,
            Packet::ConfigurationStatus {
                status: Status::Success,
                configuration: 1
            }
        )
    );
    drop(c);
    server.stop();
}

#[test]
fn reads_the_option_bytes() {
    let server = Server::start("ob");
    let mut c = server.client();
    c.handshake();
    let ob = read_option_bytes(&mut c);
    assert_eq!(ob.len(), 32);
    assert_eq!(&ob[..4], &[0xff, 0xaa, 0x00, 0x55]);
}

#[test]
fn a_stalled_request_reports_stall() {
    let server = Server::start("stall");
    let mut c = server.client();
    c.handshake();
    let reply = c.control(0x80, 6, 0x0700, 10, &[]);
    assert_eq!(
        (reply.status, reply.length, reply.data.len()),
        (Status::Stall, 0, 0)
    );
    c.device_descriptor();
}

#[test]
fn leave_disconnects_and_the_board_comes_back() {
    let server = Server::start("leave");
    let mut c = server.client();
    c.handshake();
    c.ok(0x21, DFU_DNLOAD, 2, 0, &[]);
    let id = c.id();
    c.send_control(id, 0xa1, 3, 0, 6, &[]);
    let mut saw_reply = false;
    loop {
        match c.recv() {
            (got, Packet::Control(_)) if got == id => saw_reply = true,
            (_, Packet::DeviceDisconnect) => break,
            other => panic!("expected device_disconnect, got {other:?}"),
        }
    }
    assert!(
        saw_reply,
        "the GETSTATUS that starts the leave is answered first"
    );
    let connect = c.expect_plug();
    assert_eq!(connect.product_id, 0xdf11);
    assert_eq!(c.device_descriptor()[..2], [18, 1]);
}

#[test]
fn the_rig_power_cycles_the_board_and_counts_its_transfers() {
    let server = Server::start_with_rig("rig");
    let mut rig = server.rig();
    assert!(
        rig("PWR 1 OFF").starts_with("ERR no board on channel 1"),
        "no usbredir client yet"
    );
    let mut c = server.client();
    c.handshake();
    // The rig answers once the session has registered; the handshake above means it has.
    let transfers = |rig: &mut dyn FnMut(&str) -> String| -> u64 {
        let reply = rig("XFERS 1?");
        let n = reply
            .strip_prefix("XFERS 1 ")
            .unwrap_or_else(|| panic!("{reply}"));
        n.parse().unwrap()
    };
    let before = transfers(&mut rig);
    assert_eq!(read_option_bytes(&mut c)[..4], [0xff, 0xaa, 0x00, 0x55]);
    let used = transfers(&mut rig) - before;
    assert!(
        (3..=8).contains(&used),
        "an option-byte read is a handful of control transfers, counted {used}"
    );
    assert_eq!(rig("TEMP 1?"), "TEMP 1 25.0");

    assert_eq!(rig("PWR 1 OFF"), "OK PWR 1 OFF");
    match c.recv().1 {
        Packet::DeviceDisconnect => {}
        other => panic!("expected device_disconnect after power-off, got {other:?}"),
    }
    assert_eq!(rig("BOOT0 1 1"), "OK BOOT0 1 1");
    assert_eq!(rig("PWR 1 ON"), "OK PWR 1 ON");
    assert_eq!(c.expect_plug().product_id, 0xdf11, "back after power-on");
    assert_eq!(c.device_descriptor()[..2], [18, 1]);

    assert_eq!(rig("RST 1 20"), "OK RST 1");
    match c.recv().1 {
        Packet::DeviceDisconnect => {}
        other => panic!("expected device_disconnect after NRST, got {other:?}"),
    }
    c.expect_plug();
    assert!(rig("PWR 2 ON").starts_with("ERR no board on channel 2"));
    assert!(rig("FIRE 1").starts_with("ERR unknown command"));
}

#[test]
fn an_over_long_rig_line_is_refused_whole_and_replies_stay_in_step() {
    let server = Server::start_with_rig("rig-long");
    let mut c = server.client();
    c.handshake();
    let mut raw = UnixStream::connect(server.rig.as_ref().unwrap()).unwrap();
    raw.set_read_timeout(Some(DEADLINE)).unwrap();
    // 300 bytes with a command at the end: none of it may run, or the board would be powered off.
    let mut line = "x".repeat(290);
    line.push_str(" PWR 1 OFF\r\nTEMP 1?\r\n");
    raw.write_all(line.as_bytes()).unwrap();
    let want = "ERR line too long\r\nTEMP 1 25.0\r\n";
    let mut got = Vec::new();
    let mut chunk = [0u8; 256];
    while got.len() < want.len() {
        let n = raw.read(&mut chunk).expect("rig replies");
        assert!(
            n > 0,
            "rig closed after {:?}",
            String::from_utf8_lossy(&got)
        );
        got.extend_from_slice(&chunk[..n]);
    }
    assert_eq!(String::from_utf8_lossy(&got), want);
    assert_eq!(c.device_descriptor()[..2], [18, 1], "still powered");
}

#[test]
fn garbage_and_truncated_headers_close_only_their_connection() {
    let server = Server::start("garbage");
    let mut good = server.client();
    good.handshake();

    let mut garbage = server.client();
    garbage
        .stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    garbage.expect_closed();

    let mut truncated = server.client();
    truncated.handshake();
    truncated
        .stream
        .write_all(&[100, 0, 0, 0, 10, 0, 0])
        .unwrap();
    drop(truncated);

    let mut no_hello = server.client();
    no_hello.send(0, &Packet::Reset);
    no_hello.expect_closed();

    assert_eq!(read_option_bytes(&mut good)[..4], [0xff, 0xaa, 0x00, 0x55]);
    let mut next = server.client();
    next.handshake();
    next.device_descriptor();
}

#[test]
fn a_client_vanishing_mid_transfer_does_not_stop_the_server() {
    let server = Server::start("vanish");
    let mut c = server.client();
    c.handshake();
    // Erase sector 0, then leave while the erase is still running and the server waits for it.
    c.ok(0x21, DFU_DNLOAD, 0, 5, &[0x41, 0x00, 0x00, 0x00, 0x08]);
    let id = c.id();
    c.send_control(id, 0xa1, 3, 0, 6, &[]);
    let id = c.id();
    c.send_control(id, 0xa1, 3, 0, 6, &[]);
    drop(c);

    let mut next = server.client();
    next.handshake();
    assert_eq!(next.device_descriptor()[..2], [18, 1]);
}

#[test]
fn cancel_of_answered_or_unknown_ids_gets_no_reply() {
    let server = Server::start("cancel");
    let mut c = server.client();
    c.handshake();
    let id = c.id();
    c.send_control(id, 0x80, 6, 0x0100, 18, &[]);
    assert_eq!(c.recv().0, id);
    c.send(id, &Packet::CancelDataPacket);
    c.send(0xdead_beef_0000, &Packet::CancelDataPacket);
    assert!(
        c.try_recv(Duration::from_millis(200)).is_none(),
        "no reply to a cancel"
    );
    c.device_descriptor();
}

#[test]
fn serves_loopback_tcp() {
    let server = Server::start_at(&ListenAddr::parse("127.0.0.1:0").unwrap());
    let mut c = server.client();
    c.handshake();
    assert_eq!(c.device_descriptor()[8..12], [0x83, 0x04, 0x11, 0xdf]);
}

#[test]
fn refuses_non_loopback_tcp() {
    for addr in ["192.0.2.1:4000", "0.0.0.0:0", "[::]:0"] {
        let addr = ListenAddr::parse(addr).unwrap();
        let err = Listener::bind(&addr, false).err().expect("refused");
        assert!(matches!(err, ServeError::NotLoopback { .. }), "{err:?}");
        assert!(err.to_string().contains("no authentication"), "{err}");
    }
}

#[test]
fn listen_addresses() {
    let unix = |p: &str| ListenAddr::Unix(PathBuf::from(p));
    assert_eq!(
        ListenAddr::parse("unix:/tmp/b.sock").unwrap(),
        unix("/tmp/b.sock")
    );
    assert_eq!(
        ListenAddr::parse("/tmp/b.sock").unwrap(),
        unix("/tmp/b.sock")
    );
    assert_eq!(
        ListenAddr::parse("localhost:4000").unwrap().to_string(),
        "127.0.0.1:4000"
    );
    assert_eq!(
        ListenAddr::parse("[::1]:4000").unwrap().to_string(),
        "[::1]:4000"
    );
    assert!(matches!(
        ListenAddr::parse("localhost:http"),
        Err(ServeError::BadAddress { .. })
    ));
    assert!(matches!(
        ListenAddr::parse("nonsense"),
        Err(ServeError::BadAddress { .. })
    ));
}
