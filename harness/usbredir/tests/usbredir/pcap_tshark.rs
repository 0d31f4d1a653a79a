//! Wireshark reads our captures: writes a DFU session (descriptors, GETSTATUS, DNLOAD) and runs
//! `tshark -V` over it. Skips with a message when tshark is not installed, unless HIL_REQUIRE_TSHARK=1
//! (CI sets it, so a missing tshark fails there instead of passing silently).

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use dfuse::{Setup, TransferError, TransferErrorKind};
use usbredir::pcap::{dfu_decode_as, PcapWriter};

const VID: u16 = 0x0483;
const PID: u16 = 0xDF11;

/// STM32F7 ROM bootloader: device descriptor.
fn device_descriptor() -> Vec<u8> {
    let [v0, v1] = VID.to_le_bytes();
    let [p0, p1] = PID.to_le_bytes();
    vec![
        18, 1, 0x00, 0x02, 0, 0, 0, 64, v0, v1, p0, p1, 0x00, 0x22, 1, 2, 3, 1,
    ]
}

/// One configuration, interface 0 with four DFU-mode alternate settings (FE/01/02) and the DFU
/// functional descriptor (bmAttributes 0x0B, wDetachTimeOut 255, wTransferSize 2048, bcdDFU 0x011A).
fn config_descriptor() -> Vec<u8> {
    let mut d = vec![9, 2, 0, 0, 1, 1, 0, 0xC0, 50];
    for alt in 0..4 {
        d.extend_from_slice(&[9, 4, 0, alt, 0, 0xFE, 0x01, 0x02, 4 + alt]);
    }
    d.extend_from_slice(&[9, 0x21, 0x0B, 255, 0, 0x00, 0x08, 0x1A, 0x01]);
    let total = d.len() as u16;
    d[2..4].copy_from_slice(&total.to_le_bytes());
    d
}

fn string_descriptor(text: &str) -> Vec<u8> {
    let units: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let mut d = vec![2 + units.len() as u8, 3];
    d.extend(units);
    d
}

fn write_capture(path: &Path) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = PcapWriter::new(file, 1, 9).unwrap();
    w.set_epoch(Duration::from_secs(1_700_000_000));
    let strings = [
        (0, 0, vec![4, 3, 0x09, 0x04]),
        (
            4,
            0x0409,
            string_descriptor("@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg"),
        ),
    ];
    let ms = Duration::from_millis;
    w.synthetic_enumeration(&device_descriptor(), &config_descriptor(), &strings, ms(0))
        .unwrap();
    let getstatus = Setup {
        request_type: 0xA1,
        request: 3,
        value: 0,
        index: 0,
        length: 6,
    };
    let dnload = Setup {
        request_type: 0x21,
        request: 1,
        value: 2,
        index: 0,
        length: 4,
    };
    w.control(getstatus, &[], &Ok(vec![0, 0, 0, 0, 2, 0]), ms(10), ms(11))
        .unwrap();
    w.control(
        dnload,
        &[0xDE, 0xAD, 0xBE, 0xEF],
        &Ok(vec![]),
        ms(12),
        ms(14),
    )
    .unwrap();
    w.control(getstatus, &[], &Ok(vec![0, 25, 0, 0, 4, 0]), ms(15), ms(16))
        .unwrap();
    let stall = Err(TransferError::new(TransferErrorKind::Stall, "pipe"));
    w.control(dnload, &[1, 2, 3, 4], &stall, ms(40), ms(41))
        .unwrap();
    w.flush().unwrap();
}

/// tshark's output, or None when it is not installed.
fn tshark(args: &[&str]) -> Option<(String, String)> {
    match Command::new("tshark").args(args).output() {
        Ok(out) => {
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                out.status.success(),
                "tshark {args:?} failed: {}\n{stderr}",
                out.status
            );
            Some((stdout, stderr))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => panic!("cannot run tshark: {e}"),
    }
}

fn skip_or_fail() {
    let message = "SKIPPED pcap_tshark: tshark is not on PATH (apt-get install tshark)";
    assert!(
        std::env::var("HIL_REQUIRE_TSHARK").as_deref() != Ok("1"),
        "{message}, and HIL_REQUIRE_TSHARK=1"
    );
    eprintln!("{message}");
}

fn capture_path(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    write_capture(&path);
    path
}

#[test]
fn tshark_dissects_dfu_requests() {
    let path = capture_path("pcap_tshark_dfu.pcap");
    let file = path.to_str().unwrap();
    let decode_as = dfu_decode_as(VID, PID);
    let Some((out, err)) = tshark(&["-r", file, "-V", "-d", &decode_as]) else {
        return skip_or_fail();
    };
    assert!(
        !err.contains("appears to be damaged") && !err.contains("isn't a capture file"),
        "{err}"
    );
    for expected in [
        "USB Device Firmware Upgrade",
        "Command: Get Status (3)",
        "[Response: Get Status (3)]",
        "State: dfuDownloadBusy (4)",
        "Command: Download (1)",
        "Block Number: 2",
        "bInterfaceClass: Application Specific (0xfe)",
        "DFU FUNCTIONAL",
        "bString: @Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg",
        "URB status: Broken pipe (-EPIPE) (-32)",
    ] {
        assert!(
            out.contains(expected),
            "tshark -V output lacks {expected:?}:\n{out}"
        );
    }
    assert!(
        !out.contains("Malformed"),
        "tshark found a malformed packet:\n{out}"
    );
}

#[test]
fn tshark_reads_capture_without_decode_as() {
    let path = capture_path("pcap_tshark_plain.pcap");
    let Some((out, _)) = tshark(&["-r", path.to_str().unwrap()]) else {
        return skip_or_fail();
    };
    assert_eq!(
        out.lines().count(),
        2 * (4 + 4),
        "one line per packet:\n{out}"
    );
    assert!(
        out.contains("GET DESCRIPTOR Response CONFIGURATION"),
        "{out}"
    );
}
