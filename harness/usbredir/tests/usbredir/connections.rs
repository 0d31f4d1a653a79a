//! Connections and addresses: garbage, truncation and vanishing clients end only their own connection,
//! cancels, loopback TCP, and the listen addresses accepted or refused.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use usbredir::protocol::Packet;
use usbredir::{ListenAddr, Listener, ServeError};

use crate::client::{read_option_bytes, DFU_DNLOAD};
use crate::server::Server;

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

fn sock(name: &str) -> ListenAddr {
    ListenAddr::Unix(
        PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("usbredir-{}-{name}.sock", std::process::id())),
    )
}

#[test]
fn at_the_connection_cap_a_newcomer_is_closed_and_the_open_ones_go_on() {
    let server = Server::start_configured(&sock("cap"), None, |c| c.max_connections = 2);
    let mut first = server.client();
    first.handshake();
    let mut second = server.client();
    second.handshake();
    let mut third = server.client();
    third.expect_closed();
    assert_eq!(read_option_bytes(&mut first)[..4], [0xff, 0xaa, 0x00, 0x55]);
    assert_eq!(second.device_descriptor()[..2], [18, 1]);
    // A place freed is a place for the next one.
    drop(first);
    std::thread::sleep(Duration::from_millis(300));
    let mut fourth = server.client();
    fourth.handshake();
    assert_eq!(fourth.device_descriptor()[..2], [18, 1]);
}

#[test]
fn a_connection_that_never_says_hello_is_closed_after_the_timeout() {
    let server = Server::start_configured(&sock("silent"), None, |c| {
        c.hello_timeout = Duration::from_millis(300)
    });
    let mut silent = server.client();
    silent.expect_closed();
    let mut next = server.client();
    next.handshake();
    assert_eq!(next.device_descriptor()[..2], [18, 1]);
}
