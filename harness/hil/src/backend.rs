//! A board's backends, opened one way for every command (the soak runner, `hil clocks`, `hil dfu`, `hil list`):
//! from a [`BoardDescription`] — a virtual board file and seed, or a real board's USB selector and debug
//! probe — [`open`] gives [`Backends`]: the virtual board (powered on, on its own virtual clock) or the real
//! one's selectors, and from them the DFU transport (virtual or rusb, optionally captured to pcap) and the
//! chip (the virtual board's register file or a probe-rs attach), each on the clock it runs on.
//!
//! Reading the clocks and deriving from them is `crate::clocks`'s; [`clocks_report`] is the one
//! `hil clocks` run, on whichever backend.

mod clocks_run;

pub use clocks_run::{clocks_report, ClocksRun};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use dfuse::{Clock, SystemClock, TransferError, VirtualClock};
use probe_rs::MemoryInterface;
use vboard::{Board, BoardConfig};

use crate::clocks::{ClockError, DebugControl, ReadPath, VirtualMemory};
use crate::probe::{ProbeChip, ProbeOptions};
use crate::transport::{
    Capturing, Selector, Transport, UsbTransport, VirtualBoard, VirtualTransport,
};

/// How long a command run by hand waits for a virtual board to attach to USB after power-on.
pub const VIRTUAL_ATTACH_TIMEOUT: Duration = Duration::from_secs(5);
/// How often a real host looks for the device while waiting for it to enumerate.
const USB_POLL: Duration = Duration::from_millis(100);

/// Which board, as a user or a rig file describes it.
#[derive(Clone, Debug)]
pub enum BoardDescription {
    /// A virtual STM32F746 board; `None` is the built-in healthy 25 MHz board. Its `-p` path is `0-PORT`.
    Virtual {
        board_file: Option<PathBuf>,
        seed: u64,
        port: u8,
        /// `Some(n)`: the board in its n-th power-on of a soak with this board seed, drawn as `hil vboard serve
        /// --rig` draws its n-th power-on and an in-process soak its cycle n (first phase, first attempt);
        /// `None`: the board's first boot straight from the seed.
        power_on: Option<u64>,
    },
    /// A real board: its bootloader on USB, and its debug probe if it has one.
    Real {
        usb: Selector,
        probe: Option<ProbeOptions>,
    },
}

/// Why a board's backends could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("board file")]
    Board(#[from] vboard::ConfigError),
    #[error("opening the device")]
    Device(#[from] TransferError),
    #[error("creating the capture file {path}")]
    Capture {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Why the chip could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum ChipError {
    /// A real board described without a debug probe.
    #[error("the board has no debug probe")]
    NoProbe,
    #[error(transparent)]
    Probe(#[from] ClockError),
}

/// What the clock steps need of a chip: memory reads and writes, and the resets of the HSI measurement.
pub trait Chip: MemoryInterface + DebugControl {}

impl<T: MemoryInterface + DebugControl> Chip for T {}

/// An attached chip: the virtual board's register file or a probe-rs attach.
pub enum OpenedChip {
    Virtual(VirtualMemory),
    Probe(ProbeChip),
}

impl OpenedChip {
    /// The chip as the clock reader takes it.
    pub fn as_chip(&mut self) -> &mut dyn Chip {
        match self {
            Self::Virtual(m) => m,
            Self::Probe(p) => p,
        }
    }

    /// How its registers are read.
    pub fn path(&self) -> ReadPath {
        match self {
            Self::Virtual(_) => ReadPath::Virtual,
            Self::Probe(p) => p.path(),
        }
    }
}

/// A board's backends: how its transport and chip are reached, and the clock they run on.
pub enum Backends {
    Virtual {
        board: VirtualBoard,
        clock: Arc<VirtualClock>,
        port: u8,
    },
    Real {
        usb: Selector,
        probe: Option<ProbeOptions>,
        clock: Arc<SystemClock>,
    },
}

/// Load a board file, or the built-in healthy board.
pub fn board_config(file: Option<&Path>) -> Result<BoardConfig, vboard::ConfigError> {
    match file {
        Some(path) => BoardConfig::load(path),
        None => Ok(BoardConfig::healthy_default()),
    }
}

/// Open the board `description` names. A virtual board is created and powered on at time zero of a new
/// virtual clock; nothing is opened on a real one until its transport or chip is asked for. Only a board
/// file can fail here.
pub fn open(description: &BoardDescription) -> Result<Backends, vboard::ConfigError> {
    Ok(match description {
        BoardDescription::Virtual {
            board_file,
            seed,
            port,
            power_on,
        } => {
            let config = board_config(board_file.as_deref())?;
            let clock = Arc::new(VirtualClock::new());
            let mut board = Board::new(config, *seed);
            if let Some(n) = power_on {
                board.reseed(vboard::cycle_seed(*seed, 0, *n, 1));
            }
            board.power_on(clock.now());
            Backends::of_virtual(VirtualBoard::new(board), clock, *port)
        }
        BoardDescription::Real { usb, probe } => Backends::Real {
            usb: usb.clone(),
            probe: probe.clone(),
            clock: Arc::new(SystemClock::new()),
        },
    })
}

/// Open the board and its DFU transport, as a command run by hand does (see [`Backends::attach_wait`]),
/// writing every control transfer to `capture` when given.
pub fn open_dfu(
    description: &BoardDescription,
    capture: Option<&Path>,
) -> Result<(Backends, Box<dyn Transport>), OpenError> {
    let backends = open(description)?;
    let transport = backends.dfu(backends.attach_wait(), capture)?;
    Ok((backends, transport))
}

impl Backends {
    /// A virtual board made elsewhere (by a virtual rig, which powers it), on `clock`.
    pub fn of_virtual(board: VirtualBoard, clock: Arc<VirtualClock>, port: u8) -> Self {
        Self::Virtual { board, clock, port }
    }

    /// The clock the board's transfers and measurements run on: virtual time for a virtual board.
    pub fn clock(&self) -> Arc<dyn Clock> {
        match self {
            Self::Virtual { clock, .. } => clock.clone(),
            Self::Real { clock, .. } => clock.clone(),
        }
    }

    /// The virtual board, if this is one.
    pub fn virtual_board(&self) -> Option<&VirtualBoard> {
        match self {
            Self::Virtual { board, .. } => Some(board),
            Self::Real { .. } => None,
        }
    }

    /// How long a command run by hand waits for the device: a virtual board is attaching right after
    /// power-on; a real one is expected to be on the bus already (one look).
    pub fn attach_wait(&self) -> Duration {
        match self {
            Self::Virtual { .. } => VIRTUAL_ATTACH_TIMEOUT,
            Self::Real { .. } => Duration::ZERO,
        }
    }

    /// The DFU transport, once the device is on the bus (waiting up to `wait` for it) and enumerated.
    pub fn transport(&self, wait: Duration) -> Result<Box<dyn Transport>, TransferError> {
        match self {
            Self::Virtual { board, clock, port } => Ok(Box::new(VirtualTransport::open(
                board.clone(),
                clock.clone(),
                *port,
                wait,
            )?)),
            Self::Real { usb, clock, .. } => {
                let deadline = clock.now() + wait;
                loop {
                    match UsbTransport::open(usb) {
                        Ok(t) => return Ok(Box::new(t)),
                        Err(e) if clock.now() >= deadline => return Err(e),
                        Err(_) => clock.sleep(USB_POLL),
                    }
                }
            }
        }
    }

    /// [`Self::transport`], writing every control transfer to `capture` when given.
    pub fn dfu(
        &self,
        wait: Duration,
        capture: Option<&Path>,
    ) -> Result<Box<dyn Transport>, OpenError> {
        let transport = self.transport(wait)?;
        let Some(path) = capture else {
            return Ok(transport);
        };
        let capturing = Capturing::create(transport, path, self.clock()).map_err(|source| {
            OpenError::Capture {
                path: path.to_path_buf(),
                source,
            }
        })?;
        Ok(Box::new(capturing))
    }

    /// The chip's memory and debug control: the virtual board's register file, or the probe attached
    /// (`halting`: in a probe-rs session, for connect-under-reset and the intrusive HSI measurement).
    pub fn chip(&self, halting: bool) -> Result<OpenedChip, ChipError> {
        Ok(match self {
            Self::Virtual { board, clock, .. } => {
                OpenedChip::Virtual(VirtualMemory::new(board.clone(), clock.clone()))
            }
            Self::Real { probe, .. } => {
                let mut options = probe.clone().ok_or(ChipError::NoProbe)?;
                options.halting_session = halting;
                OpenedChip::Probe(ProbeChip::open(&options)?)
            }
        })
    }
}
