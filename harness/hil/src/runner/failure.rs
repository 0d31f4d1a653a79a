//! Why a step failed, as the records store it: a stable error name, whether the board or the
//! infrastructure (rig, probe, harness, the user's input) failed, and the detail with its cause chain.

use dfuse::TransferError;

use crate::clocks::{ClockError, ErrorKind as ClockErrorKind};
use crate::dfu::OpError;
use crate::rig::{RigError, RigErrorKind};

/// Who failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The board under test: what the soak is looking for.
    Board,
    /// The rig, the probe, the host or the scenario: not evidence against the board.
    Infrastructure,
}

impl Class {
    /// Stable name, as the records store it.
    pub fn name(self) -> &'static str {
        match self {
            Class::Board => "board",
            Class::Infrastructure => "infrastructure",
        }
    }
}

/// A failed step attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    pub kind: &'static str,
    pub class: Class,
    pub detail: String,
}

impl StepError {
    /// A failure of the harness or the scenario, not of the board.
    pub fn harness(detail: impl Into<String>) -> Self {
        Self {
            kind: "harness",
            class: Class::Infrastructure,
            detail: detail.into(),
        }
    }
}

/// `e` with its `source()` chain, one cause after another.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

fn transfer_class(kind: &str) -> Class {
    match kind {
        "access" | "busy" | "refused" | "layout" | "usage" => Class::Infrastructure,
        _ => Class::Board,
    }
}

impl From<OpError> for StepError {
    fn from(e: OpError) -> Self {
        let kind = e.kind_name();
        Self {
            kind,
            class: transfer_class(kind),
            detail: chain(&e),
        }
    }
}

impl From<TransferError> for StepError {
    fn from(e: TransferError) -> Self {
        let kind = e.kind.name();
        Self {
            kind,
            class: transfer_class(kind),
            detail: e.detail,
        }
    }
}

impl From<RigError> for StepError {
    fn from(e: RigError) -> Self {
        let kind = match e.kind() {
            RigErrorKind::Timeout => "rig_timeout",
            RigErrorKind::Garbled => "rig_garbled",
            RigErrorKind::Io => "rig_io",
            RigErrorKind::NotConfigured | RigErrorKind::Config => "rig_config",
        };
        Self {
            kind,
            class: Class::Infrastructure,
            detail: chain(&e),
        }
    }
}

impl From<ClockError> for StepError {
    fn from(e: ClockError) -> Self {
        let (kind, class) = match e.kind() {
            ClockErrorKind::Probe => ("probe", Class::Infrastructure),
            ClockErrorKind::Board => ("clock_read", Class::Board),
            ClockErrorKind::Harness => ("harness", Class::Infrastructure),
        };
        Self {
            kind,
            class,
            detail: chain(&e),
        }
    }
}
