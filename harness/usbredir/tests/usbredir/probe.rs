//! The virtual CMSIS-DAP probe served beside its board: a probe connection gets the probe's USB device (vendor
//! interface, bulk endpoints), and its DAP commands read the very board the board's connection serves.

use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use usbredir::boards::Boards;
use usbredir::protocol::{BulkPacket, Caps, Packet, Status};
use usbredir::{serve, serve_probes, ListenAddr, Listener, SessionConfig};
use vboard::registers::{DBGMCU_IDCODE, RCC_PLLCFGR};
use vboard::BoardConfig;

use crate::client::{Client, QEMU_CAPS};

fn sock(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("usbredir-{}-{name}.sock", std::process::id()))
}

fn connect(path: &PathBuf) -> Client {
    let s = UnixStream::connect(path).expect("connect");
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    Client {
        stream: Box::new(s),
        caps: Caps::default(),
        buf: Vec::new(),
        next_id: 1,
    }
}

/// One DAP command over bulk OUT, its response over bulk IN.
fn dap(probe: &mut Client, command: &[u8]) -> Vec<u8> {
    let out = probe.id();
    probe.send(
        out,
        &Packet::Bulk(BulkPacket {
            endpoint: 0x01,
            status: Status::Success,
            length: command.len() as u32,
            stream_id: 0,
            data: command.to_vec(),
        }),
    );
    let inn = probe.id();
    probe.send(
        inn,
        &Packet::Bulk(BulkPacket {
            endpoint: 0x81,
            status: Status::Success,
            length: 64,
            stream_id: 0,
            data: vec![],
        }),
    );
    let mut response = None;
    while response.is_none() {
        match probe.recv() {
            (id, Packet::Bulk(b)) if id == out => assert_eq!(b.status, Status::Success),
            (id, Packet::Bulk(b)) if id == inn => response = Some(b.data),
            other => panic!("unexpected {other:?}"),
        }
    }
    response.unwrap()
}

fn read_word(probe: &mut Client, addr: u32) -> u32 {
    let mut req = vec![0x05, 0, 3, 0x01];
    req.extend(0xA200_0012u32.to_le_bytes());
    req.push(0x05);
    req.extend(addr.to_le_bytes());
    req.push(0x0F);
    let r = dap(probe, &req);
    assert_eq!(r[..3], [0x05, 3, 1], "{r:x?}");
    u32::from_le_bytes(r[3..7].try_into().unwrap())
}

#[test]
fn the_probe_is_served_beside_its_board_and_reads_that_board() {
    let (board_sock, probe_sock) = (sock("probe-board"), sock("probe-probe"));
    let boards = Boards::default();
    let mut config = SessionConfig::new(BoardConfig::healthy_default(), 1);
    config.boards = boards.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let board_listener = Listener::bind(&ListenAddr::Unix(board_sock.clone()), false).unwrap();
    let probe_listener = Listener::bind(&ListenAddr::Unix(probe_sock.clone()), false).unwrap();
    let (c1, s1) = (config.clone(), Arc::clone(&stop));
    thread::spawn(move || serve(&board_listener, &c1, &s1));
    let (c2, s2) = (config.clone(), Arc::clone(&stop));
    thread::spawn(move || serve_probes(&probe_listener, &c2, &s2));

    let mut dfu = connect(&board_sock);
    assert_eq!(dfu.handshake().vendor_id, 0x0483);
    let mut probe = connect(&probe_sock);
    probe.send(
        0,
        &Packet::Hello {
            version: "qemu".into(),
            caps: QEMU_CAPS,
        },
    );
    assert!(matches!(probe.recv().1, Packet::Hello { .. }));
    probe.caps = QEMU_CAPS.negotiated(Caps::OURS);
    match probe.recv().1 {
        Packet::InterfaceInfo(list) => assert_eq!((list[0].class, list[0].subclass), (0xFF, 0)),
        other => panic!("{other:?}"),
    }
    match probe.recv().1 {
        Packet::EpInfo(ep) => assert_eq!(
            (ep.kind[1], ep.kind[17]),
            (2, 2),
            "bulk OUT 1, bulk IN 0x81"
        ),
        other => panic!("{other:?}"),
    }
    match probe.recv().1 {
        Packet::DeviceConnect(c) => assert_eq!((c.vendor_id, c.product_id), (0x1209, 0x0001)),
        other => panic!("{other:?}"),
    }

    assert_eq!(dap(&mut probe, &[0x00, 0xFF]), [0x00, 2, 64, 0]);
    assert_eq!(dap(&mut probe, &[0x02, 0x01]), [0x02, 1]);
    dap(
        &mut probe,
        &[0x12, 51, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],
    );
    dap(&mut probe, &[0x12, 16, 0x9E, 0xE7]);
    dap(
        &mut probe,
        &[0x12, 54, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],
    );
    assert_eq!(
        dap(&mut probe, &[0x05, 0, 1, 0x02])[3..],
        0x5BA0_2477u32.to_le_bytes()
    );
    let power = [0x05, 0, 2, 0x00, 0x1E, 0, 0, 0, 0x04, 0, 0, 0, 0x50];
    assert_eq!(dap(&mut probe, &power)[..3], [0x05, 2, 1]);

    assert_eq!(read_word(&mut probe, DBGMCU_IDCODE) & 0xFFF, 0x449);
    let served = boards.get(0).expect("board 0 is live");
    let now = dfuse::Clock::now(&served.clock);
    let truth = served.lock().read_u32(now, RCC_PLLCFGR).unwrap();
    assert_eq!(
        read_word(&mut probe, RCC_PLLCFGR),
        truth,
        "the probe reads the served board"
    );
    drop(dfu);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
}
