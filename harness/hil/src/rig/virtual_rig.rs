//! The virtual rig backend: power, BOOT0, NRST and the chamber mapped onto shared [`vboard::Board`]s in
//! virtual time. A power cycle is a new boot (new HSI jitter, new HSE detection). Must not touch serial ports,
//! USB or the wall clock.

use std::sync::Arc;
use std::time::Duration;

use dfuse::{Clock, VirtualClock};
use vboard::{board_seed, Board};

use super::error::RigError;
use super::spec::{BoardSpec, Rig, Wiring};
use super::RigControl;
use crate::transport::VirtualBoard;

/// Time a relay or GPIO line takes to switch, in virtual time.
pub const SWITCH_TIME: Duration = Duration::from_millis(10);
/// How long NRST is held low by a reset pulse.
pub const RESET_PULSE: Duration = Duration::from_millis(10);

/// The boards of a virtual rig, shared with their transports, and the virtual clock they live in.
#[derive(Clone)]
pub struct VirtualRig {
    names: Arc<[String]>,
    boards: Arc<[VirtualBoard]>,
    clock: Arc<VirtualClock>,
}

impl VirtualRig {
    /// Builds every board of `rig` (powered off, BOOT0 high). Each board's draws are seeded from its rig-file
    /// seed mixed with the run's `seed`, so one run seed reproduces the whole bench.
    pub fn new(rig: &Rig, clock: Arc<VirtualClock>, seed: u64) -> Result<VirtualRig, RigError> {
        Self::of_boards(&rig.boards, clock, seed)
    }

    /// A virtual rig of just `spec`, in its own virtual time: the soak runner gives every board worker one,
    /// so parallel workers never share (and race on) a clock and each board's record is deterministic.
    pub fn single(
        spec: &BoardSpec,
        clock: Arc<VirtualClock>,
        seed: u64,
    ) -> Result<VirtualRig, RigError> {
        Self::of_boards(std::slice::from_ref(spec), clock, seed)
    }

    fn of_boards(
        specs: &[BoardSpec],
        clock: Arc<VirtualClock>,
        seed: u64,
    ) -> Result<VirtualRig, RigError> {
        let mut names = Vec::new();
        let mut boards = Vec::new();
        for spec in specs {
            let Wiring::Virtual(wiring) = &spec.wiring else {
                return Err(RigError::NotConfigured {
                    action: "simulate a real board",
                });
            };
            names.push(spec.name.clone());
            boards.push(VirtualBoard::new(Board::new(
                wiring.config.clone(),
                board_seed(seed, wiring.seed),
            )));
        }
        Ok(VirtualRig {
            names: names.into(),
            boards: boards.into(),
            clock,
        })
    }

    /// The shared board called `name` (open a `VirtualTransport` on it).
    pub fn board(&self, name: &str) -> Option<&VirtualBoard> {
        self.index(name).map(|i| &self.boards[i])
    }

    /// The rig control of the board called `name`.
    pub fn control(&self, name: &str) -> Option<VirtualControl> {
        self.index(name).map(|index| VirtualControl {
            rig: self.clone(),
            index,
        })
    }

    /// The virtual clock every board and transport of this rig shares.
    pub fn clock(&self) -> &Arc<VirtualClock> {
        &self.clock
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// One virtual board's rig control. `set_temperature` acts on the whole rig, like a chamber.
pub struct VirtualControl {
    rig: VirtualRig,
    index: usize,
}

impl VirtualControl {
    fn board(&self) -> &VirtualBoard {
        &self.rig.boards[self.index]
    }

    fn now(&self) -> Duration {
        self.rig.clock.now()
    }
}

impl RigControl for VirtualControl {
    fn power(&mut self, on: bool) -> Result<(), RigError> {
        self.rig.clock.sleep(SWITCH_TIME);
        let now = self.now();
        let mut board = self.board().lock();
        if on {
            board.power_on(now);
        } else {
            board.power_off(now);
        }
        Ok(())
    }

    fn boot0(&mut self, high: bool) -> Result<(), RigError> {
        self.rig.clock.sleep(SWITCH_TIME);
        self.board().lock().set_boot0(high);
        Ok(())
    }

    fn reset_pulse(&mut self) -> Result<(), RigError> {
        self.rig.clock.sleep(RESET_PULSE);
        let now = self.now();
        self.board().lock().reset_pin(now);
        Ok(())
    }

    fn temperature(&mut self) -> Result<Option<f64>, RigError> {
        Ok(Some(self.board().lock().temperature()))
    }

    fn set_temperature(&mut self, celsius: f64) -> Result<(), RigError> {
        for board in self.rig.boards.iter() {
            board.lock().set_temperature(celsius);
        }
        Ok(())
    }
}
