//! The DfuSe state machine, request by request and state by state (AN3156 §4–5; MW-derived [I] transitions).

use crate::common::*;
use rstest::rstest;
use vboard::{DfuState, DfuStatus, Rule, UsbError};
use DfuState::*;
use DfuStatus::*;

#[derive(Debug, Clone, Copy)]
enum From {
    Idle,
    Sync,
    DnIdle,
    UpIdle,
    Error,
}

#[derive(Debug, Clone, Copy)]
enum Req {
    GetStatus,
    GetState,
    ClrStatus,
    Abort,
    Detach,
    SetAddress,
    Write,
    UploadBlock,
    UploadBlock1,
    DnloadBlock1,
    Unknown,
}

fn reach(host: &mut Host, from: From) {
    match from {
        From::Idle => {}
        From::Sync => host.dnload(0, &[0x21, 0, 0, 0, 8]).map(drop).unwrap(),
        From::DnIdle => assert_eq!(host.set_address(FLASH).state, DnloadIdle),
        From::UpIdle => host.upload(2, 16).map(drop).unwrap(),
        From::Error => assert_eq!(host.dnload(0, &[0x55]), Err(UsbError::Stall)),
    }
}

fn send(host: &mut Host, req: Req) -> Result<Vec<u8>, UsbError> {
    match req {
        Req::GetStatus => host.try_get_status(),
        Req::GetState => host.control_in(0xA1, 5, 0, 0, 1),
        Req::ClrStatus => host.clr_status(),
        Req::Abort => host.abort(),
        Req::Detach => host.control_out(0x21, 0, 1000, &[]),
        Req::SetAddress => host.dnload(0, &[0x21, 0, 0, 0, 8]),
        Req::Write => host.dnload(2, &[0u8; 8]),
        Req::UploadBlock => host.upload(2, 16),
        Req::UploadBlock1 => host.upload(1, 16),
        Req::DnloadBlock1 => host.dnload(1, &[1, 2]),
        Req::Unknown => host.control_out(0x21, 0x33, 0, &[]),
    }
}

#[rstest]
#[case::idle_getstatus(From::Idle, Req::GetStatus, true, DfuIdle, Ok)]
#[case::idle_getstate(From::Idle, Req::GetState, true, DfuIdle, Ok)]
#[case::idle_clrstatus(From::Idle, Req::ClrStatus, true, DfuError, ErrUnknown)]
#[case::idle_abort(From::Idle, Req::Abort, true, DfuIdle, Ok)]
#[case::idle_detach(From::Idle, Req::Detach, true, DfuIdle, Ok)]
#[case::idle_dnload_command(From::Idle, Req::SetAddress, true, DnloadSync, Ok)]
#[case::idle_dnload_data(From::Idle, Req::Write, true, DnloadSync, Ok)]
#[case::idle_upload(From::Idle, Req::UploadBlock, true, UploadIdle, Ok)]
#[case::idle_upload_block1(From::Idle, Req::UploadBlock1, false, DfuError, ErrStalledPkt)]
#[case::idle_dnload_block1(From::Idle, Req::DnloadBlock1, false, DfuError, ErrStalledPkt)]
#[case::idle_unknown_request(From::Idle, Req::Unknown, false, DfuError, ErrStalledPkt)]
#[case::sync_getstate(From::Sync, Req::GetState, true, DnloadSync, Ok)]
#[case::sync_dnload(From::Sync, Req::SetAddress, false, DfuError, ErrStalledPkt)]
#[case::sync_upload(From::Sync, Req::UploadBlock, false, DfuError, ErrStalledPkt)]
#[case::sync_abort(From::Sync, Req::Abort, true, DfuIdle, Ok)]
#[case::sync_clrstatus(From::Sync, Req::ClrStatus, true, DfuError, ErrUnknown)]
#[case::dnidle_dnload(From::DnIdle, Req::SetAddress, true, DnloadSync, Ok)]
#[case::dnidle_upload(From::DnIdle, Req::UploadBlock, false, DfuError, ErrStalledPkt)]
#[case::dnidle_abort(From::DnIdle, Req::Abort, true, DfuIdle, Ok)]
#[case::dnidle_getstatus(From::DnIdle, Req::GetStatus, true, DnloadIdle, Ok)]
#[case::upidle_upload(From::UpIdle, Req::UploadBlock, true, UploadIdle, Ok)]
#[case::upidle_dnload(From::UpIdle, Req::SetAddress, false, DfuError, ErrStalledPkt)]
#[case::upidle_abort(From::UpIdle, Req::Abort, true, DfuIdle, Ok)]
#[case::error_clrstatus(From::Error, Req::ClrStatus, true, DfuIdle, Ok)]
#[case::error_getstatus(From::Error, Req::GetStatus, true, DfuError, ErrStalledPkt)]
#[case::error_abort_ignored(From::Error, Req::Abort, true, DfuError, ErrStalledPkt)]
#[case::error_dnload(From::Error, Req::SetAddress, false, DfuError, ErrStalledPkt)]
#[case::error_upload(From::Error, Req::UploadBlock, false, DfuError, ErrStalledPkt)]
fn request_in_state(
    #[case] from: From,
    #[case] req: Req,
    #[case] accepted: bool,
    #[case] state: DfuState,
    #[case] status: DfuStatus,
) {
    let mut host = Host::healthy();
    reach(&mut host, from);
    let result = send(&mut host, req);
    assert_eq!(result.is_ok(), accepted, "{result:?}");
    assert_eq!(result.err().filter(|e| *e != UsbError::Stall), None);
    assert_eq!(host.get_state(), state);
    if state != DnloadSync {
        let now = host.get_status();
        assert_eq!((now.state, now.status), (state, status));
    }
}

#[test]
fn command_runs_on_first_getstatus_and_reports_on_second() {
    let mut host = Host::healthy();
    host.dnload(0, &[0x21, 0x00, 0x40, 0x00, 0x08]).unwrap();
    let busy = host.get_status();
    assert_eq!((busy.state, busy.status, busy.poll_ms), (DnBusy, Ok, 1));
    host.sleep(1);
    let done = host.get_status();
    assert_eq!((done.state, done.status), (DnloadIdle, Ok));
    assert!(
        host.board.violations().is_empty(),
        "{:?}",
        host.board.violations()
    );
}

#[test]
fn get_commands_lists_the_supported_commands() {
    let mut host = Host::healthy();
    assert_eq!(host.upload(0, 4), Result::Ok(vec![0x00, 0x21, 0x41, 0x92]));
    assert_eq!(
        host.get_state(),
        DfuIdle,
        "[I] MW: wLength > 3 returns to dfuIDLE"
    );
    assert_eq!(host.upload(0, 3), Result::Ok(vec![0x00, 0x21, 0x41]));
    assert_eq!(host.get_state(), UploadIdle);
}

#[rstest]
#[case::unknown_opcode(&[0x55])]
#[case::short_set_address(&[0x21, 0, 0])]
#[case::get_commands_via_dnload(&[0x00])]
#[case::long_erase(&[0x41, 0, 0, 0, 8, 0])]
fn unsupported_commands_stall_with_errstalledpkt(#[case] command: &[u8]) {
    let mut host = Host::healthy();
    assert_eq!(host.dnload(0, command), Err(UsbError::Stall));
    let s = host.get_status();
    assert_eq!((s.state, s.status), (DfuError, ErrStalledPkt));
    assert_eq!(host.board.violations()[0].rule, Rule::UnsupportedCommand);
}

#[test]
fn wrong_state_is_recorded_as_violation() {
    let mut host = Host::healthy();
    host.upload(2, 16).unwrap();
    assert_eq!(host.dnload(0, &[0x41]), Err(UsbError::Stall));
    let v = host.board.violations();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].rule, Rule::WrongState);
    assert!(
        v[0].detail.contains("DFU_DNLOAD in UploadIdle"),
        "{}",
        v[0].detail
    );
}

#[test]
fn class_requests_to_another_interface_stall_without_state_change() {
    let mut host = Host::healthy();
    let r = host.transfer(setup(0xA1, 3, 0, 1, 6), &[]).result;
    assert_eq!(r, Err(UsbError::Stall));
    assert_eq!(host.get_state(), DfuIdle);
}

#[test]
fn out_data_must_match_wlength() {
    let mut host = Host::healthy();
    let r = host.transfer(setup(0x21, 1, 0, 0, 5), &[0x41]).result;
    assert!(matches!(r, Err(UsbError::Protocol { .. })), "{r:?}");
    assert_eq!(host.board.violations()[0].rule, Rule::LengthMismatch);
    assert_eq!(host.get_state(), DfuIdle);
}
