use std::path::{Path, PathBuf};

use rstest::rstest;

use super::elf::ElfBuilder;
use super::hex::record;
use super::seg;
use crate::image::{to_dfuse_file, DfuseTarget, Format, Image, ImageErrorKind};

/// Write `bytes` to a fresh file called `name` in a folder of its own (cases run in parallel and some share
/// a file name).
fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("hil-image-tests-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn hex_file() -> Vec<u8> {
    format!(
        "{}\n{}\n:00000001FF\n",
        record(4, 0, &[0x08, 0x00]),
        record(0, 0, &[1, 2])
    )
    .into_bytes()
}

fn elf_file() -> Vec<u8> {
    ElfBuilder::default().load(0, 0x0800_0000, &[1; 8]).build()
}

fn dfu_file() -> Vec<u8> {
    let image = Image::new([seg(0x0800_0000, &[7, 7])]).unwrap();
    to_dfuse_file(
        0x0483,
        0xDF11,
        0,
        &[DfuseTarget {
            alt_setting: 0,
            name: None,
            image,
        }],
    )
    .unwrap()
}

#[rstest]
#[case::elf_magic_wins("fw.bin", b"\x7fELF....", Some(Format::Elf))]
#[case::dfuse_prefix_wins("fw.hex", b"DfuSe\x01", Some(Format::Dfuse))]
#[case::bin_extension("fw.BIN", b":looks like hex", Some(Format::Bin))]
#[case::hex_extension("fw.hex", b"", Some(Format::IntelHex))]
#[case::ihx_extension("fw.ihx", b"", Some(Format::IntelHex))]
#[case::axf_extension("fw.axf", b"", Some(Format::Elf))]
#[case::dfu_extension("fw.dfu", b"", Some(Format::Dfuse))]
#[case::colon_without_extension("firmware", b"\r\n:100000", Some(Format::IntelHex))]
#[case::nothing_to_go_on("firmware.img", b"\x00\x00\x05\x20", None)]
fn format_detection(#[case] name: &str, #[case] bytes: &[u8], #[case] expected: Option<Format>) {
    assert_eq!(Format::detect(Path::new(name), bytes), expected);
}

#[rstest]
#[case::bin("fw.bin", vec![1, 2, 3], Some(0x0800_0000), vec![(0x0800_0000, 3)])]
#[case::unknown_extension_with_address("fw.img", vec![1, 2, 3], Some(0x2000_0000), vec![(0x2000_0000, 3)])]
#[case::hex("fw.hex", hex_file(), None, vec![(0x0800_0000, 2)])]
#[case::hex_without_extension("fw", hex_file(), None, vec![(0x0800_0000, 2)])]
#[case::elf("fw.elf", elf_file(), None, vec![(0x0800_0000, 8)])]
#[case::elf_without_extension("firmware", elf_file(), None, vec![(0x0800_0000, 8)])]
#[case::dfu_alt_0("fw.dfu", dfu_file(), None, vec![(0x0800_0000, 2)])]
fn load_picks_the_format(
    #[case] name: &str,
    #[case] bytes: Vec<u8>,
    #[case] address: Option<u32>,
    #[case] expected: Vec<(u32, usize)>,
) {
    let path = temp_file(&format!("ok-{name}"), &bytes);
    assert_eq!(
        super::layout(&Image::load(&path, address).unwrap()),
        expected
    );
}

#[rstest]
#[case::bin_without_address("fw.bin", vec![1], None, "MissingAddress")]
#[case::address_for_hex(
    "fw.hex",
    hex_file(),
    Some(0),
    "AddressNotApplicable { format: IntelHex }"
)]
#[case::address_for_elf_named_bin(
    "fw.bin",
    elf_file(),
    Some(0),
    "AddressNotApplicable { format: Elf }"
)]
#[case::unknown("fw.img", vec![0, 1], None, "UnknownFormat")]
#[case::empty_bin("fw.bin", vec![], Some(0), "Empty")]
#[case::elf_extension_but_not_elf("fw.elf", vec![0; 64], None, "Elf(")]
#[case::dfu_extension_but_not_dfuse("fw.dfu", vec![0; 64], None, "DfuseNoSuffix")]
fn load_errors_name_the_file(
    #[case] name: &str,
    #[case] bytes: Vec<u8>,
    #[case] address: Option<u32>,
    #[case] kind: &str,
) {
    let path = temp_file(&format!("bad-{name}"), &bytes);
    let err = Image::load(&path, address).unwrap_err();
    assert!(
        format!("{:?}", err.kind).contains(kind),
        "expected {kind}, got {:?}",
        err.kind
    );
    assert_eq!(err.path.as_deref(), Some(path.as_path()));
    assert!(
        err.to_string()
            .starts_with(&format!("{}: ", path.display())),
        "{err}"
    );
}

#[test]
fn hex_errors_name_file_and_line() {
    let path = temp_file(
        "line.hex",
        format!("{}\n:0400000001020304F1\n", record(0, 0, &[1])).as_bytes(),
    );
    let err = Image::load(&path, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2: bad Intel HEX record: its checksum byte is F1, but its bytes give F2",
            path.display()
        )
    );
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let path = std::env::temp_dir().join("hil-image-tests-does-not-exist.bin");
    let err = Image::load(&path, Some(0)).unwrap_err();
    assert!(matches!(err.kind, ImageErrorKind::Io(_)), "{err:?}");
    assert_eq!(err.path.as_deref(), Some(path.as_path()));
    assert!(
        std::error::Error::source(&err).is_some(),
        "the io::Error is the source"
    );
}
