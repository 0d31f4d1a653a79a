//! The rig controller next to the server: power cycles seen on the usbredir connection, transfer counts, and
//! over-long lines refused without losing step.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use usbredir::protocol::Packet;

use crate::client::read_option_bytes;
use crate::server::{Server, DEADLINE};

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
