//! Fault injection: misbehaviour a test asks for, on top of the model, either armed with a countdown
//! ([`Fault`]) or planted by the board file as a probability (`[faults]`, [`FaultsConfig`]). Owns the
//! countdowns and the planted draws; the board decides what each fault does at the right point of a transfer.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::config::FaultsConfig;

/// A fault to inject. Counts are 1-based and start with the next control transfer: `StallOnRequest(1)` stalls
/// the very next transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The n-th transfer from now is stalled without being acted on.
    StallOnRequest(u32),
    /// The n-th transfer from now gets no answer at all (the host times out); not acted on.
    NoResponseOnRequest(u32),
    /// The device leaves the bus after n more transfers, until the next boot.
    DisconnectAfter(u32),
    /// The n-th DFU_GETSTATUS from now answers a short payload (3 of 6 bytes); the device did act.
    CorruptStatus(u32),
    /// Every DFU_GETSTATUS answers dfuDNBUSY with this bwPollTimeout (0 allowed) until the next boot or
    /// [`crate::Board::clear_faults`]; nothing pending executes.
    StuckBusy { poll_timeout_ms: u32 },
    /// After n more transfers the device resets and re-attaches as a new boot (software reset).
    ReEnumerate(u32),
}

/// What the faults say about one transfer before it is acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Before {
    Proceed,
    Stall,
    NoResponse,
}

/// What the faults say after a transfer was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct After {
    pub disconnect: bool,
    pub re_enumerate: bool,
}

/// Armed faults with their countdowns, and the planted probabilities with their own random stream.
#[derive(Debug, Clone)]
pub(crate) struct Faults {
    armed: Vec<Fault>,
    planted: FaultsConfig,
    rng: ChaCha8Rng,
}

impl Faults {
    /// No armed faults; `planted` fire at random from `rng` (a probability of 0 never draws).
    pub fn new(planted: FaultsConfig, rng: ChaCha8Rng) -> Faults {
        Faults {
            armed: Vec::new(),
            planted,
            rng,
        }
    }

    /// Restarts the planted draws (see [`crate::Board::reseed`]).
    pub fn reseed(&mut self, rng: ChaCha8Rng) {
        self.rng = rng;
    }

    pub fn inject(&mut self, fault: Fault) {
        self.armed.push(fault);
    }

    pub fn clear(&mut self) {
        self.armed.clear();
    }

    /// Drops faults that end at a boot (StuckBusy), then draws whether this boot is stuck (planted).
    pub fn on_boot(&mut self) {
        self.armed.retain(|f| !matches!(f, Fault::StuckBusy { .. }));
        if self.draw(self.planted.stuck_busy_per_boot) {
            self.armed.push(Fault::StuckBusy {
                poll_timeout_ms: self.planted.stuck_busy_poll_ms,
            });
        }
    }

    /// The StuckBusy poll timeout, if armed.
    pub fn stuck_busy(&self) -> Option<u32> {
        self.armed.iter().find_map(|f| match f {
            Fault::StuckBusy { poll_timeout_ms } => Some(*poll_timeout_ms),
            _ => None,
        })
    }

    /// Counts one transfer down for the request-level faults and reports what fires now (an armed fault
    /// before a planted one).
    pub fn before_transfer(&mut self) -> Before {
        let stall = self.draw(self.planted.stall_per_transfer);
        let no_response = self.draw(self.planted.no_response_per_transfer);
        let mut verdict = match (stall, no_response) {
            (_, true) => Before::NoResponse,
            (true, false) => Before::Stall,
            _ => Before::Proceed,
        };
        for fault in &mut self.armed {
            let fired = match fault {
                Fault::StallOnRequest(n) => fire(n).then_some(Before::Stall),
                Fault::NoResponseOnRequest(n) => fire(n).then_some(Before::NoResponse),
                _ => None,
            };
            verdict = fired.unwrap_or(verdict);
        }
        self.armed
            .retain(|f| !matches!(f, Fault::StallOnRequest(0) | Fault::NoResponseOnRequest(0)));
        verdict
    }

    /// Counts one GETSTATUS down; true if its reply must be corrupted.
    pub fn corrupt_status(&mut self) -> bool {
        let mut hit = self.draw(self.planted.corrupt_status_per_getstatus);
        for fault in &mut self.armed {
            if let Fault::CorruptStatus(n) = fault {
                hit |= fire(n);
            }
        }
        self.armed.retain(|f| *f != Fault::CorruptStatus(0));
        hit
    }

    /// Counts one answered transfer down for the bus-level faults.
    pub fn after_transfer(&mut self) -> After {
        let mut after = After {
            disconnect: self.draw(self.planted.disconnect_per_transfer),
            re_enumerate: self.draw(self.planted.re_enumerate_per_transfer),
        };
        for fault in &mut self.armed {
            match fault {
                Fault::DisconnectAfter(n) => after.disconnect |= count_down(n),
                Fault::ReEnumerate(n) => after.re_enumerate |= count_down(n),
                _ => {}
            }
        }
        self.armed
            .retain(|f| !matches!(f, Fault::DisconnectAfter(0) | Fault::ReEnumerate(0)));
        after
    }
}

impl Faults {
    /// True with probability `p`; draws only when `p > 0`, so unplanted faults leave the stream untouched.
    fn draw(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.gen::<f64>() < p
    }
}

/// Counts a 1-based "n-th from now" down; true when this is the n-th. Leaves 0 behind when fired.
fn fire(n: &mut u32) -> bool {
    if *n <= 1 {
        *n = 0;
        true
    } else {
        *n -= 1;
        false
    }
}

/// Counts an "after n more" down; true once n transfers have passed. `DisconnectAfter(0)` fires at once.
fn count_down(n: &mut u32) -> bool {
    *n = n.saturating_sub(1);
    *n == 0
}
