//! Opening a device from what a user said: a real one by dfu-util-style selector, or a virtual board from
//! a board file; optionally wrapped in a pcap capture. Returns the transport with the clock it runs on.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use dfuse::{Clock, SystemClock, TransferError, VirtualClock};
use vboard::{Board, BoardConfig};

use crate::transport::{
    Capturing, Selector, Transport, UsbTransport, VirtualBoard, VirtualTransport,
};

/// How long a virtual board may take from power-on to attaching to the bus.
const VIRTUAL_ATTACH_TIMEOUT: Duration = Duration::from_secs(5);

/// Which device to open.
#[derive(Clone, Debug)]
pub enum TargetSpec {
    /// A real device on a USB bus.
    Usb(Selector),
    /// A virtual STM32F746 board; `None` is the built-in healthy 25 MHz board.
    Virtual {
        board_file: Option<PathBuf>,
        seed: u64,
    },
}

/// Why a device could not be opened.
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

/// An open device and the clock its transfers run on (virtual time for virtual boards).
pub struct Opened {
    pub transport: Box<dyn Transport>,
    pub clock: Arc<dyn Clock>,
    /// The board itself, for a virtual target.
    pub board: Option<VirtualBoard>,
}

/// Load a board file, or the built-in healthy board.
pub fn board_config(file: Option<&Path>) -> Result<BoardConfig, vboard::ConfigError> {
    match file {
        Some(path) => BoardConfig::load(path),
        None => Ok(BoardConfig::healthy_default()),
    }
}

/// Open `spec`, writing every control transfer to `capture` when given.
pub fn open(spec: &TargetSpec, capture: Option<&Path>) -> Result<Opened, OpenError> {
    let mut opened = match spec {
        TargetSpec::Usb(selector) => Opened {
            transport: Box::new(UsbTransport::open(selector)?),
            clock: Arc::new(SystemClock::new()),
            board: None,
        },
        TargetSpec::Virtual { board_file, seed } => {
            let config = board_config(board_file.as_deref())?;
            let clock = Arc::new(VirtualClock::new());
            let mut board = Board::new(config, *seed);
            board.power_on(clock.now());
            let board = VirtualBoard::new(board);
            let t =
                VirtualTransport::open(board.clone(), clock.clone(), 1, VIRTUAL_ATTACH_TIMEOUT)?;
            Opened {
                transport: Box::new(t),
                clock,
                board: Some(board),
            }
        }
    };
    if let Some(path) = capture {
        let capturing =
            Capturing::create(opened.transport, path, opened.clock.clone()).map_err(|source| {
                OpenError::Capture {
                    path: path.to_path_buf(),
                    source,
                }
            })?;
        opened.transport = Box::new(capturing);
    }
    Ok(opened)
}
