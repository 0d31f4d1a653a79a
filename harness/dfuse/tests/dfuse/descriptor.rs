//! Descriptor parsers over raw bytes, including the STM32F4 ROM bootloader's dump (dfu-util device-logs).

use std::time::Duration;

use dfuse::descriptor::{
    parse_config_descriptor, parse_device_descriptor, parse_functional_descriptor,
    parse_language_ids, parse_string_descriptor, FunctionalDescriptor,
};
use dfuse::error::ParseError;
use proptest::prelude::*;
use rstest::rstest;

/// The F4 ROM's DFU functional descriptor: bmAttributes 0x0B, wDetachTimeOut 255, wTransferSize 2048, 1.1a.
const F4_FUNCTIONAL: [u8; 9] = [0x09, 0x21, 0x0B, 0xFF, 0x00, 0x00, 0x08, 0x1A, 0x01];

const F4_DEVICE: [u8; 18] = [
    0x12, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x40, 0x83, 0x04, 0x11, 0xDF, 0x00, 0x21, 0x01, 0x02,
    0x03, 0x01,
];

fn interface(alt: u8, string: u8) -> [u8; 9] {
    [0x09, 0x04, 0x00, alt, 0x00, 0xFE, 0x01, 0x02, string]
}

/// Configuration: one interface, four alt settings (iInterface 4..7), then the functional descriptor.
fn f4_config() -> Vec<u8> {
    let mut b = vec![0x09, 0x02, 0x36, 0x00, 0x01, 0x01, 0x00, 0xC0, 0x32];
    for alt in 0..4 {
        b.extend(interface(alt, 4 + alt));
    }
    b.extend(F4_FUNCTIONAL);
    b
}

fn string_descriptor(s: &str) -> Vec<u8> {
    let units: Vec<u16> = s.encode_utf16().collect();
    let mut b = vec![(2 + 2 * units.len()) as u8, 0x03];
    b.extend(units.iter().flat_map(|u| u.to_le_bytes()));
    b
}

#[test]
fn f4_rom_device_descriptor() {
    let d = parse_device_descriptor(&F4_DEVICE).unwrap();
    assert_eq!((d.vendor_id, d.product_id), (0x0483, 0xDF11));
    assert_eq!(d.device_version, 0x2100);
    assert_eq!(d.usb_version, 0x0200);
    assert_eq!(d.max_packet_size0, 64);
    assert_eq!(
        (d.manufacturer_index, d.product_index, d.serial_index),
        (1, 2, 3)
    );
    assert_eq!(d.num_configurations, 1);
}

#[rstest]
#[case::f4_rom(&F4_FUNCTIONAL, 0x0B, 255, 2048, 0x011A, true)]
#[case::plain_dfu_11(&[0x09, 0x21, 0x07, 0x00, 0x10, 0x00, 0x04, 0x10, 0x01], 0x07, 0x1000, 1024, 0x0110, false)]
#[case::dfu_10_short_form(&[0x07, 0x21, 0x01, 0x64, 0x00, 0x40, 0x00], 0x01, 100, 64, 0x0100, false)]
#[case::extra_bytes_ignored(&[0x09, 0x21, 0x0B, 0xFF, 0x00, 0x00, 0x08, 0x1A, 0x01, 0xEE], 0x0B, 255, 2048, 0x011A, true)]
fn functional_descriptors(
    #[case] bytes: &[u8],
    #[case] attributes: u8,
    #[case] detach_ms: u64,
    #[case] transfer_size: u16,
    #[case] version: u16,
    #[case] dfuse: bool,
) {
    let f = parse_functional_descriptor(bytes).unwrap();
    assert_eq!(f.attributes.0, attributes);
    assert_eq!(f.detach_timeout, Duration::from_millis(detach_ms));
    assert_eq!(f.transfer_size, transfer_size);
    assert_eq!(f.dfu_version, version);
    assert_eq!(f.is_dfuse(), dfuse);
}

#[test]
fn f4_rom_attribute_bits() {
    let a = parse_functional_descriptor(&F4_FUNCTIONAL)
        .unwrap()
        .attributes;
    assert!(a.can_download() && a.can_upload() && a.will_detach());
    assert!(
        !a.manifestation_tolerant(),
        "the ROM is manifestation-intolerant"
    );
}

#[test]
fn f4_rom_configuration_walk() {
    let c = parse_config_descriptor(&f4_config()).unwrap();
    assert_eq!((c.total_length, c.num_interfaces, c.value), (54, 1, 1));
    let alts: Vec<(u8, u8, u8)> = c
        .interfaces
        .iter()
        .map(|i| (i.number, i.alt_setting, i.string_index))
        .collect();
    assert_eq!(alts, [(0, 0, 4), (0, 1, 5), (0, 2, 6), (0, 3, 7)]);
    assert!(c.interfaces.iter().all(|i| i.is_dfu_mode()));
    let f: FunctionalDescriptor = c.functional.unwrap();
    assert!(f.is_dfuse());
    assert_eq!(f.transfer_size, 2048);
}

#[test]
fn walk_skips_unknown_descriptors_and_stops_at_total_length() {
    let mut b = vec![0x09, 0x02, 0x00, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32];
    b.extend(interface(0, 4));
    b.extend([0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00]); // an endpoint
    b.extend(F4_FUNCTIONAL);
    let total = b.len() as u16;
    b[2..4].copy_from_slice(&total.to_le_bytes());
    b.extend(interface(1, 9)); // past wTotalLength: ignored
    let c = parse_config_descriptor(&b).unwrap();
    assert_eq!(c.interfaces.len(), 1);
    assert!(c.functional.is_some());
}

#[rstest]
#[case::header_only_short(&[0x09, 0x02, 0x09], ParseError::ShortReply { got: 3, expected: 9 })]
#[case::wrong_type(&[0x09, 0x04, 0x09, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32], ParseError::WrongType { offset: 0, expected: 0x02, got: 0x04 })]
#[case::truncated(&[0x09, 0x02, 0x36, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32], ParseError::ShortReply { got: 9, expected: 54 })]
#[case::zero_length_inside(&[0x09, 0x02, 0x0B, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32, 0x00, 0x04], ParseError::BadLength { offset: 9, length: 0 })]
#[case::runs_past_end(&[0x09, 0x02, 0x0B, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32, 0x09, 0x04], ParseError::BadLength { offset: 9, length: 9 })]
#[case::short_interface(&[0x09, 0x02, 0x0C, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32, 0x03, 0x04, 0x00], ParseError::BadLength { offset: 9, length: 3 })]
fn bad_configurations(#[case] bytes: &[u8], #[case] error: ParseError) {
    assert_eq!(parse_config_descriptor(bytes), Err(error));
}

#[rstest]
#[case::product("STM32  BOOTLOADER")]
#[case::layout("@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg")]
#[case::serial("3276355A3034")]
#[case::non_ascii("Grüße ✓")]
#[case::empty("")]
fn strings_decode(#[case] text: &str) {
    assert_eq!(
        parse_string_descriptor(&string_descriptor(text)).unwrap(),
        text
    );
}

#[test]
fn string_length_byte_is_honoured() {
    let mut b = string_descriptor("STM32");
    b.extend([b'X', 0, b'Y', 0]);
    assert_eq!(parse_string_descriptor(&b).unwrap(), "STM32");
    let mut odd = string_descriptor("AB");
    odd[0] += 1;
    odd.push(0x43);
    assert_eq!(parse_string_descriptor(&odd).unwrap(), "AB");
    let claims_more = [0x0A, 0x03, b'A', 0];
    assert_eq!(parse_string_descriptor(&claims_more).unwrap(), "A");
    assert_eq!(
        parse_language_ids(&[0x04, 0x03, 0x09, 0x04]).unwrap(),
        [0x0409]
    );
    assert_eq!(
        parse_string_descriptor(&[0x04, 0x02, 0x41, 0x00]),
        Err(ParseError::WrongType {
            offset: 0,
            expected: 3,
            got: 2
        })
    );
}

#[test]
fn short_device_descriptor() {
    assert_eq!(
        parse_device_descriptor(&F4_DEVICE[..17]),
        Err(ParseError::ShortReply {
            got: 17,
            expected: 18
        })
    );
}

proptest! {
    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..128)) {
        let _ = parse_device_descriptor(&bytes);
        let _ = parse_config_descriptor(&bytes);
        let _ = parse_functional_descriptor(&bytes);
        let _ = parse_string_descriptor(&bytes);
        let _ = parse_language_ids(&bytes);
    }

    #[test]
    fn config_walk_never_panics_behind_a_valid_header(body in prop::collection::vec(any::<u8>(), 0..120)) {
        let mut b = vec![0x09, 0x02, 0x00, 0x00, 0x01, 0x01, 0x00, 0x80, 0x32];
        b.extend(&body);
        let total = b.len() as u16;
        b[2..4].copy_from_slice(&total.to_le_bytes());
        let _ = parse_config_descriptor(&b);
    }
}
