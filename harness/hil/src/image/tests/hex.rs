use rstest::rstest;

use super::{layout, seg};
use crate::image::{Image, ImageErrorKind};

/// One Intel HEX record line with a correct checksum.
pub(super) fn record(kind: u8, address: u16, data: &[u8]) -> String {
    let mut bytes = vec![data.len() as u8, (address >> 8) as u8, address as u8, kind];
    bytes.extend_from_slice(data);
    let checksum = bytes
        .iter()
        .fold(0u8, |a, b| a.wrapping_add(*b))
        .wrapping_neg();
    bytes.push(checksum);
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    format!(":{hex}")
}

const EOF: &str = ":00000001FF";

fn file(lines: &[String]) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

#[test]
fn record_helper_matches_a_published_record() {
    // The classic example record: 16 bytes at 0x0100.
    let data = [
        0x21, 0x46, 0x01, 0x36, 0x01, 0x21, 0x47, 0x01, 0x36, 0x00, 0x7E, 0xFE, 0x09, 0xD2, 0x19,
        0x01,
    ];
    assert_eq!(
        record(0, 0x0100, &data),
        ":10010000214601360121470136007EFE09D2190140"
    );
    assert_eq!(record(1, 0, &[]), EOF);
}

#[test]
fn linear_address_records_place_data_and_05_sets_entry_point() {
    let text = file(&[
        record(4, 0, &[0x08, 0x00]),
        record(0, 0x0000, &[1, 2, 3, 4]),
        record(0, 0x0004, &[5, 6]),
        record(0, 0x1000, &[7]),
        record(5, 0, &[0x08, 0x00, 0x01, 0xC1]),
        EOF.to_string(),
    ]);
    let image = Image::from_ihex(text.as_bytes()).unwrap();
    assert_eq!(
        image.segments(),
        &[
            seg(0x0800_0000, &[1, 2, 3, 4, 5, 6]),
            seg(0x0800_1000, &[7])
        ]
    );
    assert_eq!(image.entry_point(), Some(0x0800_01C1));
}

#[test]
fn segment_address_records_and_03_are_understood() {
    let text = file(&[
        record(2, 0, &[0x10, 0x00]),
        record(0, 0x0010, &[0xAA]),
        record(3, 0, &[0, 0, 0, 0]),
        EOF.to_string(),
    ]);
    let image = Image::from_ihex(text.as_bytes()).unwrap();
    assert_eq!(image.segments(), &[seg(0x1_0010, &[0xAA])]);
    assert_eq!(image.entry_point(), None);
}

#[test]
fn crlf_blank_lines_and_unsorted_records_are_fine() {
    let text = format!(
        "\r\n{}\r\n\r\n{}\r\n{EOF}\r\n",
        record(0, 0x20, &[2]),
        record(0, 0x10, &[1])
    );
    assert_eq!(
        layout(&Image::from_ihex(text.as_bytes()).unwrap()),
        vec![(0x10, 1), (0x20, 1)]
    );
}

/// Malformed files: the error and the 1-based line it names (None: about the whole file).
#[rstest]
#[case::bad_checksum(format!("{}\n:0400000001020304F1\n", record(0, 0, &[9])), Some(2), "HexChecksum")]
#[case::no_start_code(format!("0400000001020304F2\n{EOF}\n"), Some(1), "MissingStartCode")]
#[case::bad_characters(format!(":04000000010203ZZF2\n{EOF}\n"), Some(1), "ContainsInvalidCharacters")]
#[case::length_mismatch(format!(":0500000001020304F1\n{EOF}\n"), Some(1), "PayloadLengthMismatch")]
#[case::unknown_record_type(format!("{}\n{EOF}\n", record(6, 0, &[1])), Some(1), "UnsupportedRecordType")]
#[case::missing_eof(file(&[record(0, 0, &[1])]), None, "HexNoEndOfFile")]
#[case::empty_file(String::new(), None, "HexNoEndOfFile")]
#[case::after_eof(file(&[record(0, 0, &[1]), EOF.into(), record(0, 8, &[2])]), Some(3), "HexAfterEndOfFile")]
#[case::overlapping(file(&[record(0, 0x10, &[1, 2]), record(0, 0x11, &[3]), EOF.into()]), None, "Overlap")]
#[case::no_data(file(&[EOF.into()]), None, "Empty")]
fn malformed_hex_is_refused(#[case] text: String, #[case] line: Option<usize>, #[case] kind: &str) {
    let err = Image::from_ihex(text.as_bytes()).unwrap_err();
    assert_eq!(err.line, line, "{err}");
    assert!(
        format!("{:?}", err.kind).contains(kind),
        "expected {kind}, got {:?}",
        err.kind
    );
}

#[test]
fn non_text_line_is_refused_with_its_line() {
    let bytes = [record(0, 0, &[1]).as_bytes(), b"\n:\xFF\n"].concat();
    let err = Image::from_ihex(&bytes).unwrap_err();
    assert_eq!(err.line, Some(2));
    assert!(matches!(err.kind, ImageErrorKind::HexNotText), "{err:?}");
}

#[test]
fn a_bad_checksum_says_which_byte_the_record_has_and_which_its_bytes_give() {
    // :020000040800 sums to F2; the record claims F3.
    let err = Image::from_ihex(b":020000040800F3\n:00000001FF\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1: bad Intel HEX record: its checksum byte is F3, but its bytes give F2"
    );
    assert!(matches!(
        err.kind,
        ImageErrorKind::HexChecksum {
            in_record: 0xF3,
            computed: 0xF2
        }
    ));
}
