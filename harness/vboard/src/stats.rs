//! What the board saw: transfer counters and host protocol-rule violations. Owns no behaviour.

use std::collections::BTreeMap;
use std::time::Duration;

/// Counters over the board's lifetime (not reset by power cycles).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Control transfers that reached an attached device.
    pub transfers: u64,
    /// Transfers per request name (`DFU_GETSTATUS`, `GET_DESCRIPTOR`, ...; see [`crate::setup::Setup::name`]).
    pub by_request: BTreeMap<&'static str, u64>,
    /// Data bytes delivered to the host (IN) and accepted from it (OUT).
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Transfers answered with a stall.
    pub stalls: u64,
    /// Transfers that failed on the bus (a packet lost after all attempts).
    pub protocol_errors: u64,
    /// Transfers that got no answer (fault injection).
    pub no_responses: u64,
    /// Transfers attempted while the device was not on the bus.
    pub disconnected: u64,
    /// Packets lost after all attempts.
    pub packets_lost: u64,
    /// Boots of any kind.
    pub boots: u64,
    /// Power-ons (each resets the debug logic too).
    pub power_ons: u64,
}

impl Stats {
    /// Transfers that did not complete successfully.
    pub fn failures(&self) -> u64 {
        self.stalls + self.protocol_errors + self.no_responses + self.disconnected
    }

    pub(crate) fn count_request(&mut self, name: &'static str) {
        self.transfers += 1;
        *self.by_request.entry(name).or_insert(0) += 1;
    }
}

/// A host protocol rule the board saw broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// A request arrived before the bwPollTimeout of the last DNBUSY status had elapsed.
    PolledEarly,
    /// DNLOAD/UPLOAD with wBlockNum > 2 and wLength ≠ wTransferSize: ROM behaviour unverified (reference §1.3).
    TransferSizeUnverified,
    /// A DFU request in a state that does not accept it.
    WrongState,
    /// A write to flash or OTP that needed a bit to go 0 → 1 (erase before write).
    NotErased,
    /// An unknown DfuSe command, reserved block number or malformed command.
    UnsupportedCommand,
    /// The data passed with an OUT transfer does not match wLength, or IN transfer carried data.
    LengthMismatch,
}

/// One observed violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Virtual time of the request.
    pub at: Duration,
    pub rule: Rule,
    pub detail: String,
}
