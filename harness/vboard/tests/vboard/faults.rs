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
