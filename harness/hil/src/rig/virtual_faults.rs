//! The dice of a virtual rig's faults: from a board's [`FaultRates`], which of its controller commands and
//! clock reads fail. They are reseeded at every cycle from the same (seed, board, phase, cycle, attempt) as
//! the board's own draws, on ChaCha streams of their own, so a resumed run draws what an uninterrupted one
//! would and the board's draws are the same with or without rig faults. A zero rate draws nothing.

use std::sync::{Arc, Mutex};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::spec::FaultRates;
use crate::clocks::{ClockError, Culprit};

/// ChaCha streams of a seed for the rig's draws (the board draws from streams 0 to 2 of the same seed).
const CONTROLLER_STREAM: u64 = 16;
const PROBE_STREAM: u64 = 17;

/// How one controller command fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandFault {
    /// The controller does not answer; the action is not carried out.
    Timeout,
    /// The action is carried out, but the reply does not match.
    Garbled,
    /// A power command is acknowledged, but the relay does not switch.
    RelayStuck,
}

/// One board's fault draws, shared by its rig control and the runner (which reseeds them per cycle and
/// asks them before each clock read).
#[derive(Debug, Clone)]
pub struct VirtualFaults(Arc<Mutex<Dice>>);

#[derive(Debug)]
struct Dice {
    rates: FaultRates,
    controller: ChaCha8Rng,
    probe: ChaCha8Rng,
}

fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// The virtual probe dropped out: an infrastructure failure that [`ClockError`] classes as the probe's.
#[derive(Debug, thiserror::Error)]
#[error("the virtual probe dropped out (the rig file's probe_dropout_rate)")]
pub struct ProbeDropout;

impl VirtualFaults {
    /// Draws at `rates`, first from `seed` (a soak reseeds before every cycle).
    pub fn new(rates: FaultRates, seed: u64) -> Self {
        let dice = Dice {
            rates,
            controller: stream(seed, CONTROLLER_STREAM),
            probe: stream(seed, PROBE_STREAM),
        };
        Self(Arc::new(Mutex::new(dice)))
    }

    /// Restart the draws from `seed` (the cycle seed the board is reseeded with).
    pub fn reseed(&self, seed: u64) {
        let mut dice = self.lock();
        dice.controller = stream(seed, CONTROLLER_STREAM);
        dice.probe = stream(seed, PROBE_STREAM);
    }

    /// How the next controller command fails, if it does; `power`: a power command, which a stuck relay can
    /// hit. One draw per command that can fail, split between the ways it can.
    pub fn command(&self, power: bool) -> Option<CommandFault> {
        let mut dice = self.lock();
        let r = dice.rates;
        let stuck = if power { r.relay_stuck } else { 0.0 };
        if r.timeout + r.garbled + stuck == 0.0 {
            return None;
        }
        let u: f64 = dice.controller.gen();
        if u < r.timeout {
            Some(CommandFault::Timeout)
        } else if u < r.timeout + r.garbled {
            Some(CommandFault::Garbled)
        } else if u < r.timeout + r.garbled + stuck {
            Some(CommandFault::RelayStuck)
        } else {
            None
        }
    }

    /// Before a clock read: `Err` when the probe drops out for it.
    pub fn probe_read(&self) -> Result<(), ClockError> {
        let mut dice = self.lock();
        let rate = dice.rates.probe_dropout;
        if rate == 0.0 || dice.probe.gen::<f64>() >= rate {
            return Ok(());
        }
        Err(ClockError::Probe {
            during: "reading the clocks".into(),
            culprit: Culprit::Probe,
            source: Box::new(ProbeDropout),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Dice> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
