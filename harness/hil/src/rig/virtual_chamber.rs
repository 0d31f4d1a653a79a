//! The virtual chamber as one board's die sees it: after a set-point change the die temperature approaches
//! the set-point exponentially in virtual time (first order, the rig file's `[chamber] time_constant_s`).
//! With a time constant of zero the die is at the set-point at once, as before there was a time constant.

use std::sync::Mutex;
use std::time::Duration;

/// A board's die temperature under a lagging chamber.
pub(crate) struct DieTemperature {
    time_constant: Duration,
    since_set: Mutex<Approach>,
}

/// From `from_c` at `since` towards `to_c`.
#[derive(Debug, Clone, Copy)]
struct Approach {
    from_c: f64,
    since: Duration,
    to_c: f64,
}

impl Approach {
    fn at(&self, now: Duration, time_constant: Duration) -> f64 {
        let tau = now.saturating_sub(self.since).as_secs_f64() / time_constant.as_secs_f64();
        self.to_c + (self.from_c - self.to_c) * (-tau).exp()
    }
}

impl DieTemperature {
    /// A die at `celsius` (its board file's temperature) at time zero, settled there.
    pub fn new(time_constant: Duration, celsius: f64) -> Self {
        let settled = Approach {
            from_c: celsius,
            since: Duration::ZERO,
            to_c: celsius,
        };
        Self {
            time_constant,
            since_set: Mutex::new(settled),
        }
    }

    /// The chamber is set to `celsius` at `now`: returns the die temperature at `now` (the set-point itself
    /// when the chamber does not lag).
    pub fn set_point(&self, celsius: f64, now: Duration) -> f64 {
        if self.time_constant.is_zero() {
            return celsius;
        }
        let mut approach = self.since_set.lock().unwrap_or_else(|e| e.into_inner());
        let die = approach.at(now, self.time_constant);
        *approach = Approach {
            from_c: die,
            since: now,
            to_c: celsius,
        };
        die
    }

    /// The die temperature at `now`, when the chamber lags (`None`: the board already has it).
    pub fn at(&self, now: Duration) -> Option<f64> {
        if self.time_constant.is_zero() {
            return None;
        }
        let approach = self.since_set.lock().unwrap_or_else(|e| e.into_inner());
        Some(approach.at(now, self.time_constant))
    }
}
