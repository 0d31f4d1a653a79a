//! One `hil clocks` run as data: how and when the probe attached, the snapshot, the derived numbers, the
//! USB-side comparisons and the measurements. [`collect`] does the SWD part in a fixed order — snapshot,
//! then SYSCLK, then (intrusive, last) HSI — so the snapshot always describes the boot that was found.

use std::sync::Arc;
use std::time::Duration;

use dfuse::{Clock, NullObserver};
use probe_rs::MemoryInterface;
use serde::Serialize;

use crate::transport::Transport;

use super::measure::{measure_hsi, measure_sysclk, HsiMeasurement, SysclkMeasurement};
use super::{
    derive, read_snapshot, ClockError, ClockSnapshot, DebugControl, Derived, OptionBytesCheck,
    SerialCheck, TargetDescription,
};

/// How the registers were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadPath {
    /// Through the memory access port (AHB-AP) with no core session: the core is never halted.
    AccessPort,
    /// Through a probe-rs session: probe-rs halts the core briefly while attaching (probe-rs issue 3135).
    /// Needed for connect-under-reset and for the HSI measurement.
    HaltingSession,
    /// The virtual board's register file.
    Virtual,
}

impl ReadPath {
    pub fn describe(self) -> &'static str {
        match self {
            Self::AccessPort => "access port, core not halted",
            Self::HaltingSession => {
                "probe-rs session, core halted briefly on attach (probe-rs #3135)"
            }
            Self::Virtual => "virtual board register file",
        }
    }
}

/// When and how the probe attached, relative to the bootloader being on USB.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttachRecord {
    pub path: ReadPath,
    pub connect_under_reset: bool,
    /// Host time of the attach, ms since the command started.
    pub attached_at_ms: f64,
    /// Attach minus the bootloader's USB attach (D+ pull-up), ms; known for the virtual board only.
    pub after_usb_attach_ms: Option<f64>,
    /// Whether the DFU device was enumerated just before / just after the probe session (real boards).
    pub dfu_present_before: Option<bool>,
    pub dfu_present_after: Option<bool>,
}

/// What to measure besides reading registers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CollectOptions {
    /// Measure SYSCLK over this window.
    pub sysclk_window: Option<Duration>,
    /// Measure HSI over this window (intrusive: resets the board twice).
    pub hsi_window: Option<Duration>,
    /// The board's true HSE frequency, Hz.
    pub true_hse_hz: f64,
}

/// Everything one `hil clocks` run found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClocksReport {
    /// What was read: "drifting-25mhz (virtual, seed 1)", "probe 0483:374b, chip STM32F746ZGTx".
    pub board: String,
    /// Where the true HSE came from: "board file", "--hse-hz".
    pub true_hse_from: String,
    pub attach: AttachRecord,
    pub snapshot: ClockSnapshot,
    pub derived: Derived,
    pub usb_serial: Option<SerialCheck>,
    pub option_bytes_dfu: Option<OptionBytesCheck>,
    /// Why the DFU side (serial, option bytes) is missing or incomplete.
    pub dfu_error: Option<String>,
    pub sysclk: Option<SysclkMeasurement>,
    pub hsi: Option<HsiMeasurement>,
}

/// The SWD part of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Collected {
    pub snapshot: ClockSnapshot,
    pub derived: Derived,
    pub sysclk: Option<SysclkMeasurement>,
    pub hsi: Option<HsiMeasurement>,
}

/// Reads the snapshot and derives from it with the board's true HSE: what `hil clocks` reports and the
/// soak's clock step records.
pub fn read_derived<T>(
    chip: &mut T,
    target: &TargetDescription,
    true_hse_hz: f64,
) -> Result<(ClockSnapshot, Derived), ClockError>
where
    T: MemoryInterface + ?Sized,
{
    let snapshot = read_snapshot(chip, target)?;
    let derived = derive(&snapshot, true_hse_hz);
    Ok((snapshot, derived))
}

/// Reads the snapshot, derives ([`read_derived`]), then measures what `opts` asks for.
pub fn collect<T>(
    chip: &mut T,
    clock: &dyn Clock,
    target: &TargetDescription,
    opts: &CollectOptions,
) -> Result<Collected, ClockError>
where
    T: MemoryInterface + DebugControl + ?Sized,
{
    let (snapshot, derived) = read_derived(chip, target, opts.true_hse_hz)?;
    let sysclk = opts
        .sysclk_window
        .map(|w| measure_sysclk(chip, clock, target, &snapshot, w))
        .transpose()?;
    let hsi = opts
        .hsi_window
        .map(|w| measure_hsi(chip, clock, target, w))
        .transpose()?;
    Ok(Collected {
        snapshot,
        derived,
        sysclk,
        hsi,
    })
}

/// What the USB side said: the serial from the descriptor and the option bytes over DFU.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UsbSide {
    pub serial: Option<String>,
    pub option_bytes: Option<Vec<u8>>,
    /// Why something is missing (an upload that failed is a finding, not a harness error).
    pub error: Option<String>,
}

impl UsbSide {
    /// The enumerated serial, and one option-byte upload as STM32CubeProgrammer does on connect.
    pub fn read(t: &mut dyn Transport, clock: Arc<dyn Clock>, timeout: Duration) -> UsbSide {
        // Only the serial and the option-byte alt's name are needed: the upload reads the name itself.
        let serial = t.serial();
        match crate::dfu::read_option_bytes(t, clock, timeout, NullObserver) {
            Ok(ob) => UsbSide {
                serial,
                option_bytes: Some(ob.data),
                error: None,
            },
            Err(e) => UsbSide {
                serial,
                option_bytes: None,
                error: Some(format!(
                    "option bytes over DFU failed: {} [{}]",
                    dfuse::error_chain(&e),
                    e.kind_name()
                )),
            },
        }
    }
}

impl ClocksReport {
    /// Puts a run together; `usb` is None when the USB side was not looked at.
    pub fn new(
        board: String,
        true_hse_from: String,
        attach: AttachRecord,
        collected: Collected,
        usb: Option<UsbSide>,
    ) -> ClocksReport {
        let regs = &collected.snapshot.option_bytes;
        let uid = collected.snapshot.identity.uid;
        let usb = usb.unwrap_or_default();
        ClocksReport {
            board,
            true_hse_from,
            attach,
            usb_serial: Some(SerialCheck::new(uid, usb.serial)),
            option_bytes_dfu: usb
                .option_bytes
                .map(|ob| OptionBytesCheck::compare(regs, &ob)),
            dfu_error: usb.error,
            snapshot: collected.snapshot,
            derived: collected.derived,
            sysclk: collected.sysclk,
            hsi: collected.hsi,
        }
    }
}
