use rstest::rstest;

use super::seg;
use crate::image::dfuse_file::dfu_crc;
use crate::image::{to_dfuse_file, DfuseFile, DfuseTarget, Image, ImageErrorKind};

fn target(alt: u8, name: Option<&str>, segments: &[(u32, &[u8])]) -> DfuseTarget {
    DfuseTarget {
        alt_setting: alt,
        name: name.map(str::to_string),
        image: Image::new(segments.iter().map(|(a, d)| seg(*a, d))).unwrap(),
    }
}

/// A file laid out by hand as dfuse-pack (dfu-util 0.11) writes it for
/// `dfuse-pack -b 0x08000000:bytes0to15.bin -D 0x0483:0xdf11`: target name "ST...", DFUImageSize counting
/// the suffix too, dwCRC 0x2C4C4F44 as computed by that tool.
fn dfuse_pack_file() -> Vec<u8> {
    let mut f = b"DfuSe\x01".to_vec();
    f.extend_from_slice(&325u32.to_le_bytes());
    f.push(1);
    f.extend_from_slice(b"Target\x00");
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(b"ST...");
    f.extend_from_slice(&[0; 250]);
    f.extend_from_slice(&24u32.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes());
    f.extend_from_slice(&0x0800_0000u32.to_le_bytes());
    f.extend_from_slice(&16u32.to_le_bytes());
    f.extend(0..16u8);
    f.extend_from_slice(&[
        0x00, 0x00, 0x11, 0xDF, 0x83, 0x04, 0x1A, 0x01, b'U', b'F', b'D', 16,
    ]);
    f.extend_from_slice(&0x2C4C_4F44u32.to_le_bytes());
    f
}

#[test]
fn crc_matches_dfu_util() {
    let file = dfuse_pack_file();
    assert_eq!(file.len(), 325);
    assert_eq!(dfu_crc(&file[..321]), 0x2C4C_4F44);
}

#[test]
fn reads_a_file_written_by_dfuse_pack() {
    let file = DfuseFile::parse(&dfuse_pack_file()).unwrap();
    assert_eq!(
        (file.vendor_id, file.product_id, file.device_release),
        (0x0483, 0xDF11, 0)
    );
    let data: Vec<u8> = (0..16).collect();
    assert_eq!(
        file.targets,
        vec![target(0, Some("ST..."), &[(0x0800_0000, &data)])]
    );
}

#[test]
fn writes_what_dfu_util_accepts() {
    // Same layout as dfuse-pack's, but DFUImageSize excludes the suffix (UM0391, ST's tools); dfu-util 0.11's
    // `dfu-suffix --check` accepts the result and reports dwCRC 0x7A3711DA.
    let data: Vec<u8> = (0..16).collect();
    let bytes = to_dfuse_file(
        0x0483,
        0xDF11,
        0,
        &[target(0, Some("ST..."), &[(0x0800_0000, &data)])],
    )
    .unwrap();
    let mut expected = dfuse_pack_file();
    expected[6..10].copy_from_slice(&309u32.to_le_bytes());
    expected[321..].copy_from_slice(&0x7A37_11DAu32.to_le_bytes());
    assert_eq!(bytes, expected);
}

#[test]
fn round_trips_several_targets() {
    let targets = vec![
        target(
            0,
            Some("Internal Flash"),
            &[(0x0800_0000, &[1, 2, 3]), (0x0804_0000, &[4])],
        ),
        target(1, None, &[(0x1FFF_0000, &[0xAA; 32])]),
        target(0, Some("more flash"), &[(0x0810_0000, &[5, 6])]),
    ];
    let bytes = to_dfuse_file(0x1234, 0x5678, 0x2200, &targets).unwrap();
    let file = DfuseFile::parse(&bytes).unwrap();
    assert_eq!(
        (file.vendor_id, file.product_id, file.device_release),
        (0x1234, 0x5678, 0x2200)
    );
    assert_eq!(file.targets, targets);
    assert_eq!(file.to_bytes().unwrap(), bytes);
    let alt0 = file.image_for_alt(0).unwrap();
    let layout: Vec<u32> = alt0.segments().iter().map(|s| s.address).collect();
    assert_eq!(
        layout,
        vec![0x0800_0000, 0x0804_0000, 0x0810_0000],
        "all alt-0 targets, merged"
    );
    assert_eq!(Image::from_dfuse(&bytes, 1).unwrap().len(), 32);
}

#[test]
fn missing_alt_setting_lists_the_ones_present() {
    let bytes = to_dfuse_file(
        1,
        2,
        3,
        &[target(1, None, &[(0, &[1])]), target(3, None, &[(0, &[1])])],
    )
    .unwrap();
    let err = Image::from_dfuse(&bytes, 0).unwrap_err();
    assert!(
        matches!(&err.kind, ImageErrorKind::DfuseNoTarget { alt: 0, available } if available == &[1, 3])
    );
}

#[test]
fn writer_refuses_what_the_format_cannot_hold() {
    let long_name = "n".repeat(256);
    let err = to_dfuse_file(1, 2, 3, &[target(0, Some(&long_name), &[(0, &[1])])]).unwrap_err();
    assert!(
        matches!(err.kind, ImageErrorKind::DfuseTooLarge(_)),
        "{err:?}"
    );
    let many: Vec<DfuseTarget> = (0..256).map(|_| target(0, None, &[])).collect();
    assert!(to_dfuse_file(1, 2, 3, &many).is_err());
}

/// A valid two-target file to break.
fn good_file() -> Vec<u8> {
    let targets = [
        target(0, Some("Internal Flash"), &[(0x0800_0000, &[1, 2, 3, 4])]),
        target(1, None, &[(0x1FFF_0000, &[9; 8])]),
    ];
    to_dfuse_file(0x0483, 0xDF11, 0x2200, &targets).unwrap()
}

/// Apply `edit`, then give the file a correct CRC again, so that the check after the CRC is reached.
fn edited(edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut bytes = good_file();
    edit(&mut bytes);
    let n = bytes.len();
    let crc = dfu_crc(&bytes[..n - 4]);
    bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
    bytes
}

/// Flip one bit at `at` (negative: from the end), leaving the CRC stale.
fn flipped(at: isize) -> Vec<u8> {
    let mut bytes = good_file();
    let at = if at < 0 {
        bytes.len() - at.unsigned_abs()
    } else {
        at as usize
    };
    bytes[at] ^= 0x01;
    bytes
}

/// Set byte `at` (negative: from the end) and fix the CRC.
fn set(at: isize, value: u8) -> Vec<u8> {
    edited(|b| {
        let at = if at < 0 {
            b.len() - at.unsigned_abs()
        } else {
            at as usize
        };
        b[at] = value;
    })
}

/// bLength 255 in a file of 200 bytes.
fn suffix_longer_than_file() -> Vec<u8> {
    edited(|b| {
        let n = b.len();
        b[n - 5] = 255;
        b.drain(..n - 200);
    })
}

/// The last element claims 4 bytes more than the file holds (DFUImageSize fixed to match).
fn last_element_cut_short() -> Vec<u8> {
    edited(|b| {
        let n = b.len();
        b.drain(n - 20..n - 16);
        let image_size = b.len() as u32 - 16;
        b[6..10].copy_from_slice(&image_size.to_le_bytes());
    })
}

/// Offsets in the file: prefix 11 bytes, then target 0's 274-byte prefix.
const TARGET_0: isize = 11;

#[rstest]
#[case::truncated(good_file()[..200].to_vec(), "DfuseNoSuffix")]
#[case::shorter_than_a_suffix(b"UFD".to_vec(), "DfuseNoSuffix")]
#[case::empty(Vec::new(), "DfuseNoSuffix")]
#[case::bad_crc(flipped(20), "DfuseCrc")]
#[case::crc_itself_damaged(flipped(-1), "DfuseCrc")]
#[case::suffix_length_too_small(set(-5, 15), "DfuseSuffixLength(15)")]
#[case::suffix_length_past_start(suffix_longer_than_file(), "DfuseSuffixLength(255)")]
#[case::bad_prefix_signature(set(0, b'd'), "DfuseSignature { what: \"prefix\"")]
#[case::unsupported_version(set(5, 2), "DfuseVersion(2)")]
#[case::image_size_wrong(set(6, 0), "DfuseSize { what: \"DFUImageSize\"")]
#[case::bad_target_signature(set(TARGET_0, b't'), "DfuseSignature { what: \"target\"")]
#[case::target_size_wrong(set(TARGET_0 + 266, 0), "DfuseSize { what: \"dwTargetSize\"")]
#[case::too_many_elements(set(TARGET_0 + 270, 200), "DfuseTruncated")]
#[case::more_targets_than_present(set(10, 3), "DfuseTruncated { what: \"target prefix\"")]
#[case::fewer_targets_than_present(set(10, 1), "DfuseSize { what: \"bTargets\"")]
#[case::element_runs_off_the_end(
    last_element_cut_short(),
    "DfuseTruncated { what: \"element data\""
)]
fn malformed_dfuse_is_refused(#[case] bytes: Vec<u8>, #[case] kind: &str) {
    let err = DfuseFile::parse(&bytes).unwrap_err();
    assert!(
        format!("{:?}", err.kind).contains(kind),
        "expected {kind}, got {:?}",
        err.kind
    );
}

#[test]
fn dfuse_pack_image_size_convention_is_accepted_but_not_others() {
    let whole_file = edited(|b| {
        let n = b.len() as u32;
        b[6..10].copy_from_slice(&n.to_le_bytes());
    });
    assert!(DfuseFile::parse(&whole_file).is_ok());
}

#[test]
fn target_with_no_elements_is_empty_and_yields_no_image() {
    let bytes = to_dfuse_file(1, 2, 3, &[target(0, Some("blank"), &[])]).unwrap();
    let file = DfuseFile::parse(&bytes).unwrap();
    assert!(file.targets[0].image.is_empty());
    assert!(matches!(
        file.image_for_alt(0).unwrap_err().kind,
        ImageErrorKind::Empty
    ));
}
