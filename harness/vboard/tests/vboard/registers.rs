//! The SWD register file for a correct and a misdetected boot.

use crate::common::*;
use rstest::rstest;
use std::time::Duration;
use vboard::registers::*;
use vboard::{Board, BoardConfig, BusFault};

#[rstest]
#[case::correct(config_with(25_000_000, 0.0), 0x2541_3C19)]
#[case::misdetected(misdetecting(), 0x2541_3C18)]
fn register_values(#[case] config: BoardConfig, #[case] pllcfgr: u32) {
    let mut host = Host::new(config, 5);
    let now = host.now;
    let mut read = |addr| host.board.read_u32(now, addr).unwrap();
    assert_eq!(read(RCC_PLLCFGR), pllcfgr);
    assert_eq!(
        read(RCC_CR),
        0x030B_7A83,
        "HSI on, trim 16, cal 0x7A, HSE on/ready, CSS, PLL on/ready"
    );
    assert_eq!(
        read(RCC_CFGR),
        0x001F_100A,
        "RTCPRE 31, APB1 /2, SW = SWS = PLL"
    );
    assert_eq!(read(RCC_CSR), 0x0E00_0000);
    assert_eq!(read(RCC_DCKCFGR2), 0);
    assert_eq!(read(FLASH_ACR), 0x203);
    assert_eq!(read(FLASH_OPTCR), 0xC0FF_AAFD);
    assert_eq!(read(FLASH_OPTCR1), 0x0040_0080);
    assert_eq!(read(DBGMCU_IDCODE), 0x1001_0449);
    assert_eq!(read(UID_BASE), 0x0032_0041);
    assert_eq!(read(UID_BASE + 8), 0x3335_3830);
    assert_eq!(read(FLASHSIZE_WORD) >> 16, 1024);
    assert_eq!(read(BL_ID_WORD) >> 16 & 0xFF, 0x90);
    assert_eq!(read(0x1FFF_0000), 0x5500_AAFF);
    assert_eq!(read(0x0800_0000), 0xFFFF_FFFF);
}

#[rstest]
#[case::correct(config_with(25_000_000, 0.0), 60_000)]
#[case::misdetected(misdetecting(), 62_500)]
fn cyccnt_counts_actual_sysclk(#[case] config: BoardConfig, #[case] per_ms: u32) {
    let mut host = Host::new(config, 5);
    let t = host.now;
    assert_eq!(host.board.read_u32(t, DWT_CYCCNT), Ok(0));
    host.board.write_u32(t, DEMCR, 1 << 24).unwrap();
    host.board.write_u32(t, DWT_CTRL, 1).unwrap();
    host.board.write_u32(t, DWT_CYCCNT, 0).unwrap();
    let later = host
        .board
        .read_u32(t + Duration::from_millis(1), DWT_CYCCNT)
        .unwrap();
    assert!(later.abs_diff(per_ms) <= 1, "{later}");
    host.board.write_u32(t, DWT_CTRL, 0).unwrap();
    let frozen = host
        .board
        .read_u32(t + Duration::from_millis(5), DWT_CYCCNT)
        .unwrap();
    assert_eq!(frozen, 0);
}

/// A core halted in Debug state has no cycles to count: CYCCNT stands still from the halt and counts on from
/// where it stood when the core runs again.
#[test]
fn cyccnt_stands_still_while_the_core_is_halted() {
    use vboard::registers::core::{C_DEBUGEN, C_HALT, DHCSR};
    const DBGKEY: u32 = 0xA05F << 16;
    let mut host = Host::healthy();
    let t = host.now;
    let ms = |n| t + Duration::from_millis(n);
    host.board.write_u32(t, DEMCR, 1 << 24).unwrap();
    host.board.write_u32(t, DWT_CTRL, 1).unwrap();
    host.board.write_u32(t, DWT_CYCCNT, 0).unwrap();
    host.board
        .write_u32(ms(1), DHCSR, DBGKEY | C_DEBUGEN | C_HALT)
        .unwrap();
    let at_halt = host.board.read_u32(ms(1), DWT_CYCCNT).unwrap();
    assert!(at_halt.abs_diff(60_000) <= 1, "{at_halt}");
    assert_eq!(host.board.read_u32(ms(4), DWT_CYCCNT), Ok(at_halt));
    host.board
        .write_u32(ms(4), DHCSR, DBGKEY | C_DEBUGEN)
        .unwrap();
    let after = host.board.read_u32(ms(5), DWT_CYCCNT).unwrap();
    assert!(after.abs_diff(120_000) <= 2, "{after}");
}

#[test]
fn reset_flags_follow_the_reset_kind() {
    let mut host = Host::healthy();
    let t = host.now;
    host.board.write_u32(t, RCC_CSR, 1 << 24).unwrap();
    assert_eq!(host.board.read_u32(t, RCC_CSR), Ok(0));
    host.board.reset_pin(t);
    assert_eq!(host.board.read_u32(t, RCC_CSR), Ok(0x0400_0000));
}

#[test]
fn faults_for_bad_accesses() {
    let mut board = Board::new(BoardConfig::healthy_default(), 1);
    let t = Duration::ZERO;
    assert_eq!(board.read_u32(t, RCC_CR), Err(BusFault::PoweredOff));
    board.power_on(t);
    assert_eq!(
        board.read_u32(t, RCC_CR + 2),
        Err(BusFault::Unaligned { addr: RCC_CR + 2 })
    );
    assert_eq!(
        board.read_u32(t, 0x6000_0000),
        Err(BusFault::Unmapped { addr: 0x6000_0000 })
    );
    assert_eq!(
        board.read_u32(t, 0xFFFF_FFFC),
        Err(BusFault::Unmapped { addr: 0xFFFF_FFFC })
    );
    assert_eq!(
        board.write_u32(t, RCC_CR, 0),
        Err(BusFault::ReadOnly { addr: RCC_CR })
    );
    assert_eq!(
        board.write_u32(t, 0x6000_0000, 0),
        Err(BusFault::Unmapped { addr: 0x6000_0000 })
    );
}

#[test]
fn user_code_boot_shows_reset_clocks() {
    let mut board = Board::new(BoardConfig::healthy_default(), 1);
    board.set_boot0(false);
    board.power_on(Duration::ZERO);
    assert!(board.boot().is_none());
    assert!(!board.attached(Duration::from_secs(1)));
    assert_eq!(board.read_u32(Duration::ZERO, RCC_PLLCFGR), Ok(0x2400_3010));
    assert_eq!(board.read_u32(Duration::ZERO, RCC_CR), Ok(0x0000_7A83));
}
