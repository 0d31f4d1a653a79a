//! Values the board hands out: transfer completions, USB errors, boot records and run modes.

use std::time::Duration;

use crate::clock::{Detection, PllConfig};

/// How long a transfer with no answer is held before `done_at` (longer than any host timeout).
pub const NO_RESPONSE_HOLD: Duration = Duration::from_secs(3600);

/// One finished control transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// IN data (truncated to wLength), `Ok(vec![])` for an accepted OUT transfer, or the failure.
    pub result: Result<Vec<u8>, UsbError>,
    /// When the transfer completes on the bus (≥ the request time; later if the device was busy).
    pub done_at: Duration,
}

/// Why a control transfer failed, as a host would see it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsbError {
    /// The device answered with a STALL handshake.
    #[error("stall")]
    Stall,
    /// No answer at all (the host's timeout decides when it gives up).
    #[error("no response")]
    NoResponse,
    /// A packet was lost on the bus after all attempts (CRC/bit-stuff/timeout errors).
    #[error("protocol error: {detail}")]
    Protocol { detail: String },
    /// The device is not on the bus.
    #[error("device disconnected")]
    Disconnected,
}

/// What caused a boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetCause {
    PowerOn,
    Pin,
    /// System reset by the bootloader itself (leave, option bytes, Read Unprotect) or a re-enumeration fault.
    Software,
}

/// What the chip is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    Off,
    /// The ROM bootloader (on USB once attached).
    Bootloader,
    /// User code from this vector table (not on USB). Entered by a leave jump or by booting with a boot address
    /// other than system memory; the model does not check whether the code is sane.
    Application {
        vector_table: u32,
    },
}

/// Ground truth of one bootloader boot: the draws and everything the clock model derived from them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootRecord {
    /// 1-based count of boots of this board.
    pub number: u64,
    pub cause: ResetCause,
    /// Virtual time the boot started and when D+ is pulled up.
    pub started_at: Duration,
    pub attach_at: Duration,
    pub temperature_c: f64,
    /// True HSE frequency (nominal plus this board's fixed offset), Hz.
    pub hse_hz: f64,
    /// HSI error used for the measurement, ppm.
    pub hsi_error_ppm: f64,
    pub timer_clock_hz: f64,
    pub timer_count_true: f64,
    /// The count D.
    pub timer_count: u32,
    /// The ROM's HSE estimate, Hz.
    pub measured_hse_hz: u32,
    pub pll: PllConfig,
    pub sysclk_hz: f64,
    pub usb_clock_hz: f64,
    pub usb_error_ppm: f64,
}

impl BootRecord {
    pub(crate) fn new(
        number: u64,
        cause: ResetCause,
        at: Duration,
        hsi_error_ppm: f64,
        d: &Detection,
    ) -> Self {
        BootRecord {
            number,
            cause,
            started_at: at,
            attach_at: at,
            temperature_c: 0.0,
            hse_hz: 0.0,
            hsi_error_ppm,
            timer_clock_hz: d.timer_clock_hz,
            timer_count_true: d.timer_count_true,
            timer_count: d.timer_count,
            measured_hse_hz: d.measured_hse_hz,
            pll: d.pll,
            sysclk_hz: d.sysclk_hz,
            usb_clock_hz: d.usb_clock_hz,
            usb_error_ppm: d.usb_error_ppm,
        }
    }

    /// Whether the ROM got the HSE frequency right (PLL input exactly 1 MHz).
    pub fn hse_detected_correctly(&self) -> bool {
        u64::from(self.pll.m) == (self.hse_hz / 1e6).round() as u64
    }
}
