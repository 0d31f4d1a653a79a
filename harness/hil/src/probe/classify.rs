//! probe-rs errors mapped to [`Culprit`] at the edge: the probe, its USB link and the SWD link to the chip's
//! debug port are infrastructure (`probe`): a target that never answers, a debug domain that does not power up,
//! an access port that answers WAIT or FAULT for ever, a timeout on the debug link. From the host these look the
//! same as a loose SWD cable or an unpowered VTref, and they say nothing about the DFU bootloader the soak tests,
//! so they are not counted against the board. probe-rs reports a core that does not halt in time with the same
//! timeout as the debug link, so that is the probe's too; a core it reports as not halted, and other core
//! faults, stay the board's. A FAULT on a memory read is also what a bus fault at an unmapped address gives; the
//! harness reads only registers the chip has, so there it means the link. A bad request is the harness's.

use probe_rs::architecture::arm::ArmError;
use probe_rs::probe::DebugProbeError;

use crate::clocks::{Classify, Culprit};

impl Classify for DebugProbeError {
    fn culprit(&self) -> Culprit {
        match self {
            Self::UnsupportedProtocol(_) | Self::UnsupportedSpeed(_) => Culprit::Harness,
            _ => Culprit::Probe,
        }
    }
}

impl Classify for ArmError {
    fn culprit(&self) -> Culprit {
        match self {
            Self::Probe(p) => p.culprit(),
            // The SWD link: ACKs of WAIT or FAULT, no ACK, bad parity; the debug port's power-up; timeouts.
            Self::Dap(_) | Self::DebugPort(_) | Self::Timeout => Culprit::Probe,
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
            Self::Timeout => Culprit::Probe,
            Self::ChipNotFound(_) | Self::MissingPermissions(_) => Culprit::Harness,
            Self::MemoryNotAligned(_) | Self::InvalidDataLength(_) => Culprit::Harness,
            Self::NotImplemented(_) => Culprit::Harness,
            _ => Culprit::Board,
        }
    }
}
