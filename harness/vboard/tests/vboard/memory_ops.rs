//! Erase, write, read, option bytes, OTP, read protection and the time each takes.

use std::time::Duration;

use crate::common::*;
use rstest::rstest;
use vboard::{DfuState, DfuStatus, Rule, UsbError};

#[test]
fn factory_option_bytes() {
    let mut host = Host::healthy();
    let expected = [
        0xFF, 0xAA, 0x00, 0x55, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
        0xFF, //
        0x80, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x40, 0x00, 0xBF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF,
    ];
    assert_eq!(host.board.option_bytes(), expected);
    assert_eq!(host.read(OB, 32).unwrap(), expected);
}

#[rstest]
#[case::sector0_32k(0x0800_0000, 400)]
#[case::sector3_32k(0x0801_FFFF, 400)]
#[case::sector4_128k(0x0802_0000, 1100)]
#[case::sector7_256k(0x080F_FFFC, 2000)]
fn sector_erase_reports_its_time(#[case] addr: u32, #[case] ms: u32) {
    let mut host = Host::healthy();
    let (busy, done) = host.erase(addr);
    assert_eq!((busy.state, busy.poll_ms), (DfuState::DnBusy, ms));
    assert_eq!(
        (done.state, done.status),
        (DfuState::DnloadIdle, DfuStatus::Ok)
    );
    assert!(host.board.violations().is_empty());
}

#[test]
fn mass_erase_takes_the_mass_erase_time() {
    let mut host = Host::healthy();
    let (busy, done) = host.command(&[0x41]);
    assert_eq!(busy.poll_ms, 16_000);
    assert_eq!(done.status, DfuStatus::Ok);
}

#[test]
fn write_needs_erase_first() {
    let mut host = Host::healthy();
    let image: Vec<u8> = (0..2048).map(|i| (i * 7) as u8).collect();
    assert_eq!(host.write(FLASH, &image).status, DfuStatus::Ok);
    assert_eq!(&host.board.flash()[..2048], &image[..]);
    let s = host.write(FLASH, &image[..8]);
    assert_eq!(s.status, DfuStatus::Ok, "1 -> 1 and 0 -> 0 need no erase");
    let s = host.write(FLASH + 8, &[0xFF; 8]);
    assert_eq!(
        (s.state, s.status),
        (DfuState::DfuError, DfuStatus::ErrProg)
    );
    assert_eq!(host.board.violations()[0].rule, Rule::NotErased);
    host.clr_status().unwrap();
    host.erase(FLASH);
    assert_eq!(host.write(FLASH + 8, &[0xFF; 8]).status, DfuStatus::Ok);
}

#[test]
fn write_time_is_byte_wide_programming() {
    let mut host = Host::healthy();
    host.set_address(FLASH);
    host.dnload(2, &[0x5A; 2048]).unwrap();
    let busy = host.get_status();
    assert_eq!(busy.poll_ms, 33, "2048 bytes x 16 us, rounded up");
}

#[test]
fn requests_wait_while_the_flash_is_busy() {
    let mut host = Host::healthy();
    host.dnload(0, &[0x41, 0, 0, 0, 8]).unwrap();
    let busy = host.get_status();
    let asked = host.now;
    let early = host.transfer(setup(0xA1, 3, 0, 0, 6), &[]);
    assert!(early.done_at >= asked + Duration::from_millis(u64::from(busy.poll_ms)));
    assert_eq!(
        parse_status(&early.result.unwrap()).state,
        DfuState::DnloadIdle
    );
    assert_eq!(host.board.violations()[0].rule, Rule::PolledEarly);
}

#[test]
fn block_numbers_address_from_the_pointer() {
    let mut host = Host::healthy();
    let image: Vec<u8> = (0..6144u32).map(|i| (i % 251) as u8).collect();
    assert!(host.board.load_flash(0x0800_4000, &image));
    host.set_address(0x0800_4000);
    host.abort().unwrap();
    let blocks: Vec<u8> = (2..5).flat_map(|b| host.upload(b, 2048).unwrap()).collect();
    assert_eq!(blocks, image);
    assert!(host.board.violations().is_empty());
}

#[test]
fn short_blocks_beyond_block_2_are_flagged_but_served() {
    let mut host = Host::healthy();
    host.set_address(FLASH);
    host.abort().unwrap();
    assert_eq!(host.upload(3, 100).unwrap().len(), 100);
    let v = host.board.violations();
    assert_eq!(v[0].rule, Rule::TransferSizeUnverified);
    host.abort().unwrap();
    host.dnload(3, &[0u8; 16]).unwrap();
    host.get_status();
    host.sleep(1);
    assert_eq!(host.get_status().status, DfuStatus::Ok);
    assert_eq!(&host.board.flash()[2048..2064], &[0u8; 16]);
}

#[rstest]
#[case::unmapped_set_address(0x3000_0000)]
#[case::past_flash_end(0x0810_0000)]
fn bad_addresses_are_errtarget(#[case] addr: u32) {
    let mut host = Host::healthy();
    let s = host.set_address(addr);
    assert_eq!(
        (s.state, s.status),
        (DfuState::DfuError, DfuStatus::ErrTarget)
    );
}

#[rstest]
#[case::erase_option_bytes(OB)]
#[case::erase_otp(OTP)]
#[case::erase_outside(0x2000_0000)]
fn only_flash_can_be_erased(#[case] addr: u32) {
    let mut host = Host::healthy();
    let (_, done) = host.erase(addr);
    assert_eq!(
        (done.state, done.status),
        (DfuState::DfuError, DfuStatus::ErrTarget)
    );
}

#[test]
fn misaligned_or_out_of_range_writes_are_errtarget() {
    let mut host = Host::healthy();
    assert_eq!(host.write(FLASH + 4, &[0; 8]).status, DfuStatus::ErrTarget);
    host.clr_status().unwrap();
    assert_eq!(
        host.write(0x080F_FFF8, &[0; 16]).status,
        DfuStatus::ErrTarget
    );
}

#[test]
fn option_byte_write_applies_then_resets() {
    let mut host = Host::healthy();
    let mut ob = host.board.option_bytes();
    ob[16] = 0x00; // BOOT_ADD0 = 0x2000 -> 0x08000000
    ob[17] = 0x20;
    host.set_address(OB);
    host.dnload(2, &ob).unwrap();
    let busy = host.get_status();
    assert_eq!((busy.state, busy.poll_ms), (DfuState::DnBusy, 100));
    assert_eq!(
        host.try_get_status(),
        Err(UsbError::Disconnected),
        "no second GETSTATUS answer"
    );
    assert_eq!(
        &host.board.option_bytes()[16..20],
        &[0x00, 0x20, 0xFF, 0xDF]
    );
    let boots = host.board.stats().boots;
    host.wait_attached();
    assert_eq!(host.board.stats().boots, boots);
    assert_eq!(
        host.board.boot().unwrap().cause,
        vboard::ResetCause::Software
    );
    assert_eq!(host.board.read_u32(host.now, 0x4002_3C18), Ok(0x0040_2000));
}

#[rstest]
#[case::wrong_length(OB, 16)]
#[case::wrong_start(OB + 8, 24)]
fn option_bytes_take_only_the_whole_block(#[case] addr: u32, #[case] len: usize) {
    let mut host = Host::healthy();
    let s = host.write(addr, &vec![0xFF; len]);
    assert_eq!(s.status, DfuStatus::ErrTarget);
}

#[test]
fn read_protection_refuses_flash_and_unprotect_clears_it() {
    let mut host = Host::healthy();
    host.board.load_flash(FLASH, &[0x12; 64]);
    let mut ob = host.board.option_bytes();
    ob[1] = 0xBB;
    host.set_address(OB);
    host.dnload(2, &ob).unwrap();
    assert_eq!(host.get_status().state, DfuState::DnBusy);
    host.wait_attached();
    assert_eq!(host.read(FLASH, 64), Err(UsbError::Stall));
    let s = host.get_status();
    assert_eq!(
        (s.state, s.status),
        (DfuState::DfuError, DfuStatus::ErrVendor)
    );
    host.clr_status().unwrap();
    assert_eq!(
        host.read(OB, 32).unwrap()[1],
        0xBB,
        "option bytes stay readable"
    );
    assert_eq!(host.erase(FLASH).1.status, DfuStatus::ErrVendor);
    host.clr_status().unwrap();
    host.dnload(0, &[0x92]).unwrap();
    let busy = host.get_status();
    assert_eq!(busy.state, DfuState::DnBusy);
    assert_eq!(host.try_get_status(), Err(UsbError::Disconnected));
    host.wait_attached();
    assert_eq!(host.board.option_bytes()[1], 0xAA);
    assert!(host.board.flash().iter().all(|&b| b == 0xFF));
}

#[test]
fn otp_bits_only_clear_and_locks_hold() {
    let mut host = Host::healthy();
    assert_eq!(host.write(OTP, &[0xF0; 8]).status, DfuStatus::Ok);
    assert_eq!(host.write(OTP, &[0x0F; 8]).status, DfuStatus::ErrProg);
    host.clr_status().unwrap();
    assert_eq!(
        host.read(OTP, 8).unwrap(),
        vec![0x00; 8],
        "cells end as old AND new"
    );
    assert_eq!(
        host.write(
            OTP + 1024,
            &[0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        )
        .status,
        DfuStatus::Ok
    );
    assert_eq!(
        host.write(OTP + 8, &[0x00; 8]).status,
        DfuStatus::ErrWrite,
        "block 0 locked"
    );
    host.clr_status().unwrap();
    assert_eq!(
        host.write(OTP + 64, &[0x00; 8]).status,
        DfuStatus::Ok,
        "block 1 open"
    );
}

#[test]
fn device_feature_reads_and_writes() {
    let mut host = Host::healthy();
    assert_eq!(
        host.read(0xFFFF_0000, 4).unwrap(),
        vec![0x00, 0xFF, 0xFF, 0xFF]
    );
    assert_eq!(
        host.write(0xFFFF_0000, &[0x03, 0, 0, 0]).status,
        DfuStatus::Ok
    );
    assert_eq!(
        host.read(0xFFFF_0000, 4).unwrap(),
        vec![0x03, 0xFF, 0xFF, 0xFF]
    );
    assert_eq!(
        host.write(0xFFFF_0000, &[0x05, 0xFF, 0xFF, 0xFF]).status,
        DfuStatus::ErrTarget
    );
}
