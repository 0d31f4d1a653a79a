//! Why a step failed, as the records store it: what failed (a [`records::ErrorKind`], whose class says
//! whether the board or the infrastructure failed) and the detail with its cause chain. Backend errors are
//! mapped to kinds here, at the edge.

pub use dfuse::error_chain as chain;
use dfuse::{TransferError, TransferErrorKind};
use records::{ErrorClass, ErrorKind};

use crate::clocks::{ClockError, Culprit};
use crate::dfu::OpError;
use crate::rig::{RigError, RigErrorKind};

/// A failed step attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    pub kind: ErrorKind,
    pub detail: String,
}

impl StepError {
    /// A failure of the harness or the scenario, not of the board.
    pub fn harness(detail: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Harness,
            detail: detail.into(),
        }
    }

    /// Who failed.
    pub fn class(&self) -> ErrorClass {
        self.kind.class()
    }
}

fn transfer_kind(kind: TransferErrorKind) -> ErrorKind {
    match kind {
        TransferErrorKind::Timeout => ErrorKind::Timeout,
        TransferErrorKind::Stall => ErrorKind::Stall,
        TransferErrorKind::Disconnected => ErrorKind::Disconnected,
        TransferErrorKind::Io => ErrorKind::Io,
        TransferErrorKind::Access => ErrorKind::Access,
        TransferErrorKind::Busy => ErrorKind::Busy,
        TransferErrorKind::Other => ErrorKind::Other,
    }
}

fn dfu_kind(kind: dfuse::ErrorKind) -> ErrorKind {
    use dfuse::ErrorKind as K;
    match kind {
        K::Timeout => ErrorKind::Timeout,
        K::Stall => ErrorKind::Stall,
        K::Disconnected => ErrorKind::Disconnected,
        K::Io => ErrorKind::Io,
        K::Protocol => ErrorKind::Protocol,
        K::DeviceStatus => ErrorKind::DeviceStatus,
        K::Stuck => ErrorKind::Stuck,
        K::Verify => ErrorKind::Verify,
        K::Layout => ErrorKind::Layout,
        K::Usage => ErrorKind::Usage,
    }
}

/// The records' kind of a DfuSe operation's failure.
pub fn op_kind(e: &OpError) -> ErrorKind {
    match e {
        OpError::Dfu { source, .. } => dfu_kind(source.kind()),
        OpError::Transport { source, .. } => transfer_kind(source.kind),
        OpError::NoLayout { .. } => ErrorKind::Layout,
        OpError::Refused(_) => ErrorKind::Refused,
    }
}

impl From<OpError> for StepError {
    fn from(e: OpError) -> Self {
        Self {
            kind: op_kind(&e),
            detail: chain(&e),
        }
    }
}

impl From<TransferError> for StepError {
    fn from(e: TransferError) -> Self {
        Self {
            kind: transfer_kind(e.kind),
            detail: e.detail,
        }
    }
}

impl From<RigError> for StepError {
    fn from(e: RigError) -> Self {
        let kind = match e.kind() {
            RigErrorKind::Timeout => ErrorKind::RigTimeout,
            RigErrorKind::Garbled => ErrorKind::RigGarbled,
            RigErrorKind::Io => ErrorKind::RigIo,
            RigErrorKind::Exec => ErrorKind::RigExec,
            RigErrorKind::Instrument => ErrorKind::RigInstrument,
            RigErrorKind::NotConfigured | RigErrorKind::Config => ErrorKind::RigConfig,
        };
        Self {
            kind,
            detail: chain(&e),
        }
    }
}

impl From<ClockError> for StepError {
    fn from(e: ClockError) -> Self {
        let kind = match e.culprit() {
            Culprit::Probe => ErrorKind::Probe,
            Culprit::Board => ErrorKind::ClockRead,
            Culprit::Harness => ErrorKind::Harness,
        };
        Self {
            kind,
            detail: chain(&e),
        }
    }
}
