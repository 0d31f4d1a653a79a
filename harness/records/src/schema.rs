//! The CSV schema: one flat serde struct per row, column order = field order, units in the column names.
//! [`SCHEMA_VERSION`] changes whenever a column's meaning does; every row carries it and the reader refuses
//! any other.

use serde::{Deserialize, Serialize};

use crate::vocab::{ErrorClass, ErrorKind, HseVerdict, OptionBytesCheck, Outcome, SerialMatch};

/// Version of the cycles.csv / steps.csv column layout and meaning. 2: typed `serial_match`
/// (`match`/`mismatch`/`unreadable` instead of true/false). 3: `halted_before_enumeration`. 4:
/// `supply_current_ma`.
pub const SCHEMA_VERSION: u32 = 4;

/// One attempt at one cycle of one board: a row of cycles.csv.
///
/// A cycle retried by the whole-cycle retry policy has one row per attempt; `final_attempt` marks the row
/// that decides the cycle, so a retry never hides a failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CycleRow {
    pub schema: u32,
    /// Wall-clock start, RFC 3339 UTC (for lining up with other logs).
    pub started_utc: String,
    /// Start on the run's clock (virtual time for virtual rigs), seconds since the run started.
    pub time_s: f64,
    pub board: String,
    pub phase: String,
    /// 1-based within the phase.
    pub cycle: u64,
    /// 1-based attempt of this cycle (whole-cycle retries).
    pub attempt: u32,
    pub final_attempt: bool,
    pub temperature_c: Option<f64>,
    pub outcome: Outcome,
    /// The first step that failed (after its own retries), empty on pass.
    pub failed_step: String,
    /// What failed, empty on pass.
    pub error_kind: Option<ErrorKind>,
    /// Who failed, empty on pass.
    pub error_class: Option<ErrorClass>,
    pub error_detail: String,
    pub elapsed_ms: f64,
    /// Step retries used in this attempt, all steps together.
    pub step_retries: u32,
    /// iSerialNumber as the host read it at enumeration; empty when unreadable.
    pub usb_serial: String,
    /// ST's formula over the UID read over SWD; empty when the clocks were not read.
    pub expected_serial: String,
    /// Empty when not enumerated, or when the serial was read but the clocks were not.
    pub serial_match: Option<SerialMatch>,
    pub option_bytes_check: Option<OptionBytesCheck>,
    pub option_bytes_hex: String,
    pub pllm: Option<u8>,
    pub detected_hse_hz: Option<u32>,
    pub true_hse_hz: u32,
    /// Empty when the clocks were not read.
    pub hse_verdict: Option<HseVerdict>,
    pub hse_error_mhz: Option<i32>,
    pub sysclk_hz: Option<f64>,
    pub sysclk_measured_hz: Option<f64>,
    pub sysclk_measured_uncertainty_hz: Option<f64>,
    pub usb_clock_hz: Option<f64>,
    pub usb_clock_error_ppm: Option<f64>,
    pub usb_in_tolerance: Option<bool>,
    pub hsitrim: Option<u8>,
    pub hsical: Option<u8>,
    pub hsi_measured_error_ppm: Option<f64>,
    /// Virtual boards only: the HSI error the model drew for this boot (ground truth, for checking the
    /// harness's own inferences). Empty for real boards.
    pub model_hsi_error_ppm: Option<f64>,
    /// Whether the harness halted the core (a halting probe-rs attach: the HSI measurement, which also resets
    /// it; probe-rs issue 3135) before a USB enumeration it used this cycle. Empty when the bootloader did not
    /// enumerate.
    pub halted_before_enumeration: Option<bool>,
    /// The supply current the board drew at the end of the cycle (the rig's `current` query, a bench supply's
    /// `MEAS:CURR?`), mA. Empty when the rig cannot measure it or the reading failed.
    pub supply_current_ma: Option<f64>,
}

impl CycleRow {
    /// Whether this attempt decides its cycle and failed.
    pub fn failed(&self) -> bool {
        self.outcome == Outcome::Fail
    }
}

/// cycles.csv's header, in order.
pub const CYCLE_COLUMNS: [&str; 38] = [
    "schema",
    "started_utc",
    "time_s",
    "board",
    "phase",
    "cycle",
    "attempt",
    "final_attempt",
    "temperature_c",
    "outcome",
    "failed_step",
    "error_kind",
    "error_class",
    "error_detail",
    "elapsed_ms",
    "step_retries",
    "usb_serial",
    "expected_serial",
    "serial_match",
    "option_bytes_check",
    "option_bytes_hex",
    "pllm",
    "detected_hse_hz",
    "true_hse_hz",
    "hse_verdict",
    "hse_error_mhz",
    "sysclk_hz",
    "sysclk_measured_hz",
    "sysclk_measured_uncertainty_hz",
    "usb_clock_hz",
    "usb_clock_error_ppm",
    "usb_in_tolerance",
    "hsitrim",
    "hsical",
    "hsi_measured_error_ppm",
    "model_hsi_error_ppm",
    "halted_before_enumeration",
    "supply_current_ma",
];

/// One attempt at one step: a row of steps.csv.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StepRow {
    pub schema: u32,
    pub started_utc: String,
    pub time_s: f64,
    pub board: String,
    pub phase: String,
    pub cycle: u64,
    pub attempt: u32,
    /// 0-based position of the step in the cycle.
    pub index: usize,
    pub step: String,
    /// 1-based try of this step (per-step retries).
    #[serde(rename = "try")]
    pub try_number: u32,
    pub outcome: Outcome,
    pub error_kind: Option<ErrorKind>,
    pub error_class: Option<ErrorClass>,
    pub detail: String,
    pub elapsed_ms: f64,
    /// DFU class requests this step sent.
    pub dfu_requests: u32,
}

/// Which try of which step a steps.csv row is: (board, phase, cycle, attempt, step index, try). Unique in a run.
pub type TryKey = (String, String, u64, u32, usize, u32);

impl StepRow {
    pub fn try_key(&self) -> TryKey {
        (
            self.board.clone(),
            self.phase.clone(),
            self.cycle,
            self.attempt,
            self.index,
            self.try_number,
        )
    }
}

/// steps.csv's header, in order.
pub const STEP_COLUMNS: [&str; 16] = [
    "schema",
    "started_utc",
    "time_s",
    "board",
    "phase",
    "cycle",
    "attempt",
    "index",
    "step",
    "try",
    "outcome",
    "error_kind",
    "error_class",
    "detail",
    "elapsed_ms",
    "dfu_requests",
];
