//! SETUP packets of the DFU requests and the DfuSe command payloads.

use dfuse::error::ParseError;
use dfuse::request::{self, Command, Request};
use dfuse::Setup;
use proptest::prelude::*;
use rstest::rstest;

#[rstest]
#[case::detach(request::detach(0, 1000), [0x21, 0x00, 0xE8, 0x03, 0x00, 0x00, 0x00, 0x00])]
#[case::dnload(request::dnload(0, 2, 2048), [0x21, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x08])]
#[case::upload(request::upload(0, 3, 32), [0xA1, 0x02, 0x03, 0x00, 0x00, 0x00, 0x20, 0x00])]
#[case::get_status(request::get_status(0), [0xA1, 0x03, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00])]
#[case::clear_status(request::clear_status(1), [0x21, 0x04, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00])]
#[case::get_state(request::get_state(0), [0xA1, 0x05, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00])]
#[case::abort(request::abort(2), [0x21, 0x06, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00])]
fn setup_packets(#[case] setup: Setup, #[case] wire: [u8; 8]) {
    assert_eq!(setup.to_bytes(), wire);
}

#[rstest]
#[case(Request::Detach, "DFU_DETACH")]
#[case(Request::Dnload, "DFU_DNLOAD")]
#[case(Request::Upload, "DFU_UPLOAD")]
#[case(Request::GetStatus, "DFU_GETSTATUS")]
#[case(Request::ClrStatus, "DFU_CLRSTATUS")]
#[case(Request::GetState, "DFU_GETSTATE")]
#[case(Request::Abort, "DFU_ABORT")]
fn request_names(#[case] r: Request, #[case] name: &str) {
    assert_eq!(r.name(), name);
}

#[test]
fn command_payloads() {
    assert_eq!(
        request::set_address_pointer(0x0800_4000),
        [0x21, 0x00, 0x40, 0x00, 0x08]
    );
    assert_eq!(
        request::erase_sector(0x0804_0000),
        [0x41, 0x00, 0x00, 0x04, 0x08]
    );
    assert_eq!(request::mass_erase(), [0x41]);
    assert_eq!(request::read_unprotect(), [0x92]);
    assert_eq!(
        Command::SetAddress(0x1FFF_0000).to_string(),
        "SET_ADDRESS 0x1fff0000"
    );
}

#[rstest]
#[case::f7(&[0x00, 0x21, 0x41, 0x92], Ok(vec![0x00, 0x21, 0x41, 0x92]))]
#[case::empty(&[], Err(ParseError::ShortReply { got: 0, expected: 1 }))]
#[case::bad_first(&[0x21, 0x41], Err(ParseError::BadCommandList(0x21)))]
fn get_commands(#[case] bytes: &[u8], #[case] expected: Result<Vec<u8>, ParseError>) {
    let parsed = request::parse_get_commands(bytes).map(|c| c.opcodes);
    assert_eq!(parsed, expected);
}

proptest! {
    #[test]
    fn command_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..8)) {
        if let Some(c) = Command::decode(&bytes) {
            prop_assert_eq!(c.encode(), bytes.clone());
        }
        let _ = request::parse_get_commands(&bytes);
    }
}
