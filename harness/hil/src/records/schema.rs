//! The CSV schema: one flat serde struct per row, column order = field order. Units are in the column names.
//! [`SCHEMA_VERSION`] changes whenever a column's meaning does; every row carries it.

use serde::{Deserialize, Serialize};

/// Version of the cycles.csv / steps.csv column layout and meaning.
pub const SCHEMA_VERSION: u32 = 1;

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
    /// `pass` or `fail`.
    pub outcome: String,
    /// The first step that failed (after its own retries), empty on pass.
    pub failed_step: String,
    /// Stable error name (`io`, `timeout`, `stall`, `rig_timeout`, `probe`, …), empty on pass.
    pub error_kind: String,
    /// `board` or `infrastructure`, empty on pass.
    pub error_class: String,
    pub error_detail: String,
    pub elapsed_ms: f64,
    /// Step retries used in this attempt, all steps together.
    pub step_retries: u32,
    /// iSerialNumber as the host read it at enumeration; empty when unreadable.
    pub usb_serial: String,
    /// ST's formula over the UID read over SWD; empty when the clocks were not read.
    pub expected_serial: String,
    pub serial_match: Option<bool>,
    /// Option bytes over DFU vs FLASH_OPTCR/OPTCR1: `match`, `mismatch`, `dfu_only`, or empty.
    pub option_bytes_check: String,
    pub option_bytes_hex: String,
    pub pllm: Option<u8>,
    pub detected_hse_hz: Option<u32>,
    pub true_hse_hz: u32,
    /// `correct`, `misdetected`, `not_configured`, or empty when the clocks were not read.
    pub hse_verdict: String,
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
}

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
    pub outcome: String,
    pub error_kind: String,
    pub error_class: String,
    pub detail: String,
    pub elapsed_ms: f64,
    /// DFU class requests this step sent.
    pub dfu_requests: u32,
}
