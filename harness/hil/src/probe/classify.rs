//! probe-rs errors mapped to [`Culprit`] at the edge: the probe and its USB link are infrastructure, a
//! target that does not answer or faults is the board, a bad request is the harness's.

use probe_rs::architecture::arm::ArmError;
use probe_rs::probe::DebugProbeError;

use crate::clocks::{Classify, Culprit};

impl Classify for DebugProbeError {
    fn culprit(&self) -> Culprit {
        match self {
            Self::UnsupportedProtocol(_) | Self::UnsupportedSpeed(_) => Culprit::Harness,
            Self::TargetNotFound => Culprit::Board,
            _ => Culprit::Probe,
        }
    }
}

impl Classify for ArmError {
    fn culprit(&self) -> Culprit {
        match self {
            Self::Probe(p) => p.culprit(),
            Self::MemoryNotAligned(_) | Self::InvalidDataLength(_) => Culprit::Harness,
            Self::AddressOutOf32BitAddressSpace | Self::MissingPermissions(_) => Culprit::Harness,
            _ => Culprit::Board,
        }
    }
}

impl Classify for probe_rs::Error {
    fn culprit(&self) -> Culprit {
        match self {
            Self::Probe(p) => p.culprit(),
            Self::Arm(a) => a.culprit(),
            Self::ChipNotFound(_) | Self::MissingPermissions(_) => Culprit::Harness,
            Self::MemoryNotAligned(_) | Self::InvalidDataLength(_) => Culprit::Harness,
            Self::NotImplemented(_) => Culprit::Harness,
            _ => Culprit::Board,
        }
    }
}
