//! Fault injection: each fault fires when asked, does what it says, and nothing else.

use std::time::Duration;

use crate::common::*;
use vboard::{DfuState, Fault, ResetCause, UsbError, NO_RESPONSE_HOLD};

#[test]
fn stall_on_request_stalls_the_nth_transfer_without_acting() {
    let mut host = Host::healthy();
    host.board.inject(Fault::StallOnRequest(2));
    assert!(host.get_descriptor(1, 0, 18).is_ok());
    assert_eq!(host.dnload(0, &[0x41]), Err(UsbError::Stall));
    assert_eq!(
        host.get_state(),
        DfuState::DfuIdle,
        "the stalled DNLOAD was not acted on"
    );
    assert_eq!(host.board.stats().stalls, 1);
}

#[test]
fn no_response_holds_the_transfer_and_does_not_act() {
    let mut host = Host::healthy();
    host.board.inject(Fault::NoResponseOnRequest(1));
    let asked = host.now;
    let done = host.board.control(asked, setup(0x21, 1, 0, 0, 1), &[0x41]);
    assert_eq!(done.result, Err(UsbError::NoResponse));
    assert_eq!(done.done_at, asked + NO_RESPONSE_HOLD);
    assert_eq!(host.get_state(), DfuState::DfuIdle);
}

#[test]
fn disconnect_after_n_transfers_until_power_cycle() {
    let mut host = Host::healthy();
    host.board.inject(Fault::DisconnectAfter(2));
    assert!(host.try_get_status().is_ok());
    assert!(host.try_get_status().is_ok());
    assert_eq!(host.try_get_status(), Err(UsbError::Disconnected));
    assert!(!host.board.attached(host.now + Duration::from_secs(10)));
    host.board.power_off(host.now);
    host.board.power_on(host.now);
    host.wait_attached();
    assert!(host.try_get_status().is_ok());
}

#[test]
fn disconnect_after_zero_acts_at_once() {
    let mut host = Host::healthy();
    host.board.inject(Fault::DisconnectAfter(0));
    assert_eq!(host.try_get_status(), Err(UsbError::Disconnected));
}

#[test]
fn corrupt_status_shortens_the_nth_getstatus_after_acting() {
    let mut host = Host::healthy();
    host.board.inject(Fault::CorruptStatus(2));
    assert_eq!(host.try_get_status().unwrap().len(), 6);
    host.dnload(0, &[0x21, 0, 0, 0, 8]).unwrap();
    let short = host.try_get_status().unwrap();
    assert_eq!(short.len(), 3, "{short:02X?}");
    host.sleep(1);
    assert_eq!(
        host.get_status().state,
        DfuState::DnloadIdle,
        "the command ran on the corrupted poll"
    );
}

#[test]
fn stuck_busy_never_finishes_until_reset() {
    let mut host = Host::healthy();
    host.board.inject(Fault::StuckBusy { poll_timeout_ms: 0 });
    host.dnload(0, &[0x21, 0, 0, 0, 8]).unwrap();
    for _ in 0..100 {
        let s = host.get_status();
        assert_eq!((s.state, s.poll_ms), (DfuState::DnBusy, 0));
    }
    assert_eq!(host.get_state(), DfuState::DnloadSync, "nothing executed");
    host.board.reset_pin(host.now);
    host.wait_attached();
    assert_eq!(host.get_status().state, DfuState::DfuIdle);
}

#[test]
fn stuck_busy_reports_its_poll_timeout() {
    let mut host = Host::healthy();
    host.board.inject(Fault::StuckBusy {
        poll_timeout_ms: 250,
    });
    assert_eq!(host.get_status().poll_ms, 250);
    host.board.clear_faults();
    assert_eq!(host.get_status().state, DfuState::DfuIdle);
}

#[test]
fn re_enumerate_resets_and_reattaches_as_a_new_boot() {
    let mut host = Host::healthy();
    host.set_address(0x0801_0000);
    let first = *host.board.boot().unwrap();
    host.board.inject(Fault::ReEnumerate(1));
    assert!(host.try_get_status().is_ok());
    assert!(!host.board.attached(host.now));
    assert_eq!(host.try_get_status(), Err(UsbError::Disconnected));
    host.wait_attached();
    let second = *host.board.boot().unwrap();
    assert_eq!(
        (second.number, second.cause),
        (first.number + 1, ResetCause::Software)
    );
    assert_eq!(host.get_status().state, DfuState::DfuIdle);
    assert_eq!(host.read(0x0801_0000, 4).unwrap(), vec![0xFF; 4]);
}

#[test]
fn board_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<vboard::Board>();
}

/// The healthy board with a `[faults]` section (board-file text, as a user writes it).
fn planted(faults: &str) -> vboard::BoardConfig {
    let text = format!("name = \"planted\"\n\n[faults]\n{faults}\n");
    vboard::BoardConfig::from_toml_str(&text, "planted.toml").unwrap()
}

/// Asserts `hits` out of `n` is within 15 % of `p · n` (several standard deviations at these counts).
fn assert_rate(what: &str, hits: u32, n: u32, p: f64) {
    let expected = p * f64::from(n);
    let tolerance = 0.15 * expected;
    assert!(
        (f64::from(hits) - expected).abs() <= tolerance,
        "{what}: {hits}/{n}, expected about {expected}"
    );
}

#[test]
fn planted_stalls_and_silences_fire_at_their_rate() {
    let mut host = Host::new(
        planted("stall_per_transfer = 0.1\nno_response_per_transfer = 0.05"),
        3,
    );
    let n = 10_000;
    let (mut stalls, mut silent) = (0, 0);
    for _ in 0..n {
        match host.try_get_status() {
            Ok(_) => {}
            Err(UsbError::Stall) => stalls += 1,
            Err(UsbError::NoResponse) => silent += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    // A transfer picked for both answers nothing: no response 5 %, stall 10 % of the other 95 %.
    assert_rate("no response", silent, n, 0.05);
    assert_rate("stall", stalls, n, 0.1 * 0.95);
    assert_eq!(host.board.stats().stalls, u64::from(stalls));
}

#[test]
fn planted_corrupt_status_shortens_that_share_of_getstatus_replies() {
    let mut host = Host::new(planted("corrupt_status_per_getstatus = 0.2"), 3);
    let n = 5000;
    let short = (0..n)
        .filter(|_| host.try_get_status().unwrap().len() == 3)
        .count() as u32;
    assert_rate("short GETSTATUS", short, n, 0.2);
    for _ in 0..500 {
        assert_eq!(
            host.get_descriptor(1, 0, 18).unwrap().len(),
            18,
            "only GETSTATUS"
        );
    }
}

#[test]
fn planted_disconnects_and_re_enumerations_fire_per_answered_transfer() {
    let mut host = Host::new(planted("disconnect_per_transfer = 0.02"), 3);
    let (n, mut disconnects) = (10_000, 0);
    for _ in 0..n {
        host.try_get_status().unwrap();
        if !host.board.attached(host.now) {
            disconnects += 1;
            host.board.power_off(host.now);
            host.board.power_on(host.now);
            host.wait_attached();
        }
    }
    assert_rate("disconnect", disconnects, n, 0.02);

    let mut host = Host::new(planted("re_enumerate_per_transfer = 0.02"), 3);
    for _ in 0..n {
        host.try_get_status().unwrap();
        if !host.board.attached(host.now) {
            host.wait_attached();
        }
    }
    let boots = host.board.stats().boots as u32 - 1;
    assert_rate("re-enumeration", boots, n, 0.02);
}

#[test]
fn planted_stuck_busy_catches_that_share_of_boots() {
    let mut host = Host::new(
        planted("stuck_busy_per_boot = 0.3\nstuck_busy_poll_ms = 7"),
        3,
    );
    let n = 2000;
    let mut stuck = 0;
    for _ in 0..n {
        host.board.reset_pin(host.now);
        host.wait_attached();
        let s = host.get_status();
        if (s.state, s.poll_ms) == (DfuState::DnBusy, 7) {
            stuck += 1;
        } else {
            assert_eq!(s.state, DfuState::DfuIdle);
        }
    }
    assert_rate("stuck boots", stuck, n, 0.3);
}

#[test]
fn zero_probabilities_never_fire() {
    let mut host = Host::new(
        planted(
            "stall_per_transfer = 0.0\nno_response_per_transfer = 0.0\ndisconnect_per_transfer = 0.0\n\
             re_enumerate_per_transfer = 0.0\ncorrupt_status_per_getstatus = 0.0\nstuck_busy_per_boot = 0.0",
        ),
        3,
    );
    for _ in 0..5000 {
        assert_eq!(host.try_get_status().unwrap().len(), 6);
    }
    assert_eq!(host.board.stats().failures(), 0);
    assert_eq!(host.board.stats().boots, 1);
}

#[test]
fn planted_faults_replay_from_the_seed_and_leave_the_clock_draws_alone() {
    let run = |config: vboard::BoardConfig| {
        let mut host = Host::new(config, 9);
        let mut seen = Vec::new();
        for cycle in 0..20u64 {
            host.board.reseed(vboard::cycle_seed(9, 0, cycle, 1));
            host.board.power_off(host.now);
            host.board.power_on(host.now);
            host.wait_attached();
            let hsi = host.board.boot().unwrap().hsi_error_ppm;
            let replies: Vec<bool> = (0..50).map(|_| host.try_get_status().is_ok()).collect();
            seen.push((hsi, replies));
        }
        seen
    };
    let jittery = || {
        let mut c = vboard::BoardConfig::healthy_default();
        c.hsi.jitter_ppm = 3000.0;
        c
    };
    let mut faulty = jittery();
    faulty.faults.stall_per_transfer = 0.1;
    let (a, b, clean) = (run(faulty.clone()), run(faulty), run(jittery()));
    assert_eq!(a, b, "same seeds, same faults");
    assert!(a.iter().any(|(_, r)| r.contains(&false)));
    let hsi = |runs: &[(f64, Vec<bool>)]| runs.iter().map(|r| r.0).collect::<Vec<_>>();
    assert_eq!(
        hsi(&a),
        hsi(&clean),
        "the faults draw from their own stream"
    );
}
