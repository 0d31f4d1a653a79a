//! Frequency measurements with the DWT cycle counter: enable DEMCR.TRCENA and DWT_CTRL.CYCCNTENA, sample
//! CYCCNT against the host's monotonic [`Clock`] over a window, and bound the error by how long each sample
//! read took. SYSCLK is measured while the ROM runs (non-intrusive apart from the two DWT enable bits, which
//! are restored); HSI is measured by resetting the chip into a spin loop at reset clocks ([`DebugControl`]),
//! which disturbs the board: it leaves USB and is reset into the bootloader again afterwards.

use std::time::Duration;

use dfuse::Clock;
use probe_rs::MemoryInterface;
use serde::Serialize;

use super::decode::{ClockSource, PllSource};
use super::read::{read_word, write_word};
use super::{ClockError, ClockSnapshot, Culprit, TargetDescription};

/// DEMCR.TRCENA [C3] and DWT_CTRL.CYCCNTENA [C].
const TRCENA: u32 = 1 << 24;
const CYCCNTENA: u32 = 1;
/// The longest window: CYCCNT wraps after 2^32 cycles, 19.9 s at the F7's 216 MHz maximum.
pub const MAX_WINDOW: Duration = Duration::from_secs(15);

/// Chip control for the intrusive HSI measurement.
pub trait DebugControl {
    /// Reset with the core caught at the reset vector, then run a spin loop placed at `scratch_ram`: the ROM
    /// never runs, so the clocks keep their reset values (SYSCLK = HSI) and CYCCNT counts at HSI.
    fn reset_to_spin_loop(&mut self, scratch_ram: u32) -> Result<(), ClockError>;
    /// Reset into the ROM bootloader again, core running.
    fn reset_to_bootloader(&mut self) -> Result<(), ClockError>;
}

/// A counter frequency measured against the host clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrequencyMeasurement {
    pub window_ms: f64,
    /// Host time between the midpoints of the two CYCCNT reads.
    pub elapsed_s: f64,
    pub cycles: u64,
    pub frequency_hz: f64,
    /// Bound from both reads' latency (half of each) plus ±1 count.
    pub uncertainty_hz: f64,
    pub uncertainty_ppm: f64,
    /// The slower of the two sample reads.
    pub read_latency_us: f64,
}

/// SYSCLK as measured, and the HSE it implies through the PLL settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SysclkMeasurement {
    #[serde(flatten)]
    pub sysclk: FrequencyMeasurement,
    /// `SYSCLK × M × P / N` when SYSCLK runs from the PLL on HSE.
    pub hse_hz: Option<f64>,
    pub hse_uncertainty_hz: Option<f64>,
}

/// HSI as measured at reset clocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HsiMeasurement {
    #[serde(flatten)]
    pub hsi: FrequencyMeasurement,
    /// Against the nominal HSI.
    pub error_ppm: f64,
}

/// Measures SYSCLK over `window` while the chip runs whatever it runs (the ROM bootloader).
pub fn measure_sysclk<M>(
    mem: &mut M,
    clock: &dyn Clock,
    target: &TargetDescription,
    snapshot: &ClockSnapshot,
    window: Duration,
) -> Result<SysclkMeasurement, ClockError>
where
    M: MemoryInterface + ?Sized,
{
    let sysclk = measure_counter(mem, clock, target, window)?;
    let rcc = &snapshot.rcc;
    let via_hse_pll =
        rcc.sysclk_source == ClockSource::Pll && rcc.pll.source == PllSource::Hse && rcc.pll.n > 0;
    let ratio = f64::from(rcc.pll.m) * f64::from(rcc.pll.p) / f64::from(rcc.pll.n);
    Ok(SysclkMeasurement {
        hse_hz: via_hse_pll.then_some(sysclk.frequency_hz * ratio),
        hse_uncertainty_hz: via_hse_pll.then_some(sysclk.uncertainty_hz * ratio),
        sysclk,
    })
}

/// Resets the chip into a spin loop at reset clocks, measures HSI, and resets it into the bootloader again
/// (also when the measurement failed). Intrusive: the board leaves USB twice.
pub fn measure_hsi<T>(
    chip: &mut T,
    clock: &dyn Clock,
    target: &TargetDescription,
    window: Duration,
) -> Result<HsiMeasurement, ClockError>
where
    T: MemoryInterface + DebugControl + ?Sized,
{
    chip.reset_to_spin_loop(target.debug.scratch_ram)?;
    let measured = measure_counter(chip, clock, target, window);
    let back = chip.reset_to_bootloader();
    let hsi = measured?;
    back?;
    Ok(HsiMeasurement {
        error_ppm: (hsi.frequency_hz / f64::from(target.hsi_hz) - 1.0) * 1e6,
        hsi,
    })
}

/// One CYCCNT read and the host time around it.
struct Sample {
    count: u32,
    before: Duration,
    after: Duration,
}

impl Sample {
    fn mid_s(&self) -> f64 {
        (self.before.as_secs_f64() + self.after.as_secs_f64()) / 2.0
    }

    fn half_width_s(&self) -> f64 {
        self.after.saturating_sub(self.before).as_secs_f64() / 2.0
    }
}

fn sample<M>(mem: &mut M, clock: &dyn Clock, addr: u32) -> Result<Sample, ClockError>
where
    M: MemoryInterface + ?Sized,
{
    let before = clock.now();
    let count = read_word(mem, "DWT_CYCCNT", addr)?;
    Ok(Sample {
        count,
        before,
        after: clock.now(),
    })
}

/// Enables the cycle counter, takes two samples `window` apart, restores DEMCR and DWT_CTRL.
fn measure_counter<M>(
    mem: &mut M,
    clock: &dyn Clock,
    target: &TargetDescription,
    window: Duration,
) -> Result<FrequencyMeasurement, ClockError>
where
    M: MemoryInterface + ?Sized,
{
    check_window(window)?;
    let d = &target.debug;
    let demcr = read_word(mem, "DEMCR", d.demcr)?;
    let ctrl = read_word(mem, "DWT_CTRL", d.dwt_ctrl)?;
    write_word(mem, "DEMCR", d.demcr, demcr | TRCENA)?;
    write_word(mem, "DWT_CTRL", d.dwt_ctrl, ctrl | CYCCNTENA)?;
    let first = sample(mem, clock, d.dwt_cyccnt);
    clock.sleep(window);
    let second = sample(mem, clock, d.dwt_cyccnt);
    write_word(mem, "DWT_CTRL", d.dwt_ctrl, ctrl)?;
    write_word(mem, "DEMCR", d.demcr, demcr)?;
    evaluate(&first?, &second?, window)
}

fn check_window(window: Duration) -> Result<(), ClockError> {
    if window.is_zero() || window > MAX_WINDOW {
        return Err(ClockError::Measurement {
            culprit: Culprit::Harness,
            message: format!(
                "measurement window {} ms: must be 1 ms to {} ms (CYCCNT wraps after 2^32 cycles)",
                window.as_millis(),
                MAX_WINDOW.as_millis()
            ),
        });
    }
    Ok(())
}

fn evaluate(a: &Sample, b: &Sample, window: Duration) -> Result<FrequencyMeasurement, ClockError> {
    let cycles = u64::from(b.count.wrapping_sub(a.count));
    let elapsed_s = b.mid_s() - a.mid_s();
    if cycles == 0 || elapsed_s <= 0.0 {
        return Err(ClockError::Measurement {
            culprit: Culprit::Board,
            message: format!(
                "DWT_CYCCNT did not count ({:#010X} twice): the core is halted, or the DWT is not clocked",
                a.count
            ),
        });
    }
    let frequency_hz = cycles as f64 / elapsed_s;
    let timing = a.half_width_s() + b.half_width_s();
    let uncertainty_hz = frequency_hz * timing / elapsed_s + 1.0 / elapsed_s;
    Ok(FrequencyMeasurement {
        window_ms: window.as_secs_f64() * 1e3,
        elapsed_s,
        cycles,
        frequency_hz,
        uncertainty_hz,
        uncertainty_ppm: uncertainty_hz / frequency_hz * 1e6,
        read_latency_us: 2.0 * a.half_width_s().max(b.half_width_s()) * 1e6,
    })
}
