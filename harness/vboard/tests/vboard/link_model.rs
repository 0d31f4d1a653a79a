//! The USB failure model through whole transfers: nothing fails at the right clock, long transfers fail at the
//! wrong one, and the device has or has not acted depending on which packet was lost.

use crate::common::*;
use vboard::{DfuState, UsbError};

/// Runs `n` copies of a request; returns how many failed with a protocol error.
fn failures(
    host: &mut Host,
    n: u32,
    mut request: impl FnMut(&mut Host) -> Result<Vec<u8>, UsbError>,
) -> u32 {
    let mut failed = 0;
    for _ in 0..n {
        match request(host) {
            Ok(_) => {}
            Err(UsbError::Protocol { .. }) => failed += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    failed
}

fn ob_upload(host: &mut Host) -> Result<Vec<u8>, UsbError> {
    host.upload(2, 32)
}

fn block_upload(host: &mut Host) -> Result<Vec<u8>, UsbError> {
    let r = host.upload(2, 2048);
    host.abort().ok();
    r
}

#[test]
fn correct_clock_never_fails() {
    let mut host = Host::new(config_with(25_000_000, 0.0), 11);
    host.set_address(FLASH);
    host.abort().unwrap();
    assert_eq!(failures(&mut host, 500, block_upload), 0);
    assert_eq!(failures(&mut host, 500, |h| h.get_descriptor(2, 0, 255)), 0);
    assert_eq!(failures(&mut host, 500, |h| h.try_get_status()), 0);
    assert_eq!(host.board.stats().packets_lost, 0);
    assert_eq!(host.board.stats().failures(), 0);
}

#[test]
fn drifting_board_fails_only_on_misdetected_boots() {
    let mut host = Host::new(config_with(25_000_000, 12_000.0), 11);
    assert!(
        host.board.boot().unwrap().hse_detected_correctly(),
        "+1.2 % is inside the always band"
    );
    assert_eq!(failures(&mut host, 200, block_upload), 0);
}

#[test]
fn misdetected_clock_fails_long_transfers_much_more_than_short_ones() {
    let mut host = Host::new(misdetecting(), 11);
    let status = failures(&mut host, 1000, |h| h.try_get_status());
    host.set_address(0x1FFF_0000);
    host.abort().unwrap();
    let ob = failures(&mut host, 300, ob_upload);
    let serial = failures(&mut host, 300, |h| h.get_descriptor(3, 3, 255));
    host.abort().unwrap();
    host.set_address(FLASH);
    host.abort().unwrap();
    let blocks = failures(&mut host, 100, block_upload);
    // The calibration documented on LinkConfig::margin_bits: short requests almost always pass, a single
    // option-byte upload fails about 3 times in 10, the serial string about 1.5 in 10, 2 KiB blocks always.
    assert!(status <= 8, "GETSTATUS failures {status}/1000");
    assert!(
        (60..=130).contains(&ob),
        "option-byte upload failures {ob}/300"
    );
    assert!(
        (25..=80).contains(&serial),
        "serial string failures {serial}/300"
    );
    assert!(
        ob > 20 * status * 300 / 1000,
        "long transfers fail far more than short ones"
    );
    assert!(blocks >= 99, "2 KB block failures {blocks}/100");
}

#[test]
fn same_seed_same_failures() {
    let run = |seed| {
        let mut host = Host::new(misdetecting(), seed);
        (0..200)
            .map(|_| host.get_descriptor(3, 3, 255).is_ok())
            .collect::<Vec<_>>()
    };
    assert_eq!(run(21), run(21));
    assert_ne!(run(21), run(22));
}

#[test]
fn lost_out_data_means_the_device_did_not_act() {
    let mut host = Host::new(misdetecting(), 4);
    host.set_address(FLASH);
    let r = host.dnload(2, &[0u8; 2048]);
    assert!(
        matches!(&r, Err(UsbError::Protocol { detail }) if detail.contains("did not act")),
        "{r:?}"
    );
    assert_eq!(host.get_state(), DfuState::DnloadIdle);
    assert!(host.board.flash()[..2048].iter().all(|&b| b == 0xFF));
}

#[test]
fn lost_in_data_means_the_device_did_act() {
    let mut host = Host::new(misdetecting(), 4);
    let r = host.upload(2, 2048);
    assert!(
        matches!(&r, Err(UsbError::Protocol { detail }) if detail.contains("after the device acted")),
        "{r:?}"
    );
    assert_eq!(host.get_state(), DfuState::UploadIdle);
}

/// An in-tolerance board (exact 25 MHz detection) whose cable loses each packet attempt with `cable`.
fn lossy_cable(cable: f64) -> vboard::BoardConfig {
    let mut config = config_with(25_000_000, 0.0);
    config.link.cable_loss_per_packet = cable;
    config.validate().unwrap();
    config
}

#[test]
fn lossy_cable_fails_in_tolerance_transfers_at_the_planted_rate() {
    let mut host = Host::new(lossy_cable(0.2), 12);
    assert!(host.board.boot().unwrap().hse_detected_correctly());
    // Per attempt 0.2, three attempts: a packet is lost with 0.2³ = 0.008. A GETSTATUS is three packets
    // (SETUP, 6 data bytes, status): 1 − 0.992³ = 2.38 % of them fail.
    let n = 20_000;
    let status = failures(&mut host, n, |h| h.try_get_status());
    let rate = f64::from(status) / f64::from(n);
    assert!(
        (0.020..0.028).contains(&rate),
        "GETSTATUS failure rate {rate}"
    );
    // A 2 KiB block upload is 34 packets (SETUP, 32 × 64 bytes, status): 1 − 0.992³⁴ = 23.9 %.
    host.set_address(FLASH);
    host.abort().unwrap();
    let blocks = failures(&mut host, 2000, block_upload);
    let rate = f64::from(blocks) / 2000.0;
    assert!((0.21..0.27).contains(&rate), "block failure rate {rate}");
}
