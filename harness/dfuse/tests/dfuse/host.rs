//! The session's basic requests, start-up recovery and bounded polling, against simulated and scripted devices.

use std::error::Error as _;
use std::time::Duration;

use crate::common::*;
use dfuse::{
    Clock, Error, ErrorKind, Event, PollPolicy, SleepReason, State, Status, StuckReason,
    TransferErrorKind,
};
use rstest::rstest;

fn requests(log: &[dfuse::Setup]) -> Vec<u8> {
    log.iter().map(|s| s.request).collect()
}

#[test]
fn connect_to_an_idle_device_is_one_getstatus() {
    let mut dfu = host();
    let reply = dfu.connect().unwrap();
    assert_eq!((reply.state, reply.status), (State::DfuIdle, Status::Ok));
    assert_eq!(requests(&dfu.io().log), [GETSTATUS]);
}

#[rstest]
#[case::error(St::Error, 0x01, vec![GETSTATUS, CLRSTATUS, GETSTATUS])]
#[case::dnload_idle(St::DnloadIdle, 0x00, vec![GETSTATUS, ABORT, GETSTATUS])]
#[case::upload_idle(St::UploadIdle, 0x00, vec![GETSTATUS, ABORT, GETSTATUS])]
fn connect_recovers(#[case] state: St, #[case] status: u8, #[case] expected: Vec<u8>) {
    let mut dfu = host_with(|d| (d.state, d.status) = (state, status));
    let reply = dfu.connect().unwrap();
    assert_eq!(reply.state, State::DfuIdle);
    assert_eq!(requests(&dfu.io().log), expected);
    assert!(dfu.io().violations.is_empty(), "{:?}", dfu.io().violations);
}

#[test]
fn connect_clears_a_bad_status_in_dfu_idle() {
    let mut dfu = scripted(vec![
        (GETSTATUS, Ok(status(0x0E, 2, 0))),
        (CLRSTATUS, Ok(vec![])),
        (GETSTATUS, Ok(status(0x00, 2, 0))),
    ]);
    assert_eq!(dfu.connect().unwrap().status, Status::Ok);
}

#[test]
fn connect_fails_when_the_status_stays_bad() {
    let mut dfu = scripted(vec![
        (GETSTATUS, Ok(status(0x0E, 2, 0))),
        (CLRSTATUS, Ok(vec![])),
        (GETSTATUS, Ok(status(0x0E, 2, 0))),
    ]);
    let err = dfu.connect().unwrap_err();
    assert!(
        matches!(
            err,
            Error::DeviceError {
                status: Status::ErrUnknown,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn connect_gives_up_after_its_rounds() {
    let steps: Vec<_> = (0..5)
        .flat_map(|_| {
            [
                (GETSTATUS, Ok(status(0x01, 10, 1))),
                (CLRSTATUS, Ok(vec![])),
            ]
        })
        .collect();
    let mut dfu = scripted(steps);
    let err = dfu.connect().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Stuck {
                reason: StuckReason::NoRecovery,
                polls: 5,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Stuck);
}

#[test]
fn connect_refuses_a_device_in_application_mode() {
    let mut dfu = scripted(vec![(GETSTATUS, Ok(status(0, 0, 0)))]);
    let err = dfu.connect().unwrap_err();
    assert!(matches!(err, Error::UnexpectedState { got, .. } if got.state == State::AppIdle));
    assert_eq!(err.kind(), ErrorKind::Protocol);
}

#[test]
fn poll_timeouts_are_honoured_through_the_clock() {
    let mut dfu = host_with(|d| (d.poll_ms, d.busy_polls) = (7, 3));
    dfu.set_address(0x0800_4000).unwrap();
    // DNBUSY, DNBUSY, DNBUSY, then dfuDNLOAD-IDLE: four polls, each followed by its 7 ms.
    assert_eq!(dfu.io().count(GETSTATUS), 4);
    assert_eq!(dfu.clock().now(), Duration::from_millis(28));
    assert_eq!(dfu.observer().slept(), Duration::from_millis(28));
    assert!(dfu.io().violations.is_empty(), "{:?}", dfu.io().violations);
    assert_eq!(dfu.io().pointer, 0x0800_4000);
}

#[test]
fn endless_dnbusy_is_stuck_not_a_hang() {
    let mut dfu = host_with(|d| (d.stuck_busy, d.poll_ms) = (true, 10));
    let err = dfu.erase_sector(0x0800_0000).unwrap_err();
    let Error::Stuck {
        reason,
        polls,
        elapsed,
        ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert_eq!(reason, StuckReason::BusyTooLong);
    assert!(elapsed <= Duration::from_secs(60), "{elapsed:?}");
    assert!((5_990..=6_001).contains(&polls), "{polls}");
    assert!(dfu.clock().now() <= Duration::from_secs(60));
}

#[test]
fn endless_zero_poll_timeouts_are_stuck_after_100() {
    let mut dfu = host_with(|d| (d.stuck_busy, d.poll_ms) = (true, 0));
    let err = dfu.set_address(0x0800_0000).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Stuck {
                reason: StuckReason::ZeroPollTimeouts,
                polls: 100,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(dfu.clock().now(), Duration::ZERO);
}

#[test]
fn max_polls_bounds_the_loop() {
    let policy = PollPolicy {
        max_polls: 10,
        ..PollPolicy::default()
    };
    let mut dfu = host_with(|d| (d.stuck_busy, d.poll_ms) = (true, 1)).with_poll_policy(policy);
    let err = dfu.set_address(0x0800_0000).unwrap_err();
    assert!(matches!(
        err,
        Error::Stuck {
            reason: StuckReason::TooManyPolls,
            polls: 10,
            ..
        }
    ));
}

#[test]
fn an_absurd_poll_timeout_fails_without_sleeping() {
    let mut dfu = scripted(vec![
        (DNLOAD, Ok(vec![])),
        (GETSTATUS, Ok(status(0, 4, 0xFF_FFFF))),
    ]);
    let err = dfu.set_address(0x0800_0000).unwrap_err();
    assert!(matches!(
        err,
        Error::Stuck {
            reason: StuckReason::BusyTooLong,
            polls: 1,
            ..
        }
    ));
    assert_eq!(dfu.clock().now(), Duration::ZERO);
}

#[test]
fn up_to_three_stalls_are_absorbed() {
    let mut dfu = host_with(|d| (d.stall_polls, d.busy_polls) = (3, 2));
    dfu.erase_sector(0x0802_0000).unwrap();
    let retries = dfu.observer().events.iter().filter(|e| {
        matches!(
            e,
            Event::Sleep {
                reason: SleepReason::StallRetry,
                ..
            }
        )
    });
    assert_eq!(retries.count(), 3);
}

#[test]
fn a_fourth_stall_is_an_error() {
    let mut dfu = host_with(|d| d.stall_polls = 4);
    let err = dfu.erase_sector(0x0802_0000).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Stall);
}

#[test]
fn a_stall_on_the_first_poll_is_an_error() {
    let mut dfu = scripted(vec![
        (DNLOAD, Ok(vec![])),
        (GETSTATUS, Err(TransferErrorKind::Stall)),
    ]);
    assert_eq!(dfu.set_address(0).unwrap_err().kind(), ErrorKind::Stall);
}

#[test]
fn first_reply_must_be_dnbusy() {
    let mut dfu = scripted(vec![(DNLOAD, Ok(vec![])), (GETSTATUS, Ok(status(0, 5, 0)))]);
    let err = dfu.set_address(0x0800_0000).unwrap_err();
    let Error::UnexpectedState { expected, got, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*expected, [State::DfuDnbusy]);
    assert_eq!(got.state, State::DfuDnloadIdle);
    assert_eq!(
        err.to_string(),
        "wrong state during SET_ADDRESS 0x08000000: expected dfuDNBUSY, device reports OK dfuDNLOAD-IDLE poll=0ms"
    );
}

#[test]
fn a_bad_address_is_the_devices_error() {
    let mut dfu = host();
    let err = dfu.set_address(0x3000_0000).unwrap_err();
    assert!(matches!(
        err,
        Error::DeviceError {
            status: Status::ErrTarget,
            state: State::DfuError,
            ..
        }
    ));
    assert_eq!(err.kind(), ErrorKind::DeviceStatus);
}

#[rstest]
#[case::quirk_on(true, Duration::from_secs(35))]
#[case::quirk_off(false, Duration::from_millis(100))]
fn f405_mass_erase_quirk(#[case] on: bool, #[case] waited: Duration) {
    let policy = PollPolicy {
        f405_mass_erase_quirk: on,
        ..PollPolicy::default()
    };
    let mut dfu = scripted(vec![
        (DNLOAD, Ok(vec![])),
        (GETSTATUS, Ok(status(0, 4, 100))),
        (GETSTATUS, Ok(status(0, 5, 0))),
    ])
    .with_poll_policy(policy);
    dfu.mass_erase().unwrap();
    assert_eq!(dfu.clock().now(), waited);
}

#[test]
fn read_unprotect_returns_after_the_first_poll() {
    let mut dfu = host();
    let reply = dfu.read_unprotect().unwrap();
    assert_eq!(reply.state, State::DfuDnbusy);
    assert!(dfu.io().gone);
}

#[test]
fn get_commands_lists_the_f7_set() {
    let mut dfu = host();
    let commands = dfu.get_commands().unwrap();
    assert_eq!(commands.opcodes, [0x00, 0x21, 0x41, 0x92]);
    assert!(commands.supports(0x92));
    assert!(dfu.io().violations.is_empty(), "{:?}", dfu.io().violations);
}

#[test]
fn transfer_errors_keep_their_source_out_of_the_message() {
    let mut dfu = scripted(vec![(GETSTATUS, Err(TransferErrorKind::Timeout))]);
    let err = dfu.get_status().unwrap_err();
    assert_eq!(err.to_string(), "DFU_GETSTATUS failed during DFU_GETSTATUS");
    assert_eq!(err.source().unwrap().to_string(), "timeout: scripted");
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[test]
fn undecodable_status_is_a_protocol_error() {
    let mut dfu = scripted(vec![(GETSTATUS, Ok(vec![0, 0, 0]))]);
    let err = dfu.get_status().unwrap_err();
    assert!(matches!(err, Error::Parse { .. }));
    assert_eq!(err.kind(), ErrorKind::Protocol);
}

#[test]
fn every_transfer_is_an_event() {
    let mut dfu = host_with(|d| d.state = St::Error);
    dfu.connect().unwrap();
    dfu.get_commands().unwrap();
    dfu.get_state().unwrap();
    let sent = dfu.io().log.clone();
    let seen: Vec<dfuse::Setup> = dfu.observer().transfers().map(|t| t.setup).collect();
    assert_eq!(seen, sent);
}
