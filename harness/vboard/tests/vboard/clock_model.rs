//! The HSE detection model against the band table of reference §2.3, and the seed's misdetection numbers.

use crate::common::*;
use rstest::rstest;
use std::time::Duration;
use vboard::clock::{measured_hse_hz, pll_m, timer_count_true};
use vboard::{Board, BoardConfig};

const TIMER: u32 = 24_000_000;

/// PLLM for both roundings of the count at HSI error `e_percent`.
fn both_roundings(hse_mhz: u32, e_percent: f64) -> [u32; 2] {
    let d = timer_count_true(TIMER, e_percent / 100.0, f64::from(hse_mhz) * 1e6);
    [d.floor(), d.ceil()].map(|count| pll_m(measured_hse_hz(TIMER, count as u32)))
}

/// Reference §2.3 (24 MHz timer): always-correct band and sometimes-correct band, in %.
#[rstest]
#[case::hse_8mhz(8, (-5.0, 5.0), (-5.0, 5.0))]
#[case::hse_16mhz(16, (-2.96, 3.23), (-3.23, 3.49))]
#[case::hse_24mhz(24, (-2.02, 2.02), (-2.42, 2.42))]
#[case::hse_25mhz(25, (-1.71, 1.65), (-2.13, 2.07))]
#[case::hse_26mhz(26, (-1.71, 1.78), (-2.15, 2.22))]
fn detection_bands_match_the_reference_table(
    #[case] mhz: u32,
    #[case] always: (f64, f64),
    #[case] sometimes: (f64, f64),
) {
    let inside = [
        always.0 + 0.01,
        always.0 / 2.0,
        0.0,
        always.1 / 2.0,
        always.1 - 0.01,
    ];
    for e in inside {
        assert_eq!(
            both_roundings(mhz, e),
            [mhz, mhz],
            "{mhz} MHz at {e:+} % must always be detected"
        );
    }
    if mhz == 8 {
        return;
    }
    for e in [
        sometimes.0 - 0.01,
        sometimes.0 - 1.0,
        sometimes.1 + 0.01,
        sometimes.1 + 1.0,
    ] {
        let m = both_roundings(mhz, e);
        assert!(
            m.iter().all(|&m| m != mhz),
            "{mhz} MHz at {e:+} % must always be misdetected: {m:?}"
        );
    }
    for e in [
        (always.0 + sometimes.0) / 2.0,
        (always.1 + sometimes.1) / 2.0,
    ] {
        let correct = both_roundings(mhz, e).iter().filter(|&&m| m == mhz).count();
        assert_eq!(
            correct, 1,
            "{mhz} MHz at {e:+} %: exactly one rounding is right"
        );
    }
}

#[test]
fn hsi_fast_by_2_5_percent_misdetects_25_as_24_mhz() {
    let host = Host::new(misdetecting(), 3);
    let boot = host.board.boot().unwrap();
    assert_eq!(boot.pll.m, 24);
    assert!(!boot.hse_detected_correctly());
    assert!(
        (boot.usb_clock_hz - 50e6).abs() < 1.0,
        "{}",
        boot.usb_clock_hz
    );
    assert!(
        (boot.usb_error_ppm - 41_666.7).abs() < 1.0,
        "{}",
        boot.usb_error_ppm
    );
    assert!((boot.sysclk_hz - 62.5e6).abs() < 1.0);
    assert!(
        [244, 245].contains(&boot.timer_count),
        "{}",
        boot.timer_count
    );
}

#[test]
fn correct_detection_gives_60_and_48_mhz() {
    let host = Host::new(config_with(25_000_000, 0.0), 3);
    let boot = host.board.boot().unwrap();
    assert_eq!(
        (boot.pll.m, boot.pll.n, boot.pll.p, boot.pll.q),
        (25, 240, 4, 5)
    );
    assert_eq!(boot.measured_hse_hz / 100_000, 250);
    assert_eq!(boot.sysclk_hz, 60e6);
    assert_eq!(boot.usb_error_ppm, 0.0);
}

fn misdetect_fraction(config: BoardConfig, temperature_c: f64, seed: u64, boots: u32) -> f64 {
    let mut board = Board::new(config, seed);
    board.set_temperature(temperature_c);
    board.power_on(Duration::ZERO);
    let mut bad = 0;
    for i in 0..boots {
        board.reset_pin(Duration::from_secs(u64::from(i)));
        bad += u32::from(!board.boot().unwrap().hse_detected_correctly());
    }
    f64::from(bad) / f64::from(boots)
}

fn shipped(name: &str) -> BoardConfig {
    let path = format!(
        "{}/../../fixtures/boards/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    BoardConfig::load(std::path::Path::new(&path)).unwrap()
}

#[test]
fn shipped_boards_misdetect_as_designed() {
    assert_eq!(
        misdetect_fraction(shipped("healthy-25mhz"), 25.0, 1, 500),
        0.0
    );
    assert_eq!(
        misdetect_fraction(shipped("crystal-24mhz"), 25.0, 1, 500),
        0.0
    );
    let room = misdetect_fraction(shipped("drifting-25mhz"), 28.0, 1, 1000);
    assert!(
        (0.12..0.40).contains(&room),
        "drifting board at 28 °C: {room}"
    );
    let hot = misdetect_fraction(shipped("drifting-25mhz"), 45.0, 1, 1000);
    let cold = misdetect_fraction(shipped("drifting-25mhz"), 10.0, 1, 1000);
    assert!(cold < room && room < hot, "{cold} {room} {hot}");
}

#[test]
fn same_seed_same_boots() {
    let run = |seed| {
        let mut b = Board::new(shipped("drifting-25mhz"), seed);
        b.power_on(Duration::ZERO);
        (0..50u64)
            .map(|i| {
                b.reset_pin(Duration::from_secs(i));
                b.boot().unwrap().timer_count
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7), run(8));
}

#[test]
fn temperature_changes_the_next_boot_only() {
    let mut config = config_with(25_000_000, 0.0);
    config.hsi.temp_coefficient_ppm_per_c = 100.0;
    let mut board = Board::new(config, 1);
    board.power_on(Duration::ZERO);
    board.set_temperature(125.0);
    assert_eq!(board.boot().unwrap().hsi_error_ppm, 0.0);
    board.reset_pin(Duration::from_secs(1));
    assert_eq!(board.boot().unwrap().hsi_error_ppm, 10_000.0);
}
