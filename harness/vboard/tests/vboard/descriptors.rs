//! Descriptors and standard requests as a host enumerates the ROM bootloader.

use crate::common::*;
use rstest::rstest;
use vboard::descriptors::{serial_number, Descriptors};
use vboard::{BoardConfig, UsbError};

fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|c| {
            c.iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn descriptor_bytes_snapshot() {
    let d = Descriptors::new(&BoardConfig::healthy_default());
    let mut text = format!(
        "device:\n{}\n\nconfiguration:\n{}\n",
        hex(&d.device),
        hex(&d.configuration)
    );
    for (i, s) in d.strings.iter().enumerate() {
        let shown = if i == 0 {
            "LANGID".to_string()
        } else {
            decode_string(s)
        };
        text += &format!("\nstring {i} ({shown:?}):\n{}\n", hex(s));
    }
    insta::assert_snapshot!("descriptors_healthy", text);
}

#[test]
fn functional_descriptor_follows_the_last_alt_setting() {
    let d = Descriptors::new(&BoardConfig::healthy_default());
    let c = &d.configuration;
    assert_eq!(u16::from_le_bytes([c[2], c[3]]), 54);
    assert_eq!(c.len(), 54);
    for alt in 0..4 {
        let i = &c[9 + 9 * alt..18 + 9 * alt];
        assert_eq!(i, &[9, 4, 0, alt as u8, 0, 0xFE, 0x01, 0x02, 4 + alt as u8]);
    }
    assert_eq!(&c[45..], &[9, 0x21, 0x0B, 255, 0, 0x00, 0x08, 0x1A, 0x01]);
}

#[rstest]
#[case::plain([0x0032_0041, 0x3436_5118, 0x3335_3830], "33673871_3436")]
#[case::carry_wraps_32_bits([0xFFFF_0040, 0x3136_5117, 0x0002_003C], "0001007C_3136")]
#[case::byte_carry([0x0000_00F0, 0xABCD_0000, 0x0000_0020], "00000110_ABCD")]
#[case::zero_high_half([0x1234_5678, 0x0000_FFFF, 0x0000_0000], "12345678_0000")]
fn serial_number_formula(#[case] uid: [u32; 3], #[case] expected: &str) {
    assert_eq!(serial_number(uid), expected.replace('_', ""));
}

#[test]
fn serial_string_descriptor_is_0x1a_long_and_matches_the_board() {
    let mut host = Host::healthy();
    let desc = host.get_descriptor(3, 3, 255).unwrap();
    assert_eq!(desc[0], 0x1A);
    assert_eq!(decode_string(&desc), host.board.usb_serial_expected());
}

#[rstest]
#[case::device_full(1, 0, 255, 18)]
#[case::device_first_8(1, 0, 8, 8)]
#[case::config_header(2, 0, 9, 9)]
#[case::config_full(2, 0, 255, 54)]
#[case::langid(3, 0, 255, 4)]
#[case::product(3, 2, 255, 36)]
#[case::string_truncated(3, 4, 2, 2)]
fn get_descriptor_honours_wlength(
    #[case] kind: u8,
    #[case] index: u8,
    #[case] len: u16,
    #[case] got: usize,
) {
    let mut host = Host::healthy();
    assert_eq!(host.get_descriptor(kind, index, len).unwrap().len(), got);
}

#[rstest]
#[case::no_such_string(3, 8)]
#[case::device_qualifier(6, 0)]
#[case::second_configuration(2, 1)]
fn unknown_descriptors_stall(#[case] kind: u8, #[case] index: u8) {
    let mut host = Host::healthy();
    assert_eq!(host.get_descriptor(kind, index, 64), Err(UsbError::Stall));
}

#[test]
fn alt_setting_strings_name_the_memories() {
    let mut host = Host::healthy();
    let names: Vec<String> = (4..8)
        .map(|i| decode_string(&host.get_descriptor(3, i, 255).unwrap()))
        .collect();
    assert_eq!(
        names[0],
        "@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg"
    );
    assert_eq!(names[1], "@Option Bytes  /0x1FFF0000/01*032 e");
    assert_eq!(names[2], "@OTP Memory /0x1FF0F000/01*1024 e,01*016 e");
    assert_eq!(names[3], "@Device Feature/0xFFFF0000/01*004 e");
    assert_eq!(
        decode_string(&host.get_descriptor(3, 1, 255).unwrap()),
        "STMicroelectronics"
    );
    assert_eq!(
        decode_string(&host.get_descriptor(3, 2, 255).unwrap()),
        "STM32  BOOTLOADER"
    );
}

#[test]
fn standard_requests_change_device_state() {
    let mut host = Host::healthy();
    assert_eq!(host.control_out(0x00, 5, 7, &[]), Ok(vec![]));
    assert_eq!(host.control_in(0x80, 8, 0, 0, 1), Ok(vec![0]));
    assert_eq!(host.control_out(0x00, 9, 1, &[]), Ok(vec![]));
    assert_eq!(host.control_in(0x80, 8, 0, 0, 1), Ok(vec![1]));
    assert_eq!(
        host.transfer(setup(0x01, 11, 2, 0, 0), &[]).result,
        Ok(vec![])
    );
    assert_eq!(host.control_in(0x81, 10, 0, 0, 1), Ok(vec![2]));
    assert_eq!(
        host.transfer(setup(0x01, 11, 4, 0, 0), &[]).result,
        Err(UsbError::Stall)
    );
    assert_eq!(host.control_in(0x80, 0, 0, 0, 2), Ok(vec![1, 0]));
    assert_eq!(host.control_out(0x00, 9, 2, &[]), Err(UsbError::Stall));
    assert_eq!(host.control_out(0x00, 5, 128, &[]), Err(UsbError::Stall));
    assert_eq!(host.control_in(0xC0, 0x42, 0, 0, 4), Err(UsbError::Stall));
}

/// The serial string a board with this `[serial]` section reports over USB, for the default UID
/// `[0x00320041, 0x34365118, 0x33353830]` or `uid`.
fn reported_serial(serial: &str, uid: Option<&str>) -> (String, String) {
    let memory = uid.map_or(String::new(), |u| format!("\n[memory]\nuid = {u}\n"));
    let text = format!("name = \"s\"\n{memory}\n[serial]\n{serial}\n");
    let config = BoardConfig::from_toml_str(&text, "serial.toml").unwrap();
    let mut host = Host::new(config, 1);
    let desc = host.get_descriptor(3, 3, 255).unwrap();
    assert_eq!(decode_string(&desc), host.board.usb_serial());
    (decode_string(&desc), host.board.usb_serial_expected())
}

// Expected strings worked by hand from reference §3 for UID0 = 0x00320041, UID1 = 0x34365118,
// UID2 = 0x33353830 (bytes id[0..12] = 41 00 32 00 | 18 51 36 34 | 30 38 35 33):
// st:       UID0 + UID2 = 0x33673871, UID1 >> 16 = 0x3436            -> 336738713436
// bytewise: id[11]=33, id[10]+id[2]=35+32=67, id[9]=38, id[8]+id[0]=30+41=71, id[7]=34, id[6]=36 -> same
// uid2_msb: 0x33673871, UID2 >> 16 = 0x3335                          -> 336738713335
// offset:   byte 4 of 33 67 38 71 34 36 is 0x71, + 0x0A = 0x7B         -> 3367387B3436
// offset byte 1 add 0xF0: 0x33 + 0xF0 wraps to 0x23                   -> 236738713436
#[rstest]
#[case::st_by_default("", "336738713436")]
#[case::st("formula = \"st\"", "336738713436")]
#[case::bytewise_without_carries("formula = \"bytewise\"", "336738713436")]
#[case::uid2_msb("formula = \"uid2_msb\"", "336738713335")]
#[case::offset_f765("formula = \"offset\"", "3367387B3436")]
#[case::offset_explicit("formula = \"offset\"\nbyte = 1\nadd = 0xF0", "236738713436")]
#[case::constant_f723("formula = \"constant\"", "STM32FxSTM32")]
#[case::constant_value("formula = \"constant\"\nvalue = \"0123456789AB\"", "0123456789AB")]
fn planted_serial_formulas(#[case] serial: &str, #[case] want: &str) {
    let (reported, expected) = reported_serial(serial, None);
    assert_eq!(reported, want);
    assert_eq!(
        expected, "336738713436",
        "the host still expects ST's formula"
    );
}

#[test]
fn bytewise_serial_drops_the_carry_st_keeps() {
    // UID0 = 0x000000F0, UID2 = 0x00000020: ST adds 32-bit (0x110, carry into byte 1); byte-wise
    // id[8]+id[0] = 0x20+0xF0 wraps to 0x10 and id[10]+id[2] = 0. UID1 >> 16 = 0xABCD.
    let uid = Some("[0x000000F0, 0xABCD0000, 0x00000020]");
    let (st, _) = reported_serial("formula = \"st\"", uid);
    assert_eq!(st, "00000110ABCD");
    let (bytewise, expected) = reported_serial("formula = \"bytewise\"", uid);
    assert_eq!(bytewise, "00000010ABCD");
    assert_ne!(bytewise, expected);
}

#[test]
fn per_boot_serial_changes_at_every_power_on_and_replays_from_the_seed() {
    let config = BoardConfig::from_toml_str(
        "name = \"l496\"\n[serial]\nformula = \"per_boot\"\n",
        "serial.toml",
    )
    .unwrap();
    let run = |seed| {
        let mut host = Host::new(config.clone(), seed);
        let mut serials = vec![host.board.usb_serial()];
        host.board.reset_pin(host.now);
        assert_eq!(host.board.usb_serial(), serials[0], "a pin reset keeps it");
        for _ in 0..5 {
            host.board.power_off(host.now);
            host.board.power_on(host.now);
            host.wait_attached();
            let desc = host.get_descriptor(3, 3, 255).unwrap();
            serials.push(decode_string(&desc));
        }
        serials
    };
    let serials = run(4);
    assert!(serials.iter().all(|s| s.len() == 12
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())));
    for pair in serials.windows(2) {
        assert_ne!(pair[0], pair[1]);
    }
    assert_eq!(run(4), serials);
    assert_ne!(run(5), serials);
}
