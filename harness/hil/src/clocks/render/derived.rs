//! The second half of the text report: what the registers mean (HSE believed, verdict, SYSCLK, USB clock
//! error, USB-side comparisons) and what was measured, with the number formats engineers read.

use std::io::{self, Write};

use super::super::measure::FrequencyMeasurement;
use super::super::{ClocksReport, Derived, Verdict};

pub(super) fn mhz(hz: f64) -> String {
    format!("{:.6} MHz", hz / 1e6)
}

/// `+41,666.7`: signed, one decimal, thousands separated.
fn ppm(v: f64) -> String {
    let s = format!("{:.1}", v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "0"));
    format!("{}{}.{frac}", if v < 0.0 { '-' } else { '+' }, group(int))
}

/// `2500` → `2,500`.
fn group(digits: &str) -> String {
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

pub(super) fn derived(out: &mut impl Write, r: &ClocksReport) -> io::Result<()> {
    let d = &r.derived;
    let truth = format!("true HSE {} ({})", mhz(d.true_hse_hz), r.true_hse_from);
    match d.detected_hse_hz {
        Some(hz) => writeln!(
            out,
            "HSE believed  {} MHz (PLLM {} at a {} MHz PLL input); {truth}",
            hz / 1_000_000,
            d.pllm,
            f64::from(r.snapshot.target.pll_input_hz) / 1e6
        )?,
        None => writeln!(
            out,
            "HSE believed  - (the PLL does not run from HSE); {truth}"
        )?,
    }
    writeln!(out, "Verdict       {}", verdict(d))?;
    writeln!(
        out,
        "SYSCLK        {} (HCLK {}, PCLK1 {}, PCLK2 {})",
        mhz(d.sysclk_hz),
        mhz(d.hclk_hz),
        mhz(d.pclk1_hz),
        mhz(d.pclk2_hz)
    )?;
    usb_clock(out, d)?;
    usb_side(out, r)
}

fn verdict(d: &Derived) -> String {
    let by = d.hse_error_mhz.unwrap_or(0);
    match d.verdict {
        Verdict::Correct => "HSE detected correctly".into(),
        Verdict::Misdetected => format!(
            "HSE MISDETECTED: {} MHz on a {} MHz board ({by:+} MHz)",
            d.detected_hse_hz.unwrap_or(0) / 1_000_000,
            (d.true_hse_hz / 1e6).round()
        ),
        Verdict::NotConfigured => "not configured: the PLL does not run from HSE".into(),
    }
}

fn usb_clock(out: &mut impl Write, d: &Derived) -> io::Result<()> {
    let (Some(hz), Some(err)) = (d.usb_clock_hz, d.usb_clock_error_ppm) else {
        return writeln!(
            out,
            "USB clock     unknown (PLL off, or from PLLSAI which is not read)"
        );
    };
    let status = if d.usb_in_tolerance == Some(true) {
        "within tolerance"
    } else {
        "OUT OF TOLERANCE"
    };
    writeln!(
        out,
        "USB clock     {}, {} ppm: {status} (USB full speed ±{} ppm)",
        mhz(hz),
        ppm(err),
        group(&format!("{:.0}", d.usb_tolerance_ppm))
    )
}

fn usb_side(out: &mut impl Write, r: &ClocksReport) -> io::Result<()> {
    if let Some(s) = &r.usb_serial {
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        let verdict = match s.matches {
            Some(true) => "match",
            Some(false) => "MISMATCH",
            None => "cannot compare",
        };
        writeln!(
            out,
            "USB serial    expected {}, reported {}: {verdict}",
            show(&s.expected),
            show(&s.reported)
        )?;
    }
    match &r.option_bytes_dfu {
        Some(c) if c.matches => writeln!(out, "OB over DFU   agree with FLASH_OPTCR/OPTCR1")?,
        Some(c) => writeln!(out, "OB over DFU   DISAGREE: {}", c.mismatches.join("; "))?,
        None => {}
    }
    if let Some(e) = &r.dfu_error {
        writeln!(out, "DFU side      {e}")?;
    }
    Ok(())
}

fn measurement(m: &FrequencyMeasurement) -> String {
    format!(
        "{} ± {} Hz ({:.1} ppm; {:.0} ms window, read latency {:.0} µs)",
        mhz(m.frequency_hz),
        m.uncertainty_hz.round(),
        m.uncertainty_ppm,
        m.window_ms,
        m.read_latency_us
    )
}

pub(super) fn measured(out: &mut impl Write, r: &ClocksReport) -> io::Result<()> {
    if let Some(s) = &r.sysclk {
        writeln!(out, "SYSCLK meas.  {}", measurement(&s.sysclk))?;
        if let (Some(hse), Some(u)) = (s.hse_hz, s.hse_uncertainty_hz) {
            writeln!(
                out,
                "HSE meas.     {} ± {} Hz (SYSCLK × M × P / N)",
                mhz(hse),
                u.round()
            )?;
        }
    }
    if let Some(h) = &r.hsi {
        writeln!(
            out,
            "HSI meas.     {}, {} ppm from nominal",
            measurement(&h.hsi),
            ppm(h.error_ppm)
        )?;
        writeln!(
            out,
            "              (intrusive: the board was reset into a spin loop and back into the bootloader)"
        )?;
    }
    Ok(())
}
