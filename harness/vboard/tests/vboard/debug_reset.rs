//! The debugger's intrusive reset (`Board::reset_halt_run_from`): the ROM does not run, the clocks stay at
//! their reset values, CYCCNT counts at HSI, and the next pin reset brings the bootloader back.

use crate::common::*;
use std::time::Duration;
use vboard::registers::*;
use vboard::RunMode;

const SPIN: u32 = 0x2004_C000;

#[test]
fn spin_loop_runs_at_reset_clocks_and_cyccnt_counts_hsi() {
    let mut host = Host::new(config_with(25_000_000, 12_000.0), 3);
    let t = host.now;
    host.board.write_u32(t, DEMCR, 1 << 24).unwrap();
    host.board.write_u32(t, DWT_CTRL, 1).unwrap();
    host.board.reset_halt_run_from(t, SPIN);
    assert!(host.board.boot().is_none());
    assert!(!host.board.attached(t + Duration::from_secs(1)));
    assert_eq!(
        host.board.mode(),
        RunMode::Application { vector_table: SPIN }
    );
    assert_eq!(host.board.read_u32(t, RCC_PLLCFGR), Ok(0x2400_3010));
    assert_eq!(host.board.read_u32(t, RCC_CSR), Ok(0x0E00_0000));
    let start = host.board.read_u32(t, DWT_CYCCNT).unwrap();
    let later = t + Duration::from_millis(10);
    let cycles = host
        .board
        .read_u32(later, DWT_CYCCNT)
        .unwrap()
        .wrapping_sub(start);
    assert!(
        cycles.abs_diff(161_920) <= 1,
        "HSI +1.2 % for 10 ms: {cycles}"
    );
}

#[test]
fn a_pin_reset_afterwards_starts_the_bootloader_again() {
    let mut host = Host::healthy();
    let t = host.now;
    host.board.reset_halt_run_from(t, SPIN);
    let boots = host.board.stats().boots;
    host.board.reset_pin(t);
    assert_eq!(host.board.stats().boots, boots + 1);
    assert_eq!(host.board.mode(), RunMode::Bootloader);
    assert_eq!(host.board.boot().map(|b| b.pll.m), Some(25));
    host.wait_attached();
    assert!(host.board.attached(host.now));
}

#[test]
fn no_effect_while_off() {
    let mut board = vboard::Board::new(vboard::BoardConfig::healthy_default(), 1);
    board.reset_halt_run_from(Duration::ZERO, SPIN);
    assert_eq!(board.mode(), RunMode::Off);
    assert_eq!(board.stats().boots, 0);
}
