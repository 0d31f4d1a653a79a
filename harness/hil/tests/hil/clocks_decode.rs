//! Pure decoding and deriving, table-tested from register words written out by hand (RM0385 bit positions as
//! in the reference notes §4), independent of the virtual board's register code.

use hil::clocks::{
    derive, expected_serial, ClockSnapshot, ClockSource, OptionBytesCheck, OptionBytesRegs,
    PllSource, RawRegisters, SerialCheck, TargetDescription, UsbClockSource, Verdict,
};
use rstest::rstest;

/// HSI on/ready, HSITRIM 16, HSICAL 0x7A: the reset value with this chip's factory byte.
const CR_RESET: u32 = 0x0000_7A83;
/// CR_RESET + HSE on/ready + CSS on + PLL on/ready.
const CR_BOOTLOADER: u32 = 0x030B_7A83;
/// RTCPRE 31, APB1 /2, SW = SWS = PLL.
const CFGR_BOOTLOADER: u32 = 0x001F_100A;
/// PLLSRC = HSE, N 240, P /4, Q 5, reserved bit 29; PLLM in the low bits.
const PLLCFGR_M0: u32 = 0x2541_3C00;

fn snapshot(cr: u32, pllcfgr: u32, cfgr: u32) -> ClockSnapshot {
    let raw = RawRegisters {
        rcc_cr: cr,
        rcc_pllcfgr: pllcfgr,
        rcc_cfgr: cfgr,
        rcc_csr: 0x0E00_0000,
        rcc_dckcfgr2: 0,
        flash_acr: 0x203,
        flash_optcr: 0xC0FF_AAFD,
        flash_optcr1: 0x0040_0080,
        dbgmcu_idcode: 0x1001_0449,
        uid: [0x0032_0041, 0x3436_5118, 0x3335_3830],
        flash_size_kb: 1024,
        bootloader_id: 0x90,
    };
    ClockSnapshot::decode(raw, &TargetDescription::stm32f7())
}

#[derive(Debug)]
struct Want {
    verdict: Verdict,
    detected_mhz: Option<u32>,
    sysclk_hz: f64,
    usb_hz: Option<f64>,
    usb_ppm: Option<f64>,
    in_tolerance: Option<bool>,
    hse_error_mhz: Option<i32>,
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

#[rstest]
#[case::reset_values(CR_RESET, 0x2400_3010, 0, 25e6, Want {
    verdict: Verdict::NotConfigured, detected_mhz: None, sysclk_hz: 16e6,
    usb_hz: None, usb_ppm: None, in_tolerance: None, hse_error_mhz: None })]
#[case::correct_25(CR_BOOTLOADER, PLLCFGR_M0 | 25, CFGR_BOOTLOADER, 25e6, Want {
    verdict: Verdict::Correct, detected_mhz: Some(25), sysclk_hz: 60e6,
    usb_hz: Some(48e6), usb_ppm: Some(0.0), in_tolerance: Some(true), hse_error_mhz: Some(0) })]
#[case::misdetected_25_as_24(CR_BOOTLOADER, PLLCFGR_M0 | 24, CFGR_BOOTLOADER, 25e6, Want {
    verdict: Verdict::Misdetected, detected_mhz: Some(24), sysclk_hz: 62.5e6,
    usb_hz: Some(50e6), usb_ppm: Some(41_666.666_666_7), in_tolerance: Some(false), hse_error_mhz: Some(-1) })]
#[case::misdetected_25_as_26(CR_BOOTLOADER, PLLCFGR_M0 | 26, CFGR_BOOTLOADER, 25e6, Want {
    verdict: Verdict::Misdetected, detected_mhz: Some(26), sysclk_hz: 25e6 / 26.0 * 60.0,
    usb_hz: Some(25e6 / 26.0 * 48.0), usb_ppm: Some(-38_461.538_461_5), in_tolerance: Some(false),
    hse_error_mhz: Some(1) })]
#[case::misdetected_24_as_23(CR_BOOTLOADER, PLLCFGR_M0 | 23, CFGR_BOOTLOADER, 24e6, Want {
    verdict: Verdict::Misdetected, detected_mhz: Some(23), sysclk_hz: 24e6 / 23.0 * 60.0,
    usb_hz: Some(24e6 / 23.0 * 48.0), usb_ppm: Some(43_478.260_869_6), in_tolerance: Some(false),
    hse_error_mhz: Some(-1) })]
#[case::misdetected_24_as_25(CR_BOOTLOADER, PLLCFGR_M0 | 25, CFGR_BOOTLOADER, 24e6, Want {
    verdict: Verdict::Misdetected, detected_mhz: Some(25), sysclk_hz: 57.6e6,
    usb_hz: Some(46.08e6), usb_ppm: Some(-40_000.0), in_tolerance: Some(false), hse_error_mhz: Some(1) })]
#[case::hse_bypass(CR_BOOTLOADER | 1 << 18, PLLCFGR_M0 | 8, CFGR_BOOTLOADER, 8e6, Want {
    verdict: Verdict::Correct, detected_mhz: Some(8), sysclk_hz: 60e6,
    usb_hz: Some(48e6), usb_ppm: Some(0.0), in_tolerance: Some(true), hse_error_mhz: Some(0) })]
#[case::pll_off_on_hse(0x000B_7A83, PLLCFGR_M0 | 25, 0x0000_0005, 25e6, Want {
    verdict: Verdict::NotConfigured, detected_mhz: None, sysclk_hz: 25e6,
    usb_hz: None, usb_ppm: None, in_tolerance: None, hse_error_mhz: None })]
#[case::slightly_fast_crystal_in_tolerance(CR_BOOTLOADER, PLLCFGR_M0 | 25, CFGR_BOOTLOADER, 25.0025e6, Want {
    verdict: Verdict::Correct, detected_mhz: Some(25), sysclk_hz: 60.006e6,
    usb_hz: Some(48.0048e6), usb_ppm: Some(100.0), in_tolerance: Some(true), hse_error_mhz: Some(0) })]
fn derive_table(
    #[case] cr: u32,
    #[case] pllcfgr: u32,
    #[case] cfgr: u32,
    #[case] true_hse_hz: f64,
    #[case] want: Want,
) {
    let d = derive(&snapshot(cr, pllcfgr, cfgr), true_hse_hz);
    assert_eq!(d.verdict, want.verdict);
    assert_eq!(d.detected_hse_hz, want.detected_mhz.map(|m| m * 1_000_000));
    assert!(close(d.sysclk_hz, want.sysclk_hz), "SYSCLK {}", d.sysclk_hz);
    assert_eq!(d.usb_clock_hz.is_some(), want.usb_hz.is_some());
    if let (Some(got), Some(w)) = (d.usb_clock_hz, want.usb_hz) {
        assert!(close(got, w), "USB {got}");
    }
    if let (Some(got), Some(w)) = (d.usb_clock_error_ppm, want.usb_ppm) {
        assert!((got - w).abs() < 1e-3, "ppm {got}");
    }
    assert_eq!(d.usb_in_tolerance, want.in_tolerance);
    assert_eq!(d.hse_error_mhz, want.hse_error_mhz);
}

#[test]
fn reset_values_decode_field_by_field() {
    let s = snapshot(CR_RESET, 0x2400_3010, 0);
    let r = &s.rcc;
    assert!(r.hsi_on && r.hsi_ready && !r.hse_on && !r.pll_on && !r.css_on);
    assert_eq!((r.hsitrim, r.hsical), (16, 0x7A));
    assert_eq!(r.pll.source, PllSource::Hsi);
    assert_eq!((r.pll.m, r.pll.n, r.pll.p, r.pll.q), (16, 192, 2, 4));
    assert_eq!(r.sysclk_source, ClockSource::Hsi);
    assert_eq!((r.ahb_div, r.apb1_div, r.apb2_div, r.rtcpre), (1, 1, 1, 0));
    assert_eq!(r.usb_clock_source, UsbClockSource::PllQ);
    assert_eq!(r.reset_flags.names(), ["POR", "PIN", "BOR"]);
    assert_eq!(
        (s.flash.latency_ws, s.flash.art, s.flash.prefetch),
        (3, true, false)
    );
    let id = &s.identity;
    assert_eq!(
        (id.dev_id, id.revision, id.flash_size_kb),
        (0x449, "Z", 1024)
    );
    assert_eq!(id.bootloader_version, "V9.0");
}

#[rstest]
#[case::reset(0x0000_0000, ClockSource::Hsi, ClockSource::Hsi, 1, 1, 1)]
#[case::bootloader(CFGR_BOOTLOADER, ClockSource::Pll, ClockSource::Pll, 1, 2, 1)]
#[case::slow_buses(0x0000_D495, ClockSource::Hse, ClockSource::Hse, 4, 4, 8)]
#[case::largest(0x0000_FCFF, ClockSource::Invalid, ClockSource::Invalid, 512, 16, 16)]
#[case::ahb_64(0x0000_00C8, ClockSource::Hsi, ClockSource::Pll, 64, 1, 1)]
fn cfgr_table(
    #[case] cfgr: u32,
    #[case] switch: ClockSource,
    #[case] status: ClockSource,
    #[case] ahb: u16,
    #[case] apb1: u8,
    #[case] apb2: u8,
) {
    let r = snapshot(CR_RESET, 0x2400_3010, cfgr).rcc;
    assert_eq!((r.sysclk_switch, r.sysclk_source), (switch, status));
    assert_eq!((r.ahb_div, r.apb1_div, r.apb2_div), (ahb, apb1, apb2));
}

#[rstest]
#[case::healthy_board([0x0032_0041, 0x3436_5118, 0x3335_3830], Some("336738713436"))]
#[case::crystal_board([0x001F_0027, 0x3235_510E, 0x3938_3631], Some("395736583235"))]
#[case::carry_out_of_bit_31([0xFFFF_0040, 0x3136_5117, 0x0002_003C], Some("0001007C3136"))]
#[case::carry_between_bytes([0x0000_00FF, 0xABCD_0000, 0x0000_0001], Some("00000100ABCD"))]
#[case::zero_sum_leaves_it_unset([0x0000_0001, 0x1234_5678, 0xFFFF_FFFF], None)]
fn serial_formula(#[case] uid: [u32; 3], #[case] want: Option<&str>) {
    assert_eq!(expected_serial(uid).as_deref(), want);
}

#[rstest]
#[case::same(Some("336738713436"), Some(true))]
#[case::byte_wise_variant(Some("336738713434"), Some(false))]
#[case::unreadable(None, None)]
fn serial_comparison(#[case] reported: Option<&str>, #[case] matches: Option<bool>) {
    let uid = [0x0032_0041, 0x3436_5118, 0x3335_3830];
    let check = SerialCheck::new(uid, reported.map(str::to_string));
    assert_eq!(check.matches, matches);
}

/// The factory option-byte block as DFU reads it (reference notes §4.3), reserved words 0xFF.
fn factory_ob() -> Vec<u8> {
    let words: [u32; 8] = [
        0x5500_AAFF,
        0xFFFF_FFFF,
        0x0000_FFFF,
        0xFFFF_FFFF,
        0xFF7F_0080,
        0xFFFF_FFFF,
        0xFFBF_0040,
        0xFFFF_FFFF,
    ];
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

#[rstest]
#[case::factory(0xC0FF_AAFD, 0x0040_0080, |_: &mut Vec<u8>| {}, vec![])]
#[case::rdp_differs(0xC0FF_BBFD, 0x0040_0080, |_: &mut Vec<u8>| {}, vec!["RDP: OPTCR 0xBB, DFU 0xAA"])]
#[case::boot_add1_differs(0xC0FF_AAFD, 0x0080_0080, |_: &mut Vec<u8>| {}, vec!["BOOT_ADD1: OPTCR 0x0080, DFU 0x0040"])]
#[case::corrupted_complement(0xC0FF_AAFD, 0x0040_0080, |b: &mut Vec<u8>| b[3] = 0x54,
    vec!["DFU word at +0x00 (0x5400AAFF): upper half is not the complement"])]
#[case::short_upload(0xC0FF_AAFD, 0x0040_0080, |b: &mut Vec<u8>| b.truncate(16), vec!["DFU returned 16 bytes, expected 32"])]
#[case::user_bits(0xC0FF_AA7D, 0x0040_0080, |_: &mut Vec<u8>| {}, vec!["USER[7:2]: OPTCR 0x7C, DFU 0xFC"])]
fn option_bytes_against_dfu(
    #[case] optcr: u32,
    #[case] optcr1: u32,
    #[case] edit: fn(&mut Vec<u8>),
    #[case] want: Vec<&str>,
) {
    let mut ob = factory_ob();
    edit(&mut ob);
    let check = OptionBytesCheck::compare(&OptionBytesRegs::decode(optcr, optcr1), &ob);
    assert_eq!(check.mismatches, want);
    assert_eq!(check.matches, want.is_empty());
}

#[rstest]
#[case::factory(0xC0FF_AAFD, 0, "off", true, 0xFF, (0x0080, 0x0040))]
#[case::level_1_bor_3(0x00FE_1203, 1, "level 3", false, 0xFE, (0x0080, 0x0040))]
#[case::level_2(0xC0FF_CCF9, 2, "level 1", true, 0xFF, (0x0080, 0x0040))]
fn option_register_decoding(
    #[case] optcr: u32,
    #[case] rdp_level: u8,
    #[case] bor: &str,
    #[case] iwdg_stop: bool,
    #[case] nwrp: u8,
    #[case] boot: (u16, u16),
) {
    let o = OptionBytesRegs::decode(optcr, 0x0040_0080);
    assert_eq!(o.rdp_level, rdp_level);
    assert_eq!(o.bor_name(), bor);
    assert_eq!((o.iwdg_stop, o.nwrp), (iwdg_stop, nwrp));
    assert_eq!((o.boot_add0, o.boot_add1), boot);
}
