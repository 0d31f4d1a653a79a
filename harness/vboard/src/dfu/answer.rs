//! What a DFU request hands back to the board (reply, busy time, after-effect) and what it may touch.

use std::time::Duration;

use crate::config::BoardConfig;
use crate::memory::Memory;
use crate::standard::Stall;
use crate::stats::{Rule, Violation};

/// What the board has to do after answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    Nothing,
    /// The device reported dfuMANIFEST: detach, then jump or reset (AN3156 §5.5).
    Manifest,
    /// Detach now and reset after this many ms (option-byte write, Read Unprotect).
    Reset(u32),
}

/// The answer to one DFU request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub reply: Result<Vec<u8>, Stall>,
    /// The device is busy (flash work) this long after the transfer; also the bwPollTimeout it reported.
    pub busy_ms: u32,
    pub after: After,
}

impl Answer {
    pub(crate) fn ok(reply: Vec<u8>) -> Answer {
        Answer {
            reply: Ok(reply),
            busy_ms: 0,
            after: After::Nothing,
        }
    }

    pub(crate) fn stall() -> Answer {
        Answer {
            reply: Err(Stall),
            busy_ms: 0,
            after: After::Nothing,
        }
    }
}

/// What a request may touch besides the DFU state.
pub(crate) struct Ctx<'a> {
    pub config: &'a BoardConfig,
    pub memory: &'a mut Memory,
    pub violations: &'a mut Vec<Violation>,
    pub now: Duration,
}

impl Ctx<'_> {
    pub fn violation(&mut self, rule: Rule, detail: String) {
        self.violations.push(Violation {
            at: self.now,
            rule,
            detail,
        });
    }
}
