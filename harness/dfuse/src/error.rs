//! Errors of the DfuSe host: structured variants for people and tests, and a coarse [`ErrorKind`] with stable
//! names for records. Messages name what failed; the cause is reachable through `source()`, not pasted in.

use std::fmt;
use std::time::Duration;

use crate::event::Operation;
use crate::io::{TransferError, TransferErrorKind};
use crate::layout::LayoutError;
use crate::plan::PlanError;
use crate::request::Request;
use crate::status::{State, Status, StatusReply};

/// A device reply (or descriptor) that cannot be decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Fewer bytes than the structure needs.
    #[error("reply too short: got {got} bytes, expected {expected}")]
    ShortReply {
        /// Bytes received.
        got: usize,
        /// Bytes needed.
        expected: usize,
    },
    /// `bState` outside 0..=10.
    #[error("unknown DFU state {0}")]
    UnknownState(u8),
    /// `bStatus` outside 0..=15.
    #[error("unknown DFU status code {0:#04x}")]
    UnknownStatus(u8),
    /// A descriptor whose `bLength` is below 2 or runs past the data.
    #[error("descriptor at offset {offset} has an impossible bLength {length}")]
    BadLength {
        /// Byte offset of the descriptor.
        offset: usize,
        /// Its bLength.
        length: u8,
    },
    /// A descriptor of another type than expected.
    #[error("descriptor at offset {offset} has type {got:#04x}, expected {expected:#04x}")]
    WrongType {
        /// Byte offset of the descriptor.
        offset: usize,
        /// The bDescriptorType wanted.
        expected: u8,
        /// The bDescriptorType found.
        got: u8,
    },
    /// A Get Commands reply that does not start with opcode 0x00.
    #[error("command list starts with {0:#04x}, expected the Get Commands opcode 0x00")]
    BadCommandList(u8),
}

/// Why a poll loop gave up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StuckReason {
    /// Too many consecutive replies with `bwPollTimeout` = 0 (dfu-util: "Device stuck").
    ZeroPollTimeouts,
    /// Busy longer than the policy allows (or asked to wait beyond it).
    BusyTooLong,
    /// More polls than the policy allows.
    TooManyPolls,
    /// Start-up recovery did not reach dfuIDLE within its rounds.
    NoRecovery,
}

impl fmt::Display for StuckReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ZeroPollTimeouts => "too many zero poll timeouts in a row",
            Self::BusyTooLong => "busy for longer than allowed",
            Self::TooManyPolls => "too many polls",
            Self::NoRecovery => "start-up recovery did not reach dfuIDLE",
        })
    }
}

/// Coarse class of an [`Error`]; the names are stable (they go into CSV records).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// A transfer timed out.
    Timeout,
    /// The device stalled a request.
    Stall,
    /// The device left the bus.
    Disconnected,
    /// Bus or host I/O error (including access and busy).
    Io,
    /// The device broke the protocol: wrong state, undecodable or short reply.
    Protocol,
    /// The device reported a non-OK `bStatus` / dfuERROR.
    DeviceStatus,
    /// The device stayed busy or kept asking for more time.
    Stuck,
    /// Read-back differs from what was written.
    Verify,
    /// The memory layout refuses the operation, or cannot be parsed.
    Layout,
    /// The caller asked for something impossible.
    Usage,
}

impl ErrorKind {
    /// Stable snake-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Stall => "stall",
            Self::Disconnected => "disconnected",
            Self::Io => "io",
            Self::Protocol => "protocol",
            Self::DeviceStatus => "device_status",
            Self::Stuck => "stuck",
            Self::Verify => "verify",
            Self::Layout => "layout",
            Self::Usage => "usage",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<TransferErrorKind> for ErrorKind {
    fn from(k: TransferErrorKind) -> Self {
        match k {
            TransferErrorKind::Timeout => Self::Timeout,
            TransferErrorKind::Stall => Self::Stall,
            TransferErrorKind::Disconnected => Self::Disconnected,
            TransferErrorKind::Io
            | TransferErrorKind::Access
            | TransferErrorKind::Busy
            | TransferErrorKind::Other => Self::Io,
        }
    }
}

/// Everything a DfuSe operation can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A control transfer failed.
    #[error("{request} failed during {during}")]
    Transfer {
        /// The request that failed.
        request: Request,
        /// The operation it was part of.
        during: Operation,
        /// What the backend reported.
        #[source]
        source: TransferError,
    },
    /// A reply could not be decoded.
    #[error("cannot decode the {request} reply during {during}")]
    Parse {
        /// The request whose reply is bad.
        request: Request,
        /// The operation it was part of.
        during: Operation,
        /// What is wrong with it.
        #[source]
        source: ParseError,
    },
    /// The device is in a state the protocol does not allow here.
    #[error("wrong state during {during}: expected {}, device reports {got}", states(.expected))]
    UnexpectedState {
        /// The operation.
        during: Operation,
        /// States that would have been fine.
        expected: &'static [State],
        /// The full status reply.
        got: StatusReply,
    },
    /// The device reported an error status (or dfuERROR).
    #[error("device reports {status} in {state} during {during}")]
    DeviceError {
        /// The operation.
        during: Operation,
        /// `bStatus`
        status: Status,
        /// `bState`
        state: State,
    },
    /// A poll loop hit one of its bounds.
    #[error("device stuck during {during}: {reason} ({polls} polls, {elapsed:?})")]
    Stuck {
        /// The operation.
        during: Operation,
        /// Which bound was hit.
        reason: StuckReason,
        /// DFU_GETSTATUS requests sent in this loop.
        polls: u32,
        /// Time spent in this loop.
        elapsed: Duration,
    },
    /// The device accepted fewer bytes than sent.
    #[error("{during}: device accepted {sent} of {expected} bytes")]
    ShortWrite {
        /// The operation.
        during: Operation,
        /// Bytes the device took.
        sent: usize,
        /// Bytes offered.
        expected: usize,
    },
    /// The device returned another number of bytes than asked for.
    #[error("upload at {address:#010x}: asked for {expected} bytes, got {got}")]
    ShortUpload {
        /// Address of the block.
        address: u32,
        /// Bytes asked for.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
    /// Read-back differs.
    #[error("verify failed at {address:#010x}: wrote {expected:#04x}, read {got:#04x} ({mismatches} bytes differ)")]
    Verify {
        /// First differing address.
        address: u32,
        /// Byte written.
        expected: u8,
        /// Byte read back.
        got: u8,
        /// Number of differing bytes in the range.
        mismatches: usize,
    },
    /// The operation was refused before any transfer.
    #[error("operation refused before any transfer")]
    Plan(#[from] PlanError),
    /// The alt setting's memory layout string cannot be parsed.
    #[error("invalid memory layout string")]
    Layout(#[from] LayoutError),
    /// The interface is plain DFU, not DfuSe.
    #[error("not a DfuSe interface: bcdDFUVersion is {version:#06x}, expected 0x011a")]
    NotDfuse {
        /// The bcdDFUVersion found.
        version: u16,
    },
}

impl Error {
    /// The coarse class, for records and branching.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Transfer { source, .. } => source.kind.into(),
            Self::Parse { .. } | Self::UnexpectedState { .. } => ErrorKind::Protocol,
            Self::ShortWrite { .. } | Self::ShortUpload { .. } => ErrorKind::Protocol,
            Self::DeviceError { .. } => ErrorKind::DeviceStatus,
            Self::Stuck { .. } => ErrorKind::Stuck,
            Self::Verify { .. } => ErrorKind::Verify,
            Self::Plan(e) => e.kind(),
            Self::Layout(_) => ErrorKind::Layout,
            Self::NotDfuse { .. } => ErrorKind::Usage,
        }
    }

    /// The backend's error class, when a transfer failed.
    pub fn transfer_kind(&self) -> Option<TransferErrorKind> {
        match self {
            Self::Transfer { source, .. } => Some(source.kind),
            _ => None,
        }
    }
}

fn states(list: &[State]) -> String {
    let names: Vec<&str> = list.iter().map(|s| s.name()).collect();
    names.join(" or ")
}

/// `e` with its `source()` chain, `: `-separated ("uploading the option bytes: DFU_UPLOAD failed: io: …"):
/// how every error of the harness is shown to a person and kept in the records' details.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}
