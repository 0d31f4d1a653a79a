//! DFU_GETSTATUS / DFU_GETSTATE decoding: every state and status code, and malformed replies.

use std::time::Duration;

use dfuse::error::ParseError;
use dfuse::status::parse_state;
use dfuse::{parse_status, State, Status, StatusReply};
use proptest::prelude::*;
use rstest::rstest;

#[rstest]
#[case(0, State::AppIdle, "appIDLE")]
#[case(1, State::AppDetach, "appDETACH")]
#[case(2, State::DfuIdle, "dfuIDLE")]
#[case(3, State::DfuDnloadSync, "dfuDNLOAD-SYNC")]
#[case(4, State::DfuDnbusy, "dfuDNBUSY")]
#[case(5, State::DfuDnloadIdle, "dfuDNLOAD-IDLE")]
#[case(6, State::DfuManifestSync, "dfuMANIFEST-SYNC")]
#[case(7, State::DfuManifest, "dfuMANIFEST")]
#[case(8, State::DfuManifestWaitReset, "dfuMANIFEST-WAIT-RESET")]
#[case(9, State::DfuUploadIdle, "dfuUPLOAD-IDLE")]
#[case(10, State::DfuError, "dfuERROR")]
fn every_state_decodes(#[case] byte: u8, #[case] state: State, #[case] name: &str) {
    let reply = parse_status(&[0x00, 0x00, 0x00, 0x00, byte, 0x00]).unwrap();
    assert_eq!(reply.state, state);
    assert_eq!(state.name(), name);
    assert_eq!(parse_state(&[byte]), Ok(state));
}

#[rstest]
#[case(0x00, Status::Ok, "OK")]
#[case(0x01, Status::ErrTarget, "errTARGET")]
#[case(0x02, Status::ErrFile, "errFILE")]
#[case(0x03, Status::ErrWrite, "errWRITE")]
#[case(0x04, Status::ErrErase, "errERASE")]
#[case(0x05, Status::ErrCheckErased, "errCHECK_ERASED")]
#[case(0x06, Status::ErrProg, "errPROG")]
#[case(0x07, Status::ErrVerify, "errVERIFY")]
#[case(0x08, Status::ErrAddress, "errADDRESS")]
#[case(0x09, Status::ErrNotdone, "errNOTDONE")]
#[case(0x0A, Status::ErrFirmware, "errFIRMWARE")]
#[case(0x0B, Status::ErrVendor, "errVENDOR")]
#[case(0x0C, Status::ErrUsbr, "errUSBR")]
#[case(0x0D, Status::ErrPor, "errPOR")]
#[case(0x0E, Status::ErrUnknown, "errUNKNOWN")]
#[case(0x0F, Status::ErrStalledPkt, "errSTALLEDPKT")]
fn every_status_decodes(#[case] byte: u8, #[case] status: Status, #[case] name: &str) {
    let reply = parse_status(&[byte, 0x00, 0x00, 0x00, 0x0A, 0x00]).unwrap();
    assert_eq!(reply.status, status);
    assert_eq!(status.name(), name);
    assert!(!status.description().is_empty());
}

#[rstest]
#[case::zero([0x00, 0x00, 0x00, 0x00, 0x02, 0x00], 0)]
#[case::one_ms([0x00, 0x01, 0x00, 0x00, 0x04, 0x00], 1)]
#[case::little_endian([0x00, 0x64, 0x00, 0x00, 0x04, 0x00], 100)]
#[case::middle_byte([0x00, 0x00, 0x01, 0x00, 0x04, 0x00], 256)]
#[case::high_byte([0x00, 0x00, 0x00, 0x01, 0x04, 0x00], 65536)]
#[case::max_24_bit([0x00, 0xFF, 0xFF, 0xFF, 0x04, 0x00], 0xFF_FFFF)]
fn poll_timeout_is_24_bit_le_ms(#[case] bytes: [u8; 6], #[case] ms: u64) {
    let reply = parse_status(&bytes).unwrap();
    assert_eq!(reply.poll_timeout, Duration::from_millis(ms));
}

#[test]
fn full_reply_fields() {
    let reply = parse_status(&[0x0B, 0x19, 0x00, 0x00, 0x0A, 0x03]).unwrap();
    let expected = StatusReply {
        status: Status::ErrVendor,
        poll_timeout: Duration::from_millis(25),
        state: State::DfuError,
        string_index: 3,
    };
    assert_eq!(reply, expected);
    assert_eq!(reply.to_string(), "errVENDOR dfuERROR poll=25ms");
}

#[rstest]
#[case::empty(&[], ParseError::ShortReply { got: 0, expected: 6 })]
#[case::five(&[0, 0, 0, 0, 2], ParseError::ShortReply { got: 5, expected: 6 })]
#[case::state_11(&[0, 0, 0, 0, 11, 0], ParseError::UnknownState(11))]
#[case::state_ff(&[0, 0, 0, 0, 0xFF, 0], ParseError::UnknownState(0xFF))]
#[case::status_10(&[0x10, 0, 0, 0, 2, 0], ParseError::UnknownStatus(0x10))]
fn malformed_replies(#[case] bytes: &[u8], #[case] error: ParseError) {
    assert_eq!(parse_status(bytes), Err(error));
}

#[test]
fn malformed_state_replies() {
    assert_eq!(
        parse_state(&[]),
        Err(ParseError::ShortReply {
            got: 0,
            expected: 1
        })
    );
    assert_eq!(parse_state(&[42]), Err(ParseError::UnknownState(42)));
}

proptest! {
    #[test]
    fn status_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
        let _ = parse_status(&bytes);
        let _ = parse_state(&bytes);
    }

    #[test]
    fn valid_replies_round_trip(status in 0u8..16, state in 0u8..11, ms in 0u32..0x100_0000, s in any::<u8>()) {
        let [t0, t1, t2, _] = ms.to_le_bytes();
        let bytes = [status, t0, t1, t2, state, s];
        let reply = parse_status(&bytes).unwrap();
        prop_assert_eq!(reply.to_bytes(), bytes);
    }
}
