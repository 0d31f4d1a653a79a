//! Upload, download, verify and leave against the simulated F7 ROM.

use crate::common::*;
use dfuse::{AddressMode, Error, ErrorKind, Left, MemoryLayout, Request, State, TransferErrorKind};
use rstest::rstest;

fn f7() -> MemoryLayout {
    MemoryLayout::parse(F7_LAYOUT).unwrap()
}

#[test]
fn upload_option_bytes_is_one_block_of_32() {
    let mut dfu = host();
    dfu.connect().unwrap();
    let ob = dfu.upload(OB_BASE, OB_SIZE).unwrap();
    assert_eq!(ob, dfu.io().option_bytes);
    let uploads: Vec<(u16, u16)> = dfu
        .io()
        .log
        .iter()
        .filter(|s| s.request == UPLOAD)
        .map(|s| (s.value, s.length))
        .collect();
    assert_eq!(uploads, [(2, 32)]);
    assert!(dfu.io().violations.is_empty(), "{:?}", dfu.io().violations);
}

#[rstest]
#[case::contiguous(AddressMode::Contiguous)]
#[case::per_block(AddressMode::PerBlock)]
fn download_then_verify(#[case] mode: AddressMode) {
    let data = pattern(100_000);
    let mut dfu = host_with(|d| d.flash[0x1_0000] = 0x00);
    dfu.connect().unwrap();
    let address = 0x0800_F000;
    let plan = dfu.download(&f7(), address, &data, mode).unwrap();
    assert_eq!(
        plan.erases,
        [0x0800_8000, 0x0801_0000, 0x0801_8000, 0x0802_0000]
    );
    dfu.verify(address, &data).unwrap();
    let off = (address - FLASH_BASE) as usize;
    assert_eq!(&dfu.io().flash[off..off + data.len()], &data[..]);
    assert!(dfu.io().violations.is_empty(), "{:?}", dfu.io().violations);
    assert_eq!(dfu.io().state, St::Idle);
}

fn transfers_for(len: usize, mode: AddressMode) -> usize {
    let mut dfu = host();
    dfu.connect().unwrap();
    dfu.download(&f7(), FLASH_BASE, &pattern(len), mode)
        .unwrap();
    assert!(dfu.io().violations.is_empty(), "{:?}", dfu.io().violations);
    dfu.io().log.len()
}

#[rstest]
#[case::k64(64 << 10)]
#[case::mib(1 << 20)]
fn contiguous_takes_fewer_transfers_than_dfu_util(#[case] len: usize) {
    let ours = transfers_for(len, AddressMode::Contiguous);
    let dfu_util = transfers_for(len, AddressMode::PerBlock);
    assert!(ours < dfu_util, "{ours} vs {dfu_util}");
    // Per block: the Set Address Pointer command and its two polls are saved.
    let blocks = len / 2048;
    assert_eq!(dfu_util - ours, 3 * (blocks - 1));
}

#[test]
fn a_short_last_block_gets_its_own_address_pointer() {
    let mut dfu = host();
    dfu.download(&f7(), FLASH_BASE, &pattern(5000), AddressMode::Contiguous)
        .unwrap();
    // The one case AN3156 leaves ambiguous (reference notes §1.3): a download never sends it...
    assert_eq!(dfu.io().short_blocks_above_2, 0);
    // ...and neither does the read-back (dfu-util 0.11's upload would).
    dfu.verify(FLASH_BASE, &pattern(5000)).unwrap();
    assert_eq!(dfu.io().short_blocks_above_2, 0);
}

#[test]
fn verify_reports_the_first_mismatch() {
    let data = pattern(10_000);
    let bad = FLASH_BASE + 4321;
    let mut dfu = host_with(|d| d.corrupt_read = Some(bad));
    dfu.download(&f7(), FLASH_BASE, &data, AddressMode::Contiguous)
        .unwrap();
    let err = dfu.verify(FLASH_BASE, &data).unwrap_err();
    let expected = data[4321];
    assert!(
        matches!(err, Error::Verify { address, expected: e, got, mismatches: 1 }
            if address == bad && e == expected && got == !expected),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Verify);
}

#[rstest]
#[case::past_the_end(0x080F_F000, 0x2000)]
#[case::option_bytes_via_flash_layout(OB_BASE, 32)]
fn refused_downloads_send_nothing(#[case] address: u32, #[case] len: usize) {
    let mut dfu = host();
    let err = dfu
        .download(&f7(), address, &pattern(len), AddressMode::Contiguous)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Layout);
    assert!(dfu.io().log.is_empty());
}

#[test]
fn option_bytes_download_has_no_erase() {
    let ob = MemoryLayout::parse(F7_OB_LAYOUT).unwrap();
    let mut dfu = host();
    let mut bytes = dfu.io().option_bytes;
    bytes[1] = 0xBB;
    let plan = dfu
        .download(&ob, OB_BASE, &bytes, AddressMode::Contiguous)
        .unwrap();
    assert!(plan.erases.is_empty());
    assert_eq!(dfu.io().option_bytes, bytes);
}

#[test]
fn upload_of_a_short_block_is_an_error() {
    let mut dfu = scripted(vec![
        (DNLOAD, Ok(vec![])),
        (GETSTATUS, Ok(status(0, 4, 0))),
        (GETSTATUS, Ok(status(0, 5, 0))),
        (ABORT, Ok(vec![])),
        (GETSTATUS, Ok(status(0, 2, 0))),
        (UPLOAD, Ok(vec![0; 10])),
    ]);
    let err = dfu.upload(FLASH_BASE, 16).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ShortUpload {
                expected: 16,
                got: 10,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn leave_sees_manifest() {
    let mut dfu = host();
    dfu.connect().unwrap();
    let left = dfu.leave(Some(FLASH_BASE)).unwrap();
    assert!(matches!(left, Left::Manifest(r) if r.state == State::DfuManifest));
    let dnloads: Vec<(u16, u16)> = dfu
        .io()
        .log
        .iter()
        .filter(|s| s.request == DNLOAD)
        .map(|s| (s.value, s.length))
        .collect();
    assert_eq!(
        dnloads,
        [(0, 5), (2, 0)],
        "Set Address, then the wValue=2 leave"
    );
    assert!(dfu.io().gone);
}

#[test]
fn leave_with_a_device_that_vanishes_at_getstatus() {
    let mut dfu = host_with(|d| d.answer_manifest = false);
    let left = dfu.leave(None).unwrap();
    assert_eq!(
        left,
        Left::Vanished {
            request: Request::GetStatus,
            kind: TransferErrorKind::Io
        }
    );
}

#[test]
fn leave_with_a_device_already_gone() {
    let mut dfu = host_with(|d| d.gone = true);
    let left = dfu.leave(None).unwrap();
    assert_eq!(
        left,
        Left::Vanished {
            request: Request::Dnload,
            kind: TransferErrorKind::Disconnected
        }
    );
}

#[test]
fn leave_refused_by_the_device_is_an_error() {
    let mut dfu = scripted(vec![(DNLOAD, Ok(vec![])), (GETSTATUS, Ok(status(0, 2, 0)))]);
    let err = dfu.leave(None).unwrap_err();
    assert!(matches!(err, Error::UnexpectedState { .. }), "{err:?}");
}

#[test]
fn a_stalled_leave_is_not_taken_for_success() {
    let mut dfu = scripted(vec![(DNLOAD, Err(TransferErrorKind::Stall))]);
    assert_eq!(dfu.leave(None).unwrap_err().kind(), ErrorKind::Stall);
}
