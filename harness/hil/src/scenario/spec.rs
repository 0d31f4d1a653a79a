//! The validated scenario: the rig and boards to soak, the phases, the steps of one cycle, and the retry,
//! stop and pass rules — everything the runner consumes. Built only by [`Scenario::load`]; no run-time state.

use std::path::PathBuf;
use std::time::Duration;

use records::Thresholds;

use crate::rig::{BoardSpec, Rig};

/// One soak run's plan, from a scenario file.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The scenario file this came from.
    pub path: PathBuf,
    /// The rig file named by `rig`, loaded and validated.
    pub rig: Rig,
    /// Indices into `rig.boards` of the boards under test, in rig order.
    pub boards: Vec<usize>,
    /// Seed for virtual boards (real rigs ignore it).
    pub seed: u64,
    /// Phases in order (never empty).
    pub phases: Vec<Phase>,
    /// The steps of one cycle, in order (never empty).
    pub cycle: Vec<Step>,
    pub retry: CycleRetry,
    pub stop: StopRules,
    /// `[pass]`, defaults resolved; the soak writes it into manifest.json.
    pub pass: Thresholds,
}

impl Scenario {
    /// The boards under test.
    pub fn boards(&self) -> impl Iterator<Item = &BoardSpec> {
        self.boards.iter().map(|&i| &self.rig.boards[i])
    }
}

/// A stretch of the run with one length and, optionally, one chamber set-point.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub name: String,
    pub length: PhaseLength,
    /// Chamber set-point for this phase, °C.
    pub temperature_c: Option<f64>,
    /// Wait after reaching the set-point before the first cycle.
    pub settle: Duration,
}

/// How long a phase lasts, per board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseLength {
    Cycles(u64),
    Duration(Duration),
}

/// One step of a cycle with its own timeout and retries.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub action: Action,
    /// The whole step, including waits inside it, must finish within this.
    pub timeout: Duration,
    /// Extra attempts after a failed one (0 = try once).
    pub retries: u32,
}

/// What a step does. The TOML `kind` is the snake_case variant name.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Power off, wait `off`, power on: a cold boot.
    PowerCycle { off: Duration },
    /// Drive BOOT0.
    Boot0 { high: bool },
    /// Pulse NRST: a warm boot.
    Reset,
    /// Wait for the DFU device to appear on USB.
    WaitEnumeration,
    /// Open the DFU interface (descriptors, alternate settings, functional descriptor).
    DfuConnect,
    /// Upload the option bytes (the seed's failing operation).
    ReadOptionBytes,
    /// Read RCC registers through the probe and decode the clock tree.
    ReadClocks,
    /// Measure SYSCLK with the probe over `window`.
    MeasureSysclk { window: Duration },
    /// Measure HSI with the probe over `window`.
    MeasureHsi { window: Duration },
    /// Download `image` (at `address` for a generated or raw binary image; .hex, .elf and .dfu files carry
    /// their own addresses), optionally reading it back.
    Flash {
        image: ImageSource,
        address: Option<u32>,
        verify: bool,
    },
    /// DfuSe leave: jump to the application.
    Leave,
    /// Wait.
    Delay { time: Duration },
    /// Run an external tool (STM32_Programmer_CLI, dfu-util) against the board: its USB device released first.
    Exec(ExecStep),
}

/// An `exec` step: the command line (placeholders filled per board and cycle) and how its output is judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecStep {
    /// Program and arguments with placeholders ([`EXEC_PLACEHOLDERS`]); no shell.
    pub command: Vec<String>,
    /// A regex that must match a line of its output (stdout and stderr) for the step to pass.
    pub pass: Option<String>,
    /// A regex whose first matching line of output fails the step, whatever the exit code.
    pub fail: Option<String>,
}

/// The placeholders an exec step's arguments may use.
pub const EXEC_PLACEHOLDERS: [&str; 10] = [
    "board",
    "usb_serial",
    "usb_path",
    "phase",
    "cycle",
    "attempt",
    "try",
    "run_dir",
    "exec_dir",
    "step_id",
];

impl Action {
    /// The TOML `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::PowerCycle { .. } => "power_cycle",
            Action::Boot0 { .. } => "boot0",
            Action::Reset => "reset",
            Action::WaitEnumeration => "wait_enumeration",
            Action::DfuConnect => "dfu_connect",
            Action::ReadOptionBytes => "read_option_bytes",
            Action::ReadClocks => "read_clocks",
            Action::MeasureSysclk { .. } => "measure_sysclk",
            Action::MeasureHsi { .. } => "measure_hsi",
            Action::Flash { .. } => "flash",
            Action::Leave => "leave",
            Action::Delay { .. } => "delay",
            Action::Exec(_) => "exec",
        }
    }
}

/// Where a flash step's image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// `size` bytes generated from `seed` (see [`super::generate_image`]): no file to ship or lose.
    Generate { size: usize, seed: u64 },
    /// A file (.bin, .hex, .elf, .dfu), resolved relative to the scenario file.
    File(PathBuf),
}

/// Whether and when a failed cycle is run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleRetry {
    /// Extra attempts of a failed cycle (0 = never).
    pub attempts: u32,
    pub on: RetryOn,
}

/// Which failures a cycle retry covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetryOn {
    /// Only rig (infrastructure) failures: board failures are what the soak counts.
    Rig,
    /// Every failure.
    Any,
}

/// When to end the run early (all optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StopRules {
    pub max_failures: Option<u64>,
    pub max_consecutive_failures: Option<u64>,
    pub max_duration: Option<Duration>,
}
