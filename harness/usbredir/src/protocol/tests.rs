//! The wire format's unit tests: round trips for every packet and capability set, and malformed input as errors.

use proptest::prelude::*;
use rstest::rstest;

use super::codec::{u16_at, u32_at};
use super::*;

const C32: Caps = Caps(0);
const C64: Caps = Caps::OURS;

fn control(status: Status, data: Vec<u8>) -> Packet {
    Packet::Control(ControlPacket {
        endpoint: 0x80,
        request: 6,
        request_type: 0x80,
        status,
        value: 0x0100,
        index: 0,
        length: data.len() as u16,
        data,
    })
}

fn bulk(endpoint: u8, length: u32, data: Vec<u8>) -> Packet {
    Packet::Bulk(BulkPacket {
        endpoint,
        status: Status::Success,
        length,
        stream_id: 0,
        data,
    })
}

#[test]
fn a_bulk_length_has_16_bits_without_the_32bits_capability_and_32_with_it() {
    let p = bulk(0x81, 0x0001_0040, vec![]);
    assert_eq!(encode(1, &p, C64).len(), 16 + 10);
    assert_eq!(encode(1, &p, C32).len(), 12 + 8);
    let (_, back, _) = decode(&encode(1, &p, C64), C64).unwrap();
    assert_eq!(back, p);
    let (_, cut, _) = decode(&encode(1, &p, C32), C32).unwrap();
    assert_eq!(
        cut,
        bulk(0x81, 0x40, vec![]),
        "the high half is not sent without the capability"
    );
}

#[rstest]
#[case::hello(Packet::Hello { version: "hil".into(), caps: Caps::OURS }, C32)]
#[case::connect(Packet::DeviceConnect(DeviceConnect {
    speed: SPEED_FULL, class: 0, subclass: 0, protocol: 0,
    vendor_id: 0x0483, product_id: 0xdf11, device_version_bcd: 0x2200 }), C64)]
#[case::connect_no_version(Packet::DeviceConnect(DeviceConnect {
    speed: SPEED_FULL, class: 0, subclass: 0, protocol: 0,
    vendor_id: 0x0483, product_id: 0xdf11, device_version_bcd: 0 }), C32)]
#[case::disconnect(Packet::DeviceDisconnect, C64)]
#[case::reset(Packet::Reset, C64)]
#[case::interfaces(Packet::InterfaceInfo(vec![Interface { number: 0, class: 0xfe, subclass: 1, protocol: 2 }]), C64)]
#[case::ep_info(Packet::EpInfo(Box::new(EpInfo::control_only(64))), C64)]
#[case::set_config(Packet::SetConfiguration { configuration: 1 }, C64)]
#[case::get_config(Packet::GetConfiguration, C64)]
#[case::config_status(Packet::ConfigurationStatus { status: Status::Stall, configuration: 1 }, C64)]
#[case::set_alt(Packet::SetAltSetting { interface: 0, alt: 1 }, C64)]
#[case::get_alt(Packet::GetAltSetting { interface: 0 }, C64)]
#[case::alt_status(Packet::AltSettingStatus { status: Status::Success, interface: 0, alt: 1 }, C64)]
#[case::cancel(Packet::CancelDataPacket, C64)]
#[case::control_in(control(Status::Success, vec![0x12, 0x01]), C64)]
#[case::control_timeout(control(Status::Timeout, vec![]), C32)]
#[case::bulk_out(bulk(0x01, 70_000, vec![0x00, 0xFF]), C64)]
#[case::bulk_in_reply(bulk(0x81, 4, vec![0x00, 2, 64, 0]), C32)]
fn round_trip(#[case] packet: Packet, #[case] caps: Caps) {
    let id = if caps.has(Caps::IDS_64BITS) {
        0x1_0000_0002
    } else {
        7
    };
    let bytes = encode(id, &packet, caps);
    let (header, decoded, used) = decode(&bytes, caps).unwrap();
    assert_eq!((header.id, used), (id, bytes.len()));
    assert_eq!(decoded, packet);
}

#[test]
fn hello_layout() {
    let bytes = encode(
        0,
        &Packet::Hello {
            version: "v".into(),
            caps: Caps::OURS,
        },
        C32,
    );
    assert_eq!(bytes.len(), 12 + 64 + 4);
    assert_eq!(&bytes[..8], &[0, 0, 0, 0, 68, 0, 0, 0]);
    assert_eq!(bytes[12], b'v');
    assert_eq!(u32_at(&bytes, 76), 0b111_0010);
}

#[test]
fn ep_info_and_connect_layouts_follow_caps() {
    let ep = Packet::EpInfo(Box::new(EpInfo::control_only(64)));
    assert_eq!(encode(0, &ep, C64).len(), 16 + 160);
    assert_eq!(encode(0, &ep, C32).len(), 12 + 96);
    let bytes = encode(0, &ep, C64);
    assert_eq!(&bytes[16..18], &[EP_TYPE_CONTROL, EP_TYPE_INVALID]);
    assert_eq!(bytes[16 + 16], EP_TYPE_CONTROL);
    assert_eq!(u16_at(&bytes, 16 + 96), 64);
    assert_eq!(u16_at(&bytes, 16 + 96 + 32), 64);
}

#[rstest]
#[case::empty(&[], C32, DecodeError::Truncated { got: 0, need: 12 })]
#[case::short_header(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], C64, DecodeError::Truncated { got: 14, need: 16 })]
#[case::short_body(&[3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], C32, DecodeError::Truncated { got: 12, need: 13 })]
#[case::unknown_type(&[0x47, 0x45, 0x54, 0x20, 0, 0, 0, 0, 0, 0, 0, 0], C32, DecodeError::UnknownType { kind: 0x2054_4547 })]
#[case::too_long(&[100, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0], C32, DecodeError::TooLong { length: 0x0100_0000 })]
#[case::reset_with_data(&[3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9], C32,
    DecodeError::BadLength { kind: RESET, length: 1, expected: "0".into() })]
#[case::short_hello(&[0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, b'x', 0], C32,
    DecodeError::BadLength { kind: HELLO, length: 2, expected: ">= 64".into() })]
#[case::short_control(&[100, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], C32,
    DecodeError::BadLength { kind: CONTROL_PACKET, length: 3, expected: ">= 10".into() })]
#[case::control_out_too_much(&[100, 0, 0, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0x21, 1, 0, 0, 0, 0, 0, 0, 0, 0xAA], C32,
    DecodeError::ControlData { got: 1, length: 0 })]
#[case::bulk_out_too_much(&[101, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0xAA], C32,
    DecodeError::BulkData { got: 1, length: 0 })]
#[case::short_bulk(&[101, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0x81, 0, 0], C32,
    DecodeError::BadLength { kind: BULK_PACKET, length: 3, expected: ">= 8".into() })]
fn malformed(#[case] bytes: &[u8], #[case] caps: Caps, #[case] want: DecodeError) {
    assert_eq!(decode(bytes, caps).unwrap_err(), want);
}

#[test]
fn unserved_types_are_skipped_whole() {
    let mut bytes = vec![103, 0, 0, 0, 3, 0, 0, 0, 5, 0, 0, 0, 1, 2, 3, 0xff];
    let (h, p, used) = decode(&bytes, C32).unwrap();
    assert_eq!((h.id, p, used), (5, Packet::Unserved { kind: 103 }, 15));
    bytes.truncate(14);
    assert!(matches!(
        decode(&bytes, C32),
        Err(DecodeError::Truncated { .. })
    ));
}

#[test]
fn control_setup_bytes() {
    let c = ControlPacket {
        endpoint: 0x80,
        request: 2,
        request_type: 0xa1,
        status: Status::Success,
        value: 2,
        index: 0,
        length: 32,
        data: vec![],
    };
    assert_eq!(c.setup(), [0xa1, 2, 2, 0, 0, 0, 32, 0]);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), wide in any::<bool>()) {
        let caps = if wide { C64 } else { C32 };
        let _ = decode(&bytes, caps);
    }

    #[test]
    fn arbitrary_bodies_never_panic(kind in 0u32..110, body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = decode_body(kind, &body, C64);
        let _ = decode_body(kind, &body, C32);
    }
}
