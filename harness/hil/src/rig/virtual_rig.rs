//! The virtual rig backend: power, BOOT0, NRST and the chamber mapped onto shared [`vboard::Board`]s in
//! virtual time. A power cycle is a new boot (new HSI jitter, new HSE detection). Its controller fails as the
//! rig file's fault rates say, the way a serial one does: no reply (`Timeout`, the action not carried out),
//! a reply that does not match (`Garbled`, the action carried out), and a relay that acknowledges a power
//! command but does not switch: only a virtual rig can know that, so it reports it at the power step
//! (`RelayStuck`, a rig I/O failure) instead of letting the board fail later for a boot that never happened.
//! The chamber may lag its set-point (`[chamber] time_constant_s`); a board's die temperature is brought up
//! to date at every rig action on it (power, NRST, temperature read), so a boot the rig causes sees the
//! temperature of that moment, and one the debug port or a DFU leave causes that of the board's last rig
//! action. Must not touch serial ports, USB or the wall clock.

use std::sync::Arc;
use std::time::Duration;

use dfuse::{Clock, VirtualClock};
use vboard::{board_seed, Board};

use super::error::RigError;
use super::spec::{BoardSpec, Rig, Wiring};
use super::virtual_chamber::DieTemperature;
use super::virtual_faults::{CommandFault, VirtualFaults};
use super::RigControl;
use crate::transport::VirtualBoard;

/// Time a relay or GPIO line takes to switch, in virtual time.
pub const SWITCH_TIME: Duration = Duration::from_millis(10);
/// How long NRST is held low by a reset pulse.
pub const RESET_PULSE: Duration = Duration::from_millis(10);
/// How long a command waits for a virtual controller that does not answer (a serial rig's default).
pub const REPLY_TIMEOUT: Duration = Duration::from_millis(1000);
/// What the virtual controller's name is in errors, where a serial rig names its port.
const CONTROLLER: &str = "virtual controller";
/// The reply a virtual controller gives, and the same line with one bit flipped.
const REPLY: &str = "OK";
const GARBLED_REPLY: &str = "NK";

/// The boards of a virtual rig, shared with their transports, and the virtual clock they live in.
#[derive(Clone)]
pub struct VirtualRig {
    seats: Arc<[Seat]>,
    clock: Arc<VirtualClock>,
}

/// One board on the virtual bench: its name, the board, the channel its controller commands name (its
/// virtual USB port), its fault draws, and its die temperature under the chamber.
struct Seat {
    name: String,
    board: VirtualBoard,
    channel: u16,
    faults: VirtualFaults,
    die: DieTemperature,
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
        let mut seats = Vec::new();
        for spec in specs {
            let Wiring::Virtual(wiring) = &spec.wiring else {
                return Err(RigError::NotConfigured {
                    action: "simulate a real board",
                });
            };
            let seed = board_seed(seed, wiring.seed);
            let board = Board::new(wiring.config.clone(), seed);
            let die = DieTemperature::new(wiring.chamber_time_constant, board.temperature());
            seats.push(Seat {
                name: spec.name.clone(),
                board: VirtualBoard::new(board),
                channel: u16::from(wiring.port),
                faults: VirtualFaults::new(wiring.faults, seed),
                die,
            });
        }
        Ok(VirtualRig {
            seats: seats.into(),
            clock,
        })
    }

    /// The shared board called `name` (open a `VirtualTransport` on it).
    pub fn board(&self, name: &str) -> Option<&VirtualBoard> {
        self.index(name).map(|i| &self.seats[i].board)
    }

    /// The fault draws of the board called `name` (the runner reseeds them per cycle).
    pub fn faults(&self, name: &str) -> Option<&VirtualFaults> {
        self.index(name).map(|i| &self.seats[i].faults)
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
        self.seats.iter().position(|s| s.name == name)
    }
}

/// One virtual board's rig control. `set_temperature` acts on the whole rig, like a chamber.
pub struct VirtualControl {
    rig: VirtualRig,
    index: usize,
}

impl VirtualControl {
    fn seat(&self) -> &Seat {
        &self.rig.seats[self.index]
    }

    fn board(&self) -> &VirtualBoard {
        &self.seat().board
    }

    fn now(&self) -> Duration {
        self.rig.clock.now()
    }

    /// Brings the die temperature up to date under a lagging chamber.
    fn follow_chamber(&self, now: Duration) {
        if let Some(celsius) = self.seat().die.at(now) {
            self.board().lock().set_temperature(celsius);
        }
    }

    /// The command line as errors show it, like a serial rig's: the rig-file command and the channel.
    fn line(&self, command: &str) -> String {
        format!("{command} {}", self.seat().channel)
    }

    /// Draws how the controller takes `command`: a timeout is waited out and returned as the error; any
    /// other fault is returned for the action to act on.
    fn send(&self, command: &str, power: bool) -> Result<Option<CommandFault>, RigError> {
        let fault = self.seat().faults.command(power);
        if fault == Some(CommandFault::Timeout) {
            self.rig.clock.sleep(REPLY_TIMEOUT);
            return Err(RigError::Timeout {
                port: CONTROLLER.into(),
                command: self.line(command),
                waited_ms: REPLY_TIMEOUT.as_millis() as u64,
            });
        }
        Ok(fault)
    }

    /// The controller's reply to `command`, once its action is done.
    fn reply(&self, command: &str, fault: Option<CommandFault>) -> Result<(), RigError> {
        match fault {
            Some(CommandFault::Garbled) => Err(RigError::Garbled {
                port: CONTROLLER.into(),
                command: self.line(command),
                got: GARBLED_REPLY.into(),
                expected: REPLY.into(),
            }),
            _ => Ok(()),
        }
    }
}

impl RigControl for VirtualControl {
    fn power(&mut self, on: bool) -> Result<(), RigError> {
        let command = if on { "power_on" } else { "power_off" };
        let fault = self.send(command, true)?;
        self.rig.clock.sleep(SWITCH_TIME);
        if fault == Some(CommandFault::RelayStuck) {
            let channel = self.seat().channel;
            return Err(RigError::RelayStuck { channel, on });
        }
        let now = self.now();
        self.follow_chamber(now);
        let mut board = self.board().lock();
        if on {
            board.power_on(now);
        } else {
            board.power_off(now);
        }
        drop(board);
        self.reply(command, fault)
    }

    fn boot0(&mut self, high: bool) -> Result<(), RigError> {
        let command = if high { "boot0_high" } else { "boot0_low" };
        let fault = self.send(command, false)?;
        self.rig.clock.sleep(SWITCH_TIME);
        self.board().lock().set_boot0(high);
        self.reply(command, fault)
    }

    fn reset_pulse(&mut self) -> Result<(), RigError> {
        let fault = self.send("reset_pulse", false)?;
        self.rig.clock.sleep(RESET_PULSE);
        let now = self.now();
        self.follow_chamber(now);
        self.board().lock().reset_pin(now);
        self.reply("reset_pulse", fault)
    }

    fn temperature(&mut self) -> Result<Option<f64>, RigError> {
        self.follow_chamber(self.now());
        Ok(Some(self.board().lock().temperature()))
    }

    /// The virtual bench supply's reading: what the board draws in its state (its board file's `[supply]`).
    fn supply_current(&mut self) -> Result<Option<f64>, RigError> {
        Ok(Some(self.board().lock().supply_current_ma() / 1e3))
    }

    fn set_temperature(&mut self, celsius: f64) -> Result<(), RigError> {
        let now = self.now();
        for seat in self.rig.seats.iter() {
            seat.board
                .lock()
                .set_temperature(seat.die.set_point(celsius, now));
        }
        Ok(())
    }
}
