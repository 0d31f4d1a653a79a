//! The flash guards hold by address, whatever the device calls its alt settings: a board file renames every
//! alt setting, and the option bytes (RDP level 2 always refused), the OTP area, its lock bytes and the
//! device-feature bytes are still refused without their flags, before any transfer (exit 2). A .dfu file
//! made for another device and a zero-length read are refused too.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hil"))
        .args(args)
        .output()
        .expect("hil runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A board whose ROM names its alt settings differently from ST's: the guards must not care.
fn renamed_board(dir: &Path) -> String {
    let p = dir.join("renamed.toml");
    std::fs::write(
        &p,
        r#"name = "renamed"
[descriptors]
alt_option_bytes = "@Option Bytes2 /0x1FFF0000/01*032 e"
alt_otp = "@Secrets /0x1FF0F000/01*1024 e,01*016 e"
alt_device_feature = "@Misc/0xFFFF0000/01*004 e"
"#,
    )
    .unwrap();
    format!("--virtual={}", p.display())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The factory option-byte block with `rdp` as its RDP byte.
fn option_bytes(rdp: u8) -> Vec<u8> {
    let mut b = vec![0xFF; 32];
    b[..4].copy_from_slice(&[0xFF, rdp, 0x00, !rdp]);
    b[8..12].copy_from_slice(&[0xFF, 0xFF, 0x00, 0x00]);
    b[16..20].copy_from_slice(&[0x80, 0x00, 0x7F, 0xFF]);
    b[24..28].copy_from_slice(&[0x40, 0x00, 0xBF, 0xFF]);
    b
}

fn flash(board: &str, image: &Path, address: &str, flags: &[&str]) -> Output {
    let mut args = vec![
        "dfu",
        "flash",
        image.to_str().unwrap(),
        "--address",
        address,
        board,
    ];
    args.extend_from_slice(flags);
    hil(&args)
}

#[test]
fn rdp_level_2_is_refused_by_address_even_with_the_option_byte_flag() {
    let dir = crate::common::scratch("safety-rdp2");
    let board = renamed_board(&dir);
    let image = write(&dir, "rdp2.bin", &option_bytes(0xCC));
    let o = flash(&board, &image, "0x1FFF0000", &["--write-option-bytes"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("level 2"), "{}", stderr(&o));
    // A partial image that only covers the RDP byte is caught too.
    let one = write(&dir, "rdp-byte.bin", &[0xCC]);
    let o = flash(&board, &one, "0x1FFF0001", &["--write-option-bytes"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn option_bytes_need_their_flag_whatever_the_alt_is_called() {
    let dir = crate::common::scratch("safety-ob");
    let board = renamed_board(&dir);
    let image = write(&dir, "ob.bin", &option_bytes(0xAA));
    let o = flash(&board, &image, "0x1FFF0000", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--write-option-bytes"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn otp_needs_write_otp_and_its_lock_bytes_a_second_confirmation() {
    let dir = crate::common::scratch("safety-otp");
    let board = renamed_board(&dir);
    let data = write(&dir, "otp.bin", &[0x12; 32]);
    let o = flash(&board, &data, "0x1FF0F000", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--write-otp"), "{}", stderr(&o));
    let o = flash(&board, &data, "0x1FF0F000", &["--write-otp"]);
    assert_eq!(o.status.code(), Some(0), "asked for: {}", stderr(&o));

    let lock = write(&dir, "lock.bin", &[0x00]);
    let o = flash(&board, &lock, "0x1FF0F400", &["--write-otp"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--lock-otp"), "{}", stderr(&o));
    let o = flash(&board, &lock, "0x1FF0F400", &["--write-otp", "--lock-otp"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "both confirmations: {}",
        stderr(&o)
    );
}

#[test]
fn the_device_feature_bytes_need_their_flag() {
    let dir = crate::common::scratch("safety-feature");
    let board = renamed_board(&dir);
    let image = write(&dir, "feature.bin", &[0x02, 0xFF, 0xFF, 0xFF]);
    let o = flash(&board, &image, "0xFFFF0000", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--write-device-feature"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_dfu_file_for_another_device_is_refused_unless_allowed() {
    let dir = crate::common::scratch("safety-foreign");
    let board = renamed_board(&dir);
    let image = hil::image::Image::from_bin(&[0x5A; 64], 0x0800_0000).unwrap();
    let target = hil::image::DfuseTarget {
        alt_setting: 0,
        name: None,
        image,
    };
    let file = hil::image::to_dfuse_file(0x1234, 0x5678, 0x0000, &[target]).unwrap();
    let path = write(&dir, "foreign.dfu", &file);
    let o = hil(&["dfu", "flash", path.to_str().unwrap(), &board]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("1234:5678"), "{}", stderr(&o));
    let o = hil(&[
        "dfu",
        "flash",
        path.to_str().unwrap(),
        &board,
        "--allow-foreign-dfu",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn a_zero_length_upload_is_refused() {
    let dir = crate::common::scratch("safety-upload");
    let out = dir.join("nothing.bin");
    let o = hil(&[
        "dfu",
        "upload",
        "--virtual",
        "--address",
        "0x08000000",
        "--length",
        "0",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--length 0"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn a_misaligned_flash_address_is_a_usage_error_before_any_transfer() {
    let dir = crate::common::scratch("safety-align");
    let image = write(&dir, "app.bin", b"abcdefgh");
    let o = flash("--virtual", &image, "0x08000001", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("8-byte boundary"), "{}", stderr(&o));
}

#[test]
fn an_impossible_hse_frequency_is_refused() {
    let o = hil(&["clocks", "--virtual", "--hse-hz", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not an HSE"), "{}", stderr(&o));
}

#[test]
fn a_board_that_never_enumerates_is_a_board_failure_with_its_kind() {
    let dir = crate::common::scratch("safety-enumeration");
    // BOOT_ADD1 off the system memory: with BOOT0 high the board runs user code and never attaches.
    let board = dir.join("no-rom.toml");
    std::fs::write(
        &board,
        "name = \"no-rom\"\n[option_bytes]\nboot_add1 = 0x0080\n",
    )
    .unwrap();
    let o = hil(&[
        "dfu",
        "read-option-bytes",
        &format!("--virtual={}", board.display()),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("[disconnected]"), "{}", stderr(&o));
}

#[test]
fn an_option_byte_write_asked_for_awaits_the_reset_and_shows_the_new_option_bytes() {
    // The bootloader resets the chip to apply option bytes (AN3156 §5.1): that is the expected end of the
    // write, not a "disconnected" failure. The user option byte goes from 0xFF to 0xFB (nRST_STOP cleared).
    let dir = crate::common::scratch("safety-ob-write");
    let board = renamed_board(&dir);
    let mut ob = option_bytes(0xAA);
    ob[0] = 0xFB;
    ob[2] = 0x04;
    let image = write(&dir, "ob.bin", &ob);
    let o = flash(&board, &image, "0x1FFF0000", &["--write-option-bytes"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}{out}", stderr(&o));
    assert!(
        out.contains("reset to apply them and re-enumerated; they now read as written"),
        "{out}"
    );
    assert!(out.contains("1FFF0000  FB AA 04 55"), "{out}");

    // A complement byte that is not the complement: the chip computes those itself, so the read-back differs
    // and the write is reported as not applied as asked (exit 1, a verify failure), with what it now reads.
    ob[2] = 0x00;
    let bad = write(&dir, "ob-bad.bin", &ob);
    let o = flash(&board, &bad, "0x1FFF0000", &["--write-option-bytes"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{}{out}", stderr(&o));
    assert!(stderr(&o).contains("[verify]"), "{}", stderr(&o));
    assert!(out.contains("1FFF0000  FB AA 04 55"), "{out}");
}
