//! Board files: every shipped file loads, the built-in healthy board equals its file, and malformed files are
//! rejected with file, line and key in the message.

use std::path::PathBuf;

use rstest::rstest;
use vboard::{Board, BoardConfig, ConfigError};

#[rstest]
fn shipped_board_files_load(#[files("../../fixtures/boards/*.toml")] path: PathBuf) {
    let config = BoardConfig::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let stem = path.file_stem().unwrap().to_str().unwrap();
    assert_eq!(config.name(), stem);
    let mut board = Board::new(config, 1);
    board.power_on(std::time::Duration::ZERO);
    assert!(board.boot().is_some());
}

#[test]
fn healthy_default_is_the_shipped_file() {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/boards/healthy-25mhz.toml"
    ));
    assert_eq!(
        BoardConfig::load(&path).unwrap(),
        BoardConfig::healthy_default()
    );
}

#[test]
fn defaults_fill_missing_sections() {
    let config = BoardConfig::from_toml_str("name = \"tiny\"\n", "tiny.toml").unwrap();
    let mut healthy = BoardConfig::healthy_default();
    healthy.name = "tiny".into();
    healthy.description.clear();
    assert_eq!(config, healthy);
}

#[test]
fn missing_file_names_the_path() {
    let err = BoardConfig::load(std::path::Path::new("/nonexistent/board.toml")).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/board.toml"), "{err}");
}

const BASE: &str =
    "name = \"x\"\n\n[hse]\nfrequency_hz = 25_000_000\nkind = \"oscillator\"\n\n[hsi]\ntrim = 16\n";

#[rstest]
#[case::unknown_key(
    "trim = 16\n",
    "trim = 16\nfudge = 1\n",
    9,
    "hsi.fudge",
    "unknown field"
)]
#[case::unknown_section(
    "kind = \"oscillator\"\n",
    "kind = \"oscillator\"\n[bogus]\nx = 1\n",
    6,
    "bogus",
    "unknown field"
)]
#[case::wrong_type("trim = 16", "trim = \"sixteen\"", 8, "hsi.trim", "invalid type")]
#[case::bad_enum(
    "kind = \"oscillator\"",
    "kind = \"ceramic\"",
    5,
    "hse.kind",
    "unknown variant"
)]
#[case::out_of_range_trim("trim = 16", "trim = 40", 8, "hsi.trim", "0..=31")]
#[case::hse_too_fast(
    "frequency_hz = 25_000_000",
    "frequency_hz = 27_000_000",
    4,
    "hse.frequency_hz",
    "4..=26 MHz"
)]
#[case::negative_jitter(
    "trim = 16\n",
    "trim = 16\njitter_ppm = -1.0\n",
    9,
    "hsi.jitter_ppm",
    "out of range"
)]
#[case::bad_link(
    "trim = 16\n",
    "trim = 16\n\n[link]\nattempts = 0\n",
    11,
    "link.attempts",
    "1..=10"
)]
#[case::probability_over_one(
    "trim = 16\n",
    "trim = 16\n\n[faults]\nstall_per_transfer = 1.5\n",
    11,
    "faults.stall_per_transfer",
    "not a probability"
)]
#[case::unknown_serial_formula(
    "trim = 16\n",
    "trim = 16\n\n[serial]\nformula = \"crc32\"\n",
    11,
    "serial.formula",
    "unknown variant"
)]
#[case::serial_key_of_another_formula(
    "trim = 16\n",
    "trim = 16\n\n[serial]\nformula = \"st\"\nbyte = 2\n",
    12,
    "serial.byte",
    "only used with formula = \"offset\""
)]
#[case::bor_lev_beyond_two_bits(
    "trim = 16\n",
    "trim = 16\n\n[option_bytes]\nrdp = 0x55\nbor_lev = 7\n",
    12,
    "option_bytes.bor_lev",
    "0..=3"
)]
#[case::no_dual_bank_bits_on_f746(
    "trim = 16\n",
    "trim = 16\n\n[option_bytes]\nndbank = false\n",
    11,
    "option_bytes.ndbank",
    "unknown field"
)]
#[case::stale_register_bad_until(
    "trim = 16\n",
    "trim = 16\n\n[option_bytes.loaded]\nrdp = 0xBB\nuntil = \"never\"\n",
    12,
    "option_bytes.loaded.until",
    "unknown variant"
)]
#[case::unparseable_layout_string(
    "trim = 16\n",
    "trim = 16\n\n[descriptors]\nalt_otp = \"@OTP /0x1FF0F000/01*1024 q\"\n",
    11,
    "descriptors.alt_otp",
    "is not a DfuSe layout string"
)]
#[case::poll_beyond_the_host(
    "trim = 16\n",
    "trim = 16\n\n[flash_timing]\nerase_128k_ms = 120000\n",
    11,
    "flash_timing.erase_128k_ms",
    "the host waits 60 s for one, transfers included, so at most 59000 ms"
)]
#[case::syntax("trim = 16", "trim = = 16", 8, "hsi.trim", "")]
fn malformed_board_files(
    #[case] find: &str,
    #[case] replace: &str,
    #[case] line: u32,
    #[case] key: &str,
    #[case] message: &str,
) {
    assert!(BASE.contains(find));
    let text = BASE.replacen(find, replace, 1);
    let err = BoardConfig::from_toml_str(&text, "boards/bad.toml").unwrap_err();
    let shown = err.to_string();
    assert_eq!(err.key(), key, "{shown}");
    assert_eq!(err.line(), Some(line), "{shown}");
    assert!(
        shown.starts_with(&format!("boards/bad.toml:{line}:")),
        "{shown}"
    );
    assert!(shown.contains(&format!("`{key}`")), "{shown}");
    assert!(shown.contains(message), "{shown}");
}

#[test]
fn an_unparseable_layout_string_loads_only_when_planted_on_purpose() {
    let text = BASE.replacen(
        "trim = 16\n",
        "trim = 16\n\n[descriptors]\nalt_otp = \"@OTP /0x1FF0F000/01*1024 q\"\naccept_unparseable_layouts = true\n",
        1,
    );
    let config = BoardConfig::from_toml_str(&text, "boards/odd.toml").unwrap();
    assert_eq!(config.descriptors.alt_otp, "@OTP /0x1FF0F000/01*1024 q");
}

#[test]
fn missing_name_is_reported() {
    let err = BoardConfig::from_toml_str("[hsi]\ntrim = 16\n", "boards/anon.toml").unwrap_err();
    assert_eq!(err.key(), "name", "{err}");
    assert_eq!(
        err.to_string(),
        "boards/anon.toml: key `name`: missing field `name`"
    );
}

#[test]
fn validate_catches_changed_fields() {
    let mut config = BoardConfig::healthy_default();
    config.descriptors.transfer_size = 10;
    let err = config.validate().unwrap_err();
    assert_eq!(err.key(), "descriptors.transfer_size");
}
