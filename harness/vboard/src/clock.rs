//! The clock MODEL: how the ROM measures HSE with an HSI-timed timer and which PLL settings, SYSCLK and USB
//! clock follow (see the crate docs for the formula and the source of each constant). Pure functions; the board
//! supplies the random draws so results are reproducible from its seed.

use crate::config::BoardConfig;

/// HSE cycles per measurement: RTCPRE = 31 and input-capture prescaler 8 [C3] EFT.
pub const HSE_CYCLES_PER_COUNT: u32 = 31 * 8;
/// Temperature of the factory HSI calibration [C] AN2606.
pub const CALIBRATION_TEMP_C: f64 = 25.0;
/// HSITRIM reset value [C] HAL.
pub const HSITRIM_DEFAULT: u8 = 16;
/// HSI nominal frequency.
pub const HSI_HZ: f64 = 16_000_000.0;
/// USB full-speed clock the PLL must make.
pub const USB_HZ: f64 = 48_000_000.0;

/// PLL settings the bootloader wrote (register field values except `p`, which is the divider 2/4/6/8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PllConfig {
    pub m: u32,
    pub n: u32,
    pub p: u32,
    pub q: u32,
}

impl PllConfig {
    /// RCC_PLLCFGR with PLLSRC = HSE; `bit29` is the reserved bit that reads 1 after reset.
    pub fn pllcfgr(&self, bit29: bool) -> u32 {
        let p_field = (self.p / 2).saturating_sub(1) & 0b11;
        let reserved = if bit29 { 1 << 29 } else { 0 };
        reserved
            | (self.q & 0xF) << 24
            | 1 << 22
            | p_field << 16
            | (self.n & 0x1FF) << 6
            | (self.m & 0x3F)
    }
}

/// One HSE measurement and what followed from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Actual timer clock during the measurement, Hz.
    pub timer_clock_hz: f64,
    /// The exact (fractional) count the timer would see.
    pub timer_count_true: f64,
    /// The count D the ROM used (floor or ceil of the true count).
    pub timer_count: u32,
    /// The ROM's HSE estimate f, Hz (integer arithmetic).
    pub measured_hse_hz: u32,
    /// PLL settings written.
    pub pll: PllConfig,
    /// Actual SYSCLK, Hz.
    pub sysclk_hz: f64,
    /// Actual USB (PLL48CLK) clock, Hz.
    pub usb_clock_hz: f64,
    /// USB clock error against 48 MHz, ppm.
    pub usb_error_ppm: f64,
}

/// The HSI error for one boot, ppm: factory + trim + temperature drift + this boot's jitter draw.
pub fn hsi_error_ppm(config: &BoardConfig, temperature_c: f64, jitter_draw_ppm: f64) -> f64 {
    let h = &config.hsi;
    let trim_steps = f64::from(h.trim) - f64::from(HSITRIM_DEFAULT);
    let drift = h.temp_coefficient_ppm_per_c * (temperature_c - CALIBRATION_TEMP_C);
    h.factory_error_ppm + trim_steps * h.trim_step_ppm + drift + jitter_draw_ppm
}

/// The exact timer count for a given HSI error (fraction, e.g. 0.025) and true HSE frequency.
pub fn timer_count_true(measure_timer_hz: u32, hsi_error: f64, hse_hz: f64) -> f64 {
    f64::from(measure_timer_hz) * (1.0 + hsi_error) * f64::from(HSE_CYCLES_PER_COUNT) / hse_hz
}

/// Rounds the true count: ceil with probability equal to the fractional part, given a uniform draw in [0, 1).
pub fn round_count(count_true: f64, uniform: f64) -> u32 {
    let floor = count_true.floor();
    let count = if uniform < count_true - floor {
        floor + 1.0
    } else {
        floor
    };
    count.clamp(1.0, f64::from(u32::MAX)) as u32
}

/// The ROM's HSE estimate from a count: `f = timer · 31 · 8 / D` [C3] EFT.
pub fn measured_hse_hz(measure_timer_hz: u32, count: u32) -> u32 {
    let f = u64::from(measure_timer_hz) * u64::from(HSE_CYCLES_PER_COUNT) / u64::from(count.max(1));
    f.min(u64::from(u32::MAX)) as u32
}

/// PLLM from the estimate: `((f / 100000) + 5) / 10` [C3] EFT, clamped to the field range 2..=63 [I].
pub fn pll_m(measured_hse_hz: u32) -> u32 {
    ((measured_hse_hz / 100_000 + 5) / 10).clamp(2, 63)
}

/// Runs the whole measurement for one boot.
pub fn detect(config: &BoardConfig, hse_hz: f64, hsi_error_ppm: f64, uniform: f64) -> Detection {
    let b = &config.bootloader;
    let e = hsi_error_ppm * 1e-6;
    let count_true = timer_count_true(b.measure_timer_hz, e, hse_hz);
    let count = round_count(count_true, uniform);
    let measured = measured_hse_hz(b.measure_timer_hz, count);
    let pll = PllConfig {
        m: pll_m(measured),
        n: b.pll_n.into(),
        p: b.pll_p.into(),
        q: b.pll_q.into(),
    };
    let vco = hse_hz / f64::from(pll.m) * f64::from(pll.n);
    let usb_clock_hz = vco / f64::from(pll.q);
    Detection {
        timer_clock_hz: f64::from(b.measure_timer_hz) * (1.0 + e),
        timer_count_true: count_true,
        timer_count: count,
        measured_hse_hz: measured,
        pll,
        sysclk_hz: vco / f64::from(pll.p),
        usb_clock_hz,
        usb_error_ppm: (usb_clock_hz / USB_HZ - 1.0) * 1e6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pllcfgr_matches_reference_values() {
        let pll = PllConfig {
            m: 25,
            n: 240,
            p: 4,
            q: 5,
        };
        assert_eq!(pll.pllcfgr(false), 0x0541_3C19);
        assert_eq!(pll.pllcfgr(true), 0x2541_3C19);
        assert_eq!(PllConfig { m: 8, ..pll }.pllcfgr(false), 0x0541_3C08);
    }

    #[test]
    fn rounding_follows_the_uniform_draw() {
        assert_eq!(round_count(244.25, 0.2), 245);
        assert_eq!(round_count(244.25, 0.3), 244);
        assert_eq!(round_count(244.0, 0.0), 244);
    }
}
