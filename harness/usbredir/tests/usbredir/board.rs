//! The board as a guest sees it over usbredir: enumeration with 64-bit ids, DfuSe reads, stalls, and the
//! disconnect and reconnect a DFU leave causes.

use usbredir::protocol::{Caps, Packet, Status};

use crate::client::{read_option_bytes, DFU_DNLOAD};
use crate::server::Server;

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
