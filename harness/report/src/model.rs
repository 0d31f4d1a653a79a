//! What the report says, as one serialisable value: the headline, the thresholds, the diagnosis, every
//! breakdown with its 95 % interval, the baseline comparison and the drill-down. The page, summary.json and
//! junit.xml are all renderings of this one value.

use std::path::{Path, PathBuf};

use records::{CycleRow, StepRow, Thresholds};
use serde::Serialize;

use crate::diagnosis::{Cause, Test};
use crate::stats::{Proportion, RateComparison};

/// Why a report could not be built or written (a harness error: the records are missing or unreadable).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Records(#[from] records::RecordError),
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: given twice (a run folder counts once; as a run and as its own baseline it compares nothing)")]
    Duplicate(PathBuf),
    #[error("rendering the page")]
    Template(#[source] minijinja::Error),
}

impl ReportError {
    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Version of summary.json's layout (the serialised [`Report`]); harness/report/summary.schema.json
/// describes it. Changes when a key's meaning does.
/// 2: `supply_current`.
pub const SUMMARY_SCHEMA: u32 = 2;

/// One run folder that went into the report, judged by its own manifest's thresholds.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub folder: String,
    pub scenario: String,
    pub rig: String,
    pub host: String,
    pub seed: u64,
    pub started_utc: String,
    pub ended_utc: Option<String>,
    pub status: String,
    /// What its boards' names end with in this report (`@host`), when boards of different rigs or hosts
    /// are kept apart; null: the names as recorded.
    pub board_suffix: Option<String>,
    /// Its own decided cycles and failures, with the 95 % Wilson interval.
    pub cycles: u64,
    pub failures: u64,
    pub rate: Proportion,
    /// Mean recorded temperature of its cycles (null when none was recorded).
    pub mean_temperature_c: Option<f64>,
    /// Its thresholds (from its own manifest) met.
    pub thresholds_met: bool,
    pub harness_version: String,
    /// Why a stopped run stopped.
    pub stop_reason: Option<String>,
    pub resumed: u32,
    /// The scenario's phases the run never started (it stopped or was interrupted before them).
    pub phases_not_run: Vec<String>,
    /// The scenario's steps, as the run folder's copy of the scenario file lists them ("flash (verify = true)").
    pub steps: Vec<String>,
    /// The boards of the run with their board files, from the run folder's copy of the rig file.
    pub boards: Vec<RunBoardFile>,
    /// The rig's SCPI instruments as they answered `*IDN?` (from the manifest).
    pub instruments: Vec<records::Instrument>,
}

/// A board of a run and the board file the rig gives it (empty when the rig names none).
#[derive(Debug, Clone, Serialize)]
pub struct RunBoardFile {
    pub name: String,
    pub board_file: String,
}

/// One board in one run (a row of the "Runs" section).
#[derive(Debug, Clone, Serialize)]
pub struct RunBoard {
    pub run: String,
    pub board: String,
    pub cycles: u64,
    pub failures: u64,
    pub rate: Proportion,
}

/// One pass threshold of one run, judged by `records::judge`; numbers with their unit in the key, one of
/// the two kinds filled: the failure rate (`max_failure_rate_fraction`, `failure_rate_fraction`, fractions
/// 0..1) or a board's failures (`max_failures`, `failures`).
#[derive(Debug, Clone, Serialize)]
pub struct Threshold {
    /// The run folder whose manifest set it.
    pub run: String,
    /// `failure rate`, or `failures on <board>` (with `<run>: ` before it in a merged report).
    pub name: String,
    /// The board of a per-board threshold.
    pub board: Option<String>,
    pub met: bool,
    pub sentence: String,
    pub max_failure_rate_fraction: Option<f64>,
    pub failure_rate_fraction: Option<f64>,
    pub max_failures: Option<u64>,
    pub failures: u64,
    pub cycles: u64,
    /// The limit and the value as the page shows them (`≤ 5.00 %`).
    pub limit_text: String,
    pub value_text: String,
}

/// A bin of a measured quantity: its row and its numeric edges (null: open-ended).
#[derive(Debug, Clone, Serialize)]
pub struct Bin {
    #[serde(flatten)]
    pub row: Row,
    pub low_ppm: Option<f64>,
    pub high_ppm: Option<f64>,
}

/// Cycles at one temperature (rounded to 1 °C).
#[derive(Debug, Clone, Serialize)]
pub struct TemperatureRow {
    #[serde(flatten)]
    pub row: Row,
    pub temperature_c: i64,
}

/// A count with its rate and 95 % Wilson interval.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: String,
    pub cycles: u64,
    pub failures: u64,
    pub rate: Proportion,
}

/// A board's line.
#[derive(Debug, Clone, Serialize)]
pub struct BoardRow {
    #[serde(flatten)]
    pub row: Row,
    pub true_hse_mhz: f64,
    pub infrastructure_failures: u64,
    pub retried_attempts: u64,
    pub first_failure_utc: Option<String>,
    pub last_failure_utc: Option<String>,
    /// The runs it was seen in, as indices into `runs`.
    pub runs: Vec<usize>,
    /// The same failures on the run's clock (seconds since the start), the timeline's axis.
    pub first_failure_s: Option<f64>,
    pub last_failure_s: Option<f64>,
}

/// An HSITRIM/HSICAL pair with the boards that had it.
#[derive(Debug, Clone, Serialize)]
pub struct TrimRow {
    #[serde(flatten)]
    pub row: Row,
    pub boards: Vec<String>,
}

/// A failing cycle with its step trace and clock snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct FailedCycle {
    pub run: String,
    pub cycle: CycleRow,
    pub steps: Vec<StepRow>,
}

/// One board in one phase.
#[derive(Debug, Clone, Serialize)]
pub struct BoardPhase {
    pub board: String,
    pub phase: String,
    pub cycles: u64,
    pub failures: u64,
    /// Seconds its attempts took (retries included).
    pub elapsed_s: f64,
    /// Failed as a junit.xml test case: it has failures and its board has failures in a run that missed a
    /// threshold (that run's failure rate, or this board's own limit).
    pub failed: bool,
    /// Its first failing cycles (at most 3), in file order.
    pub first_failures: Vec<FirstFailure>,
}

/// A failing cycle in brief: what junit.xml's failure bodies list.
#[derive(Debug, Clone, Serialize)]
pub struct FirstFailure {
    pub run: String,
    pub cycle: u64,
    pub attempt: u32,
    pub failed_step: String,
    pub error_kind: Option<String>,
    pub error_detail: String,
    pub hse_verdict: Option<String>,
    pub pllm: Option<u8>,
    pub sysclk_hz: Option<f64>,
    pub usb_clock_error_ppm: Option<f64>,
    pub temperature_c: Option<f64>,
}

/// The inline SVG charts (left out of summary.json).
#[derive(Debug, Clone, Default)]
pub struct Charts {
    pub boards: String,
    pub timeline: String,
    pub temperature: String,
    pub usb_scatter: String,
    /// Failure rate per run, per board (empty for one run).
    pub trend: String,
    /// Failure rate against HSI error, one panel per HSE frequency, with the detection bands.
    pub mechanism: String,
    /// The detected HSE (PLLM) over the run, one strip per board.
    pub pllm: String,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`SUMMARY_SCHEMA`].
    pub schema: u32,
    pub harness_version: String,
    /// The run folders, in the order given.
    pub runs: Vec<RunInfo>,
    /// Each board in each run, runs in start order (empty for one run).
    pub run_boards: Vec<RunBoard>,
    pub boards_count: usize,
    pub total: Row,
    /// Every pass threshold of every run, each run judged by its own manifest through `records::judge`.
    pub thresholds: Vec<Threshold>,
    /// Every run met its thresholds.
    pub thresholds_met: bool,
    /// A baseline regression fails the report (`--fail-on-regression`).
    pub fail_on_regression: bool,
    /// The verdict the exit code gives: thresholds met, and no regression when `fail_on_regression`.
    pub passed: bool,
    /// What the reader should know before trusting a comparison (a baseline of another scenario or rig).
    pub warnings: Vec<String>,
    /// The thresholds as numbers, for the page to write them with its own rounding.
    pub pass: Thresholds,
    pub usb_tolerance_ppm: f64,
    /// The diagnosis paragraph: every cause with its boards, then the anomalies.
    pub diagnosis: String,
    /// The named findings, causes first, strongest first.
    pub causes: Vec<Cause>,
    /// Every contrast the diagnosis tested, named ones first.
    pub candidates: Vec<Test>,
    pub boards: Vec<BoardRow>,
    pub phases: Vec<Row>,
    pub board_phases: Vec<BoardPhase>,
    /// Failures by the step that failed, as a share of all failures.
    pub failed_steps: Vec<Row>,
    /// Failures by error kind (with its class), as a share of all failures.
    pub error_kinds: Vec<(Row, String)>,
    pub hse_verdicts: Vec<Row>,
    pub usb_error_bins: Vec<Bin>,
    pub trim_cal: Vec<TrimRow>,
    pub hsi_deviation_bins: Vec<Bin>,
    pub hsi_deviation_source: String,
    pub temperature: Vec<TemperatureRow>,
    /// Cycles by the supply current the board drew at the end of the cycle (empty when the rig measures none).
    pub supply_current: Vec<Row>,
    /// Whether some board ran at more than one temperature (the temperature sections' condition).
    pub temperature_varies: bool,
    pub serial: Vec<Row>,
    pub option_bytes: Vec<Row>,
    pub baseline: Option<RateComparison>,
    pub baseline_runs: Vec<String>,
    pub drilldown: Vec<FailedCycle>,
    #[serde(skip)]
    pub charts: Charts,
}
