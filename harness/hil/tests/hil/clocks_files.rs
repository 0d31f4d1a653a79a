//! Target description files: the shipped one parses and is the built-in, and a broken one is refused with the
//! file, the line and the key named. Also: the serial formula agrees with the virtual board's own (written separately).

use std::path::PathBuf;

use hil::clocks::{expected_serial, ClockError, Culprit, TargetDescription};
use rstest::rstest;
use vboard::{Board, BoardConfig};

fn fixtures(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(dir)
}

#[test]
fn the_shipped_target_file_is_the_built_in_one() {
    let loaded = TargetDescription::load(&fixtures("targets").join("stm32f7.toml")).unwrap();
    assert_eq!(loaded, TargetDescription::stm32f7());
    assert_eq!(loaded.registers.rcc_pllcfgr, 0x4002_3804);
    assert_eq!(loaded.identity.bootloader_id, 0x1FF0_EDBE);
}

#[rstest]
#[case::unknown_key(
    "rcc_cr = 0x4002_3800",
    "rcc_cr = 0x4002_3800\nrcc_crr = 1",
    Some(15),
    "registers.rcc_crr"
)]
#[case::misaligned(
    "rcc_cfgr = 0x4002_3808",
    "rcc_cfgr = 0x4002_3809",
    Some(16),
    "registers.rcc_cfgr"
)]
#[case::odd_flash_size(
    "flash_size = 0x1FF0_F442",
    "flash_size = 0x1FF0_F443",
    Some(26),
    "identity.flash_size"
)]
#[case::missing_key("hsi_hz = 16_000_000", "", None, "hsi_hz")]
#[case::no_flash(
    "flash_size = 0x0010_0000",
    "flash_size = 0",
    Some(39),
    "memory.flash_size"
)]
#[case::zero_tolerance(
    "usb_tolerance_ppm = 2500.0",
    "usb_tolerance_ppm = 0.0",
    Some(52),
    "bootloader.usb_tolerance_ppm"
)]
fn broken_target_files_are_refused(
    #[case] from: &str,
    #[case] to: &str,
    #[case] line: Option<u32>,
    #[case] key: &str,
) {
    let e = broken(from, to);
    assert_eq!(e.culprit(), Culprit::Harness);
    let msg = e.to_string();
    let at = match line {
        Some(line) => format!("broken.toml:{line}:"),
        None => "broken.toml: ".to_string(),
    };
    assert!(msg.starts_with(&at), "{msg}");
    assert!(msg.contains(&format!("key `{key}`: ")), "{msg}");
    let ClockError::TargetFile(file) = e else {
        panic!("not a target file error: {msg}")
    };
    assert_eq!(file.key(), key, "{msg}");
    assert_eq!(file.line(), line, "{msg}");
}

#[test]
fn a_bad_value_names_its_line_and_key() {
    let e = broken("dev_id = 0x449", "dev_id = \"F7\"");
    let msg = e.to_string();
    assert!(
        msg.starts_with("broken.toml:10:10: key `dev_id`: invalid type: string \"F7\""),
        "{msg}"
    );
    let e = broken("rcc_cfgr = 0x4002_3808", "rcc_cfgr = 0x4002_3809");
    assert_eq!(
        e.to_string(),
        "broken.toml:16:1: key `registers.rcc_cfgr`: 0x40023809 is not word aligned"
    );
}

/// The shipped description with `from` replaced by `to`, parsed as `broken.toml`.
fn broken(from: &str, to: &str) -> ClockError {
    let path = fixtures("targets").join("stm32f7.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "fixture has {from:?}");
    TargetDescription::from_toml_str(&text.replacen(from, to, 1), "broken.toml").unwrap_err()
}

#[test]
fn a_missing_target_file_names_the_path() {
    let e = TargetDescription::load(&fixtures("targets").join("nope.toml")).unwrap_err();
    assert!(
        e.to_string()
            .contains("nope.toml: cannot read target description"),
        "{e}"
    );
}

#[rstest]
fn serial_formula_agrees_with_the_virtual_board(
    #[files("../../fixtures/boards/*.toml")] board_file: PathBuf,
) {
    let config = BoardConfig::load(&board_file).unwrap();
    let uid = config.memory.uid;
    let board = Board::new(config, 1);
    assert_eq!(
        expected_serial(uid).as_deref(),
        Some(board.usb_serial_expected().as_str())
    );
}
