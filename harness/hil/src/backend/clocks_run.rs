//! One `hil clocks` run on a board's backends: the USB side first (serial and option bytes over DFU, as
//! STM32CubeProgrammer sees them on connect), then the chip attached and [`collect`]ed — the same read and
//! derive path the soak's clock steps take.

use std::time::Duration;

use dfuse::Clock;

use super::{open, Backends, BoardDescription, ChipError, OpenedChip};
use crate::clocks::{
    collect, AttachRecord, ClockError, ClocksReport, CollectOptions, TargetDescription, UsbSide,
};
use crate::transport::{list_usb, Selector};

/// What a `hil clocks` run reads and measures.
#[derive(Clone, Copy, Debug)]
pub struct ClocksRun<'a> {
    pub target: &'a TargetDescription,
    pub sysclk_window: Option<Duration>,
    pub hsi_window: Option<Duration>,
    /// The board's true HSE, Hz: required for a real board; a virtual one's board file says it otherwise.
    pub true_hse_hz: Option<f64>,
    /// Whether to look at the USB side (serial, option bytes over DFU).
    pub usb: bool,
    /// Per-request timeout of the DFU side.
    pub dfu_timeout: Duration,
}

/// Why a run could not start: the harness's input, not the board.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Board(#[from] vboard::ConfigError),
    #[error("the true HSE frequency of a real board must be given")]
    NoTrueHse,
    #[error("a real board's clocks are read through its debug probe; none was given")]
    NoProbe,
}

/// Run `run` on the board `description` names. Harness problems (a bad board file) are the outer `Err`;
/// board and probe failures the inner one.
pub fn clocks_report(
    description: &BoardDescription,
    run: &ClocksRun,
) -> Result<Result<ClocksReport, ClockError>, RunError> {
    let backends = open(description)?;
    let (name, true_hse, from, probe) = match (&backends, description) {
        (Backends::Virtual { board, .. }, BoardDescription::Virtual { seed, .. }) => {
            let b = board.lock();
            let config = b.config();
            let name = format!("{} (virtual, seed {seed})", config.name());
            match run.true_hse_hz {
                Some(hz) => (name, hz, "--hse-hz", None),
                None => (name, f64::from(config.hse.frequency_hz), "board file", None),
            }
        }
        (_, BoardDescription::Real { probe, .. }) => {
            let probe = probe.as_ref().ok_or(RunError::NoProbe)?;
            let true_hse = run.true_hse_hz.ok_or(RunError::NoTrueHse)?;
            (String::new(), true_hse, "--hse-hz", Some(probe))
        }
        (Backends::Real { .. }, BoardDescription::Virtual { .. }) => {
            unreachable!("a virtual board's description opens a virtual board")
        }
    };
    let (usb, present_before) = run
        .usb
        .then(|| usb_side(&backends, run.dfu_timeout))
        .unzip();
    let mut chip = match backends.chip(run.hsi_window.is_some()) {
        Ok(chip) => chip,
        Err(ChipError::Probe(e)) => return Ok(Err(e)),
        Err(ChipError::NoProbe) => unreachable!("checked above"),
    };
    let clock = backends.clock();
    let attached_at = clock.now();
    let usb_attach = backends
        .virtual_board()
        .and_then(|b| b.lock().boot().map(|b| b.attach_at));
    let collected = collect(
        chip.as_chip(),
        clock.as_ref(),
        run.target,
        &options(run, true_hse),
    );
    let name = match (probe, &chip) {
        (Some(p), OpenedChip::Probe(c)) => format!(
            "{} via probe {} at {} kHz",
            p.chip,
            p.selector,
            c.speed_khz()
        ),
        _ => name,
    };
    let attach = AttachRecord {
        path: chip.path(),
        connect_under_reset: probe.is_some_and(|p| p.connect_under_reset),
        attached_at_ms: ms(attached_at),
        after_usb_attach_ms: usb_attach.map(|u| ms(attached_at) - ms(u)),
        dfu_present_before: present_before.flatten(),
        dfu_present_after: (probe.is_some() && run.usb).then(dfu_present),
    };
    Ok(collected.map(|c| ClocksReport::new(name, from.into(), attach, c, usb)))
}

fn options(run: &ClocksRun, true_hse_hz: f64) -> CollectOptions {
    CollectOptions {
        sysclk_window: run.sysclk_window,
        hsi_window: run.hsi_window,
        true_hse_hz,
    }
}

/// The serial and one option-byte upload over DFU; for a real board also whether the DFU device was there
/// to be opened. A device that cannot be opened is a finding of the report, not a harness error.
fn usb_side(backends: &Backends, timeout: Duration) -> (UsbSide, Option<bool>) {
    match (backends.transport(backends.attach_wait()), backends) {
        (Ok(mut t), _) => {
            let usb = UsbSide::read(&mut t, backends.clock(), timeout);
            (usb, backends.virtual_board().is_none().then_some(true))
        }
        (Err(e), Backends::Virtual { .. }) => {
            let usb = UsbSide {
                error: Some(format!("the virtual board did not enumerate: {e}")),
                ..UsbSide::default()
            };
            (usb, None)
        }
        (Err(e), Backends::Real { usb: selector, .. }) => {
            let usb = UsbSide {
                error: Some(format!(
                    "opening the DFU device {}: {}",
                    selector.describe(),
                    dfuse::error_chain(&e)
                )),
                ..UsbSide::default()
            };
            (usb, Some(dfu_present()))
        }
    }
}

/// Whether the ST ROM bootloader (0483:df11) is on USB, by descriptors the OS has cached.
fn dfu_present() -> bool {
    let selector = Selector::default();
    list_usb()
        .map(|devices| devices.iter().any(|d| selector.matches(d)))
        .unwrap_or(false)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
