//! probe-rs errors mapped to [`ErrorKind`] at the edge: the probe and its USB link are infrastructure, a
//! target that does not answer or faults is the board, a bad request is the harness's.

use probe_rs::architecture::arm::ArmError;
use probe_rs::probe::DebugProbeError;

use crate::clocks::{Classify, ErrorKind};

impl Classify for DebugProbeError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::UnsupportedProtocol(_) | Self::UnsupportedSpeed(_) => ErrorKind::Harness,
            Self::TargetNotFound => ErrorKind::Board,
            _ => ErrorKind::Probe,
        }
    }
}

impl Classify for ArmError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Probe(p) => p.kind(),
            Self::MemoryNotAligned(_) | Self::InvalidDataLength(_) => ErrorKind::Harness,
            Self::AddressOutOf32BitAddressSpace | Self::MissingPermissions(_) => ErrorKind::Harness,
            _ => ErrorKind::Board,
        }
    }
}

impl Classify for probe_rs::Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Probe(p) => p.kind(),
            Self::Arm(a) => a.kind(),
            Self::ChipNotFound(_) | Self::MissingPermissions(_) => ErrorKind::Harness,
            Self::MemoryNotAligned(_) | Self::InvalidDataLength(_) => ErrorKind::Harness,
            Self::NotImplemented(_) => ErrorKind::Harness,
            _ => ErrorKind::Board,
        }
    }
}
