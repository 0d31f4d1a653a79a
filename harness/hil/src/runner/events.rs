//! What the runner tells its caller and what a cycle learns: the event stream, where each board is, why a run
//! cannot go on, and the stop request a signal handler shares.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use records::{CycleRow, StepRow};

use crate::clocks::{ClockSnapshot, Derived, HsiMeasurement, SysclkMeasurement};

/// What a cycle learnt about the board, step by step.
#[derive(Debug, Clone, Default)]
pub struct CycleFacts {
    /// The bootloader enumerated on USB this cycle (so an absent serial means an unreadable one).
    pub enumerated: bool,
    pub serial: Option<String>,
    pub option_bytes: Option<Vec<u8>>,
    pub snapshot: Option<ClockSnapshot>,
    pub derived: Option<Derived>,
    pub sysclk: Option<SysclkMeasurement>,
    pub hsi: Option<HsiMeasurement>,
    /// The harness attached a halting probe-rs session this cycle (so far).
    pub halting_attach: bool,
    /// Whether a halting attach preceded a USB enumeration this cycle; `None` until one enumerated.
    pub halted_before_enumeration: Option<bool>,
}

/// One thing that happened, as it happened.
#[derive(Debug, Clone)]
pub enum RunEvent {
    /// A phase begins (after its chamber set-point and settling time).
    PhaseStarted { index: usize, name: String },
    /// A step attempt is starting (for live progress).
    StepStarted {
        board: usize,
        step: &'static str,
        cycle: u64,
    },
    /// A step attempt ended.
    Step { board: usize, row: Box<StepRow> },
    /// A cycle attempt ended (boxed: a row is large next to the other events).
    Cycle { board: usize, row: Box<CycleRow> },
    /// A board stopped early (stop rule), the others go on.
    BoardStopped { board: usize, reason: String },
    /// The rig opened, and these SCPI instruments answered `*IDN?` (sent once, before the first phase; not
    /// for a rig without one).
    Instruments(Vec<records::Instrument>),
}

/// Where each board is in each phase: finished cycles, time spent, the next attempt of an unfinished cycle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhaseProgress {
    pub cycles_done: u64,
    pub elapsed: Duration,
    pub next_attempt: u32,
    /// Failed cycles in a row at the end of what is recorded (for `max_consecutive_failures`).
    pub streak: u64,
}

/// Why a run could not go on: not the boards' fault.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("preparing the flash image {0}")]
    Image(String, #[source] crate::image::ImageError),
    #[error("setting up board {board}: {detail}")]
    Setup { board: String, detail: String },
    #[error("recording the run")]
    Sink(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A request to stop after the current cycle (first Ctrl-C), shared with a signal handler.
#[derive(Clone, Default)]
pub struct StopSignal(pub(super) Arc<AtomicBool>);

impl StopSignal {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}
