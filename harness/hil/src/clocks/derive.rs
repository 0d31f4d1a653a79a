//! From a [`ClockSnapshot`] and the board's true HSE frequency to the numbers a hardware engineer reasons
//! with: the HSE the bootloader believed (PLLM × the 1 MHz PLL input it aims for), SYSCLK, the bus clocks,
//! the USB 48 MHz clock and its error, and a verdict. Pure, flat and serializable: one record per reading.

use records::HseVerdict as Verdict;
use serde::Serialize;

use super::decode::{ClockSource, PllSource, UsbClockSource};
use super::ClockSnapshot;

/// USB full-speed clock, Hz.
const USB_HZ: f64 = 48_000_000.0;

/// The derived numbers; flat so that a CSV row can hold them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Derived {
    pub true_hse_hz: f64,
    pub pll_on: bool,
    pub pll_from_hse: bool,
    pub pllm: u8,
    pub plln: u16,
    pub pllp: u8,
    pub pllq: u8,
    /// The HSE frequency the bootloader believed: PLLM × its target PLL input (1 MHz). None when the PLL
    /// does not run from HSE.
    pub detected_hse_hz: Option<u32>,
    /// The PLL input with the true HSE (HSE / PLLM), Hz.
    pub pll_input_hz: f64,
    pub sysclk_source: ClockSource,
    pub sysclk_hz: f64,
    pub hclk_hz: f64,
    pub pclk1_hz: f64,
    pub pclk2_hz: f64,
    pub usb_clock_source: UsbClockSource,
    /// PLL48CLK from PLL Q; None when the PLL is off or USB runs from PLLSAI (not read).
    pub usb_clock_hz: Option<f64>,
    pub usb_clock_error_ppm: Option<f64>,
    pub usb_tolerance_ppm: f64,
    pub usb_in_tolerance: Option<bool>,
    pub hsitrim: u8,
    pub hsical: u8,
    pub verdict: Verdict,
    /// Detected minus true HSE, whole MHz (−1 for 25 → 24).
    pub hse_error_mhz: Option<i32>,
}

/// Derives the numbers for a board whose HSE really runs at `true_hse_hz`.
pub fn derive(s: &ClockSnapshot, true_hse_hz: f64) -> Derived {
    let (rcc, target) = (&s.rcc, &s.target);
    let pll = rcc.pll;
    let pll_from_hse = rcc.pll_on && pll.source == PllSource::Hse;
    let pll_in = match pll.source {
        PllSource::Hse => true_hse_hz,
        PllSource::Hsi => f64::from(target.hsi_hz),
    };
    let vco = pll_in / f64::from(pll.m.max(1)) * f64::from(pll.n);
    let sysclk_hz = match rcc.sysclk_source {
        ClockSource::Hsi => f64::from(target.hsi_hz),
        ClockSource::Hse => true_hse_hz,
        ClockSource::Pll => vco / f64::from(pll.p),
        ClockSource::Invalid => f64::NAN,
    };
    let usb_clock_hz = (rcc.pll_on && rcc.usb_clock_source == UsbClockSource::PllQ && pll.q >= 2)
        .then(|| vco / f64::from(pll.q));
    let usb_clock_error_ppm = usb_clock_hz.map(|f| (f / USB_HZ - 1.0) * 1e6);
    let tolerance = target.usb_tolerance_ppm;
    let detected_hse_hz = pll_from_hse.then(|| u32::from(pll.m) * target.pll_input_hz);
    let hse_error_mhz = detected_hse_hz.map(|d| mhz(f64::from(d)) - mhz(true_hse_hz));
    let hclk_hz = sysclk_hz / f64::from(rcc.ahb_div);
    Derived {
        true_hse_hz,
        pll_on: rcc.pll_on,
        pll_from_hse,
        pllm: pll.m,
        plln: pll.n,
        pllp: pll.p,
        pllq: pll.q,
        detected_hse_hz,
        pll_input_hz: pll_in / f64::from(pll.m.max(1)),
        sysclk_source: rcc.sysclk_source,
        sysclk_hz,
        hclk_hz,
        pclk1_hz: hclk_hz / f64::from(rcc.apb1_div),
        pclk2_hz: hclk_hz / f64::from(rcc.apb2_div),
        usb_clock_source: rcc.usb_clock_source,
        usb_clock_hz,
        usb_clock_error_ppm,
        usb_tolerance_ppm: tolerance,
        usb_in_tolerance: usb_clock_error_ppm.map(|e| e.abs() <= tolerance),
        hsitrim: rcc.hsitrim,
        hsical: rcc.hsical,
        verdict: match hse_error_mhz {
            None => Verdict::NotConfigured,
            Some(0) => Verdict::Correct,
            Some(_) => Verdict::Misdetected,
        },
        hse_error_mhz,
    }
}

/// Frequency in whole MHz, rounded.
fn mhz(hz: f64) -> i32 {
    (hz / 1e6).round() as i32
}
