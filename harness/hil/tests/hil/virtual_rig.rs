//! The virtual rig backend: rig actions land on the shared vboard boards in virtual time.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dfuse::{Clock, VirtualClock};
use hil::rig::{Rig, RigControl, RigErrorKind, VirtualRig, REPLY_TIMEOUT, SWITCH_TIME};
use hil::transport::{Transport, VirtualTransport};
use rstest::rstest;
use vboard::{ResetCause, RunMode};

fn bench(seed: u64) -> VirtualRig {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rigs/virtual-bench.toml");
    let rig = Rig::load(&path).unwrap();
    VirtualRig::new(&rig, Arc::new(VirtualClock::new()), seed).unwrap()
}

#[test]
fn power_on_boots_the_bootloader_in_virtual_time() {
    let rig = bench(1);
    let mut control = rig.control("bench-05").unwrap();
    control.power(true).unwrap();
    assert_eq!(rig.clock().now(), hil::rig::SWITCH_TIME);
    let board = rig.board("bench-05").unwrap().lock();
    assert_eq!(board.mode(), RunMode::Bootloader);
    assert_eq!(board.boot().unwrap().cause, ResetCause::PowerOn);
    assert_eq!(board.config().name(), "bench-05");
}

#[test]
fn each_power_cycle_is_a_new_boot_with_new_hsi_jitter() {
    let rig = bench(1);
    let mut control = rig.control("bench-05").unwrap();
    let mut hsi = Vec::new();
    for _ in 0..3 {
        control.power(true).unwrap();
        let board = rig.board("bench-05").unwrap().lock();
        hsi.push(board.boot().unwrap().hsi_error_ppm);
        drop(board);
        control.power(false).unwrap();
        assert_eq!(rig.board("bench-05").unwrap().lock().mode(), RunMode::Off);
    }
    assert!(hsi[0] != hsi[1] && hsi[1] != hsi[2], "{hsi:?}");
    assert_eq!(rig.board("bench-05").unwrap().lock().stats().boots, 3);
}

#[test]
fn boot0_low_boots_user_flash_and_reset_pulse_reboots() {
    let rig = bench(1);
    let mut control = rig.control("bench-01").unwrap();
    control.boot0(false).unwrap();
    control.power(true).unwrap();
    let mode = rig.board("bench-01").unwrap().lock().mode();
    assert!(matches!(mode, RunMode::Application { .. }), "{mode:?}");
    control.boot0(true).unwrap();
    control.reset_pulse().unwrap();
    let board = rig.board("bench-01").unwrap().lock();
    assert_eq!(board.mode(), RunMode::Bootloader);
    assert_eq!(board.boot().unwrap().cause, ResetCause::Pin);
}

#[test]
fn the_chamber_sets_every_board_and_shifts_the_hsi() {
    let rig = bench(1);
    let mut one = rig.control("bench-01").unwrap();
    one.set_temperature(35.0).unwrap();
    let mut other = rig.control("bench-10").unwrap();
    assert_eq!(other.temperature().unwrap(), Some(35.0));
    other.power(true).unwrap();
    assert_eq!(
        rig.board("bench-10")
            .unwrap()
            .lock()
            .boot()
            .unwrap()
            .temperature_c,
        35.0
    );
}

#[test]
fn a_powered_board_enumerates_on_its_virtual_port() {
    let rig = bench(1);
    rig.control("bench-03").unwrap().power(true).unwrap();
    let board = rig.board("bench-03").unwrap().clone();
    let transport =
        VirtualTransport::open(board, rig.clock().clone(), 3, Duration::from_secs(1)).unwrap();
    assert_eq!(transport.info().port_path, "0-3");
    assert!(rig.control("bench-99").is_none());
}

/// A one-board virtual rig whose controller always fails in the way `faults` says.
fn failing(faults: &str) -> VirtualRig {
    let text = format!(
        "name = \"f\"\n[faults]\n{faults}\n[[boards]]\nname = \"a\"\nhse_hz = 25_000_000\n\
         hse_kind = \"oscillator\"\nboard_file = \"../boards/bench-01.toml\"\n"
    );
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rigs/case.toml");
    let rig = Rig::from_toml_str(&text, &path).unwrap();
    VirtualRig::new(&rig, Arc::new(VirtualClock::new()), 1).unwrap()
}

#[rstest]
#[case::timeout("timeout_rate = 1", RigErrorKind::Timeout, REPLY_TIMEOUT, RunMode::Off)]
#[case::garbled(
    "garbled_rate = 1",
    RigErrorKind::Garbled,
    SWITCH_TIME,
    RunMode::Bootloader
)]
#[case::relay_stuck("relay_stuck_rate = 1", RigErrorKind::Io, SWITCH_TIME, RunMode::Off)]
fn a_failing_controller_fails_power_on_as_its_rig_file_says(
    #[case] faults: &str,
    #[case] kind: RigErrorKind,
    #[case] took: Duration,
    #[case] then: RunMode,
) {
    let rig = failing(faults);
    let err = rig.control("a").unwrap().power(true).unwrap_err();
    assert_eq!(err.kind(), kind, "{err}");
    assert_eq!(rig.clock().now(), took);
    assert_eq!(
        rig.board("a").unwrap().lock().mode(),
        then,
        "timeout: not done; garbled: done, the reply lost; stuck: acknowledged, not done"
    );
}

#[test]
fn a_stuck_relay_says_which_channel_and_leaves_the_other_lines_working() {
    let rig = failing("relay_stuck_rate = 1");
    let mut control = rig.control("a").unwrap();
    let err = control.power(false).unwrap_err();
    assert_eq!(
        err.to_string(),
        "relay stuck: channel 1 did not switch off (the command was acknowledged)"
    );
    control.boot0(false).unwrap();
    control.reset_pulse().unwrap();
}

#[test]
fn a_lagging_chamber_warms_the_die_exponentially_and_a_boot_sees_that_temperature() {
    let text = "name = \"lag\"\n[chamber]\ntime_constant_s = 60\n[[boards]]\nname = \"a\"\n\
                hse_hz = 25_000_000\nhse_kind = \"oscillator\"\nboard_file = \"../boards/bench-01.toml\"\n";
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rigs/case.toml");
    let rig = Rig::from_toml_str(text, &path).unwrap();
    let rig = VirtualRig::new(&rig, Arc::new(VirtualClock::new()), 1).unwrap();
    let mut control = rig.control("a").unwrap();
    let start = control.temperature().unwrap().unwrap();
    assert_eq!(start, 25.0, "the board file's temperature");
    control.set_temperature(35.0).unwrap();
    assert_eq!(
        control.temperature().unwrap(),
        Some(25.0),
        "no time has passed"
    );
    rig.clock().sleep(Duration::from_secs(60));
    let one_tau = control.temperature().unwrap().unwrap();
    assert!(
        (one_tau - (35.0 - 10.0 / std::f64::consts::E)).abs() < 1e-9,
        "{one_tau}"
    );
    control.power(true).unwrap();
    let boot = rig.board("a").unwrap().lock().boot().unwrap().temperature_c;
    assert_eq!(
        Some(boot),
        control.temperature().unwrap(),
        "the boot saw the die as it was"
    );
    assert!(boot > one_tau && boot < 35.0);
    rig.clock().sleep(Duration::from_secs(600));
    let settled = control.temperature().unwrap().unwrap();
    assert!((settled - 35.0).abs() < 0.01, "{settled}");
}
