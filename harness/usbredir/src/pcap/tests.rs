//! The pcap writer's unit tests: file and record headers, usbmon fields, and the status codes of failed transfers.

use std::time::Duration;

use dfuse::{Setup, TransferError, TransferErrorKind};
use rstest::rstest;

use super::*;

/// One packet read back: the pcap record header and the usbmon header fields, decoded independently of
/// the writer.
#[derive(Debug)]
struct Packet {
    ts_sec: u32,
    ts_usec: u32,
    orig_len: u32,
    urb_id: u64,
    kind: u8,
    xfer_type: u8,
    endpoint: u8,
    device: u8,
    bus: u16,
    setup_flag: u8,
    usb_ts_sec: i64,
    usb_ts_usec: i32,
    status: i32,
    urb_len: u32,
    data_len: u32,
    setup: [u8; 8],
    data: Vec<u8>,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Check the file header and split the records.
fn read_back(bytes: &[u8]) -> Vec<Packet> {
    assert_eq!(u32_at(bytes, 0), 0xA1B2_C3D4, "magic");
    assert_eq!((u16_at(bytes, 4), u16_at(bytes, 6)), (2, 4), "version");
    assert!(
        u32_at(bytes, 16) >= 65_536 + 64,
        "snaplen fits a full wLength"
    );
    assert_eq!(u32_at(bytes, 20), 220, "LINKTYPE_USB_LINUX_MMAPPED");
    let mut packets = Vec::new();
    let mut at = 24;
    while at < bytes.len() {
        let incl_len = u32_at(bytes, at + 8) as usize;
        let record = &bytes[at + 16..at + 16 + incl_len];
        let h = &record[..64];
        let packet = Packet {
            ts_sec: u32_at(bytes, at),
            ts_usec: u32_at(bytes, at + 4),
            orig_len: u32_at(bytes, at + 12),
            urb_id: u64::from_le_bytes(h[0..8].try_into().unwrap()),
            kind: h[8],
            xfer_type: h[9],
            endpoint: h[10],
            device: h[11],
            bus: u16_at(h, 12),
            setup_flag: h[14],
            usb_ts_sec: i64::from_le_bytes(h[16..24].try_into().unwrap()),
            usb_ts_usec: i32::from_le_bytes(h[24..28].try_into().unwrap()),
            status: i32::from_le_bytes(h[28..32].try_into().unwrap()),
            urb_len: u32_at(h, 32),
            data_len: u32_at(h, 36),
            setup: h[40..48].try_into().unwrap(),
            data: record[64..].to_vec(),
        };
        assert_eq!(
            packet.data_len as usize,
            packet.data.len(),
            "len_cap matches the bytes that follow"
        );
        assert_eq!(packet.orig_len as usize, incl_len);
        packets.push(packet);
        at += 16 + incl_len;
    }
    assert_eq!(at, bytes.len(), "no trailing bytes");
    packets
}

const GETSTATUS: Setup = Setup {
    request_type: 0xA1,
    request: 3,
    value: 0,
    index: 0,
    length: 6,
};
const DNLOAD: Setup = Setup {
    request_type: 0x21,
    request: 1,
    value: 2,
    index: 0,
    length: 4,
};

fn capture(setup: Setup, out: &[u8], result: Result<Vec<u8>, TransferError>) -> Vec<Packet> {
    let mut w = PcapWriter::new(Vec::new(), 3, 42).unwrap();
    w.set_epoch(Duration::from_secs(1_700_000_000));
    let (s, c) = (
        Duration::from_micros(1_500_250),
        Duration::from_micros(1_502_000),
    );
    w.control(setup, out, &result, s, c).unwrap();
    read_back(&w.into_inner())
}

#[test]
fn in_transfer_has_setup_in_submission_and_data_in_completion() {
    let p = capture(GETSTATUS, &[], Ok(vec![0, 5, 0, 0, 2, 0]));
    let [s, c] = &p[..] else {
        panic!("two records, got {p:?}")
    };
    assert_eq!((s.kind, c.kind), (b'S', b'C'));
    assert_eq!(s.urb_id, c.urb_id);
    assert_eq!((s.xfer_type, s.endpoint, s.device, s.bus), (2, 0x80, 42, 3));
    assert_eq!((c.xfer_type, c.endpoint, c.device, c.bus), (2, 0x80, 42, 3));
    assert_eq!((s.setup_flag, s.setup), (0, GETSTATUS.to_bytes()));
    assert_eq!((c.setup_flag, c.setup), (b'-', [0; 8]));
    assert_eq!((s.status, s.urb_len, s.data_len), (-115, 6, 0));
    assert_eq!(
        (c.status, c.urb_len, &c.data[..]),
        (0, 6, &[0, 5, 0, 0, 2, 0][..])
    );
    assert_eq!((s.ts_sec, s.ts_usec), (1_700_000_001, 500_250));
    assert_eq!((s.usb_ts_sec, s.usb_ts_usec), (1_700_000_001, 500_250));
    assert_eq!((c.ts_sec, c.ts_usec), (1_700_000_001, 502_000));
}

#[test]
fn out_transfer_has_data_in_submission() {
    let p = capture(DNLOAD, &[1, 2, 3, 4], Ok(vec![]));
    let [s, c] = &p[..] else {
        panic!("two records, got {p:?}")
    };
    assert_eq!((s.endpoint, c.endpoint), (0x00, 0x00));
    assert_eq!((s.urb_len, &s.data[..]), (4, &[1, 2, 3, 4][..]));
    assert_eq!((c.status, c.urb_len, c.data_len), (0, 4, 0));
    assert_eq!(s.setup, DNLOAD.to_bytes());
}

#[rstest]
#[case::stall(TransferErrorKind::Stall, -32)]
#[case::timeout(TransferErrorKind::Timeout, -110)]
#[case::disconnected(TransferErrorKind::Disconnected, -19)]
#[case::io(TransferErrorKind::Io, -71)]
#[case::access(TransferErrorKind::Access, -13)]
#[case::busy(TransferErrorKind::Busy, -16)]
#[case::other(TransferErrorKind::Other, -5)]
fn failed_transfer_completes_with_linux_status(
    #[case] kind: TransferErrorKind,
    #[case] status: i32,
) {
    for (setup, out) in [(GETSTATUS, &[][..]), (DNLOAD, &[9, 9, 9, 9][..])] {
        let p = capture(setup, out, Err(TransferError::new(kind, "x")));
        assert_eq!((p[0].status, p[1].status), (-115, status));
        assert_eq!((p[1].urb_len, p[1].data_len), (0, 0));
    }
}

#[test]
fn urb_ids_are_unique_per_transfer() {
    let mut w = PcapWriter::new(Vec::new(), 1, 2).unwrap();
    for i in 0..3 {
        let t = Duration::from_millis(i);
        w.control(GETSTATUS, &[], &Ok(vec![0; 6]), t, t).unwrap();
    }
    let ids: Vec<u64> = read_back(&w.into_inner())
        .iter()
        .map(|p| p.urb_id)
        .collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[2], ids[3]);
    assert_eq!(ids[4], ids[5]);
    assert!(ids[0] != ids[2] && ids[2] != ids[4] && ids[0] != ids[4]);
}

#[test]
fn synthetic_enumeration_writes_get_descriptor_requests() {
    let mut w = PcapWriter::new(Vec::new(), 1, 2).unwrap();
    let strings = [
        (0, 0, vec![4, 3, 0x09, 0x04]),
        (2, 0x0409, vec![4, 3, b'S', 0]),
    ];
    w.synthetic_enumeration(&[0x12, 1], &[9, 2], &strings, Duration::ZERO)
        .unwrap();
    let p = read_back(&w.into_inner());
    assert_eq!(p.len(), 8);
    let setups: Vec<[u8; 8]> = p.iter().step_by(2).map(|s| s.setup).collect();
    assert_eq!(
        setups[0],
        [0x80, 6, 0, 1, 0, 0, 2, 0],
        "GET_DESCRIPTOR(DEVICE)"
    );
    assert_eq!(
        setups[1],
        [0x80, 6, 0, 2, 0, 0, 2, 0],
        "GET_DESCRIPTOR(CONFIGURATION)"
    );
    assert_eq!(
        setups[2],
        [0x80, 6, 0, 3, 0, 0, 4, 0],
        "GET_DESCRIPTOR(STRING 0)"
    );
    assert_eq!(
        setups[3],
        [0x80, 6, 2, 3, 0x09, 0x04, 4, 0],
        "GET_DESCRIPTOR(STRING 2, en-US)"
    );
    assert_eq!(p[7].data, vec![4, 3, b'S', 0]);
}

#[test]
fn decode_as_rule_names_vendor_and_product() {
    assert_eq!(
        dfu_decode_as(0x0483, 0xDF11),
        "usb.product==0x0483df11,usbdfu"
    );
}
