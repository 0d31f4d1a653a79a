//! What the report says, as one serialisable value: the headline, the thresholds, the diagnosis, every
//! breakdown with its 95 % interval, the baseline comparison and the drill-down. The page, summary.json and
//! junit.xml are all renderings of this one value.

use std::path::{Path, PathBuf};

use records::{CycleRow, StepRow, ThresholdCheck, Thresholds};
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

/// One run folder that went into the report.
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
    pub harness_version: String,
    /// Why a stopped run stopped.
    pub stop_reason: Option<String>,
    pub resumed: u32,
    /// The scenario's steps, as the run folder's copy of the scenario file lists them ("flash (verify = true)").
    pub steps: Vec<String>,
    /// The boards of the run with their board files, from the run folder's copy of the rig file.
    pub boards: Vec<RunBoard>,
}

/// A board of a run and the board file the rig gives it (empty when the rig names none).
#[derive(Debug, Clone, Serialize)]
pub struct RunBoard {
    pub name: String,
    pub board_file: String,
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
}

/// The inline SVG charts (left out of summary.json).
#[derive(Debug, Clone, Default)]
pub struct Charts {
    pub boards: String,
    pub timeline: String,
    pub temperature: String,
    pub usb_scatter: String,
    /// Failure rate against HSI error, one panel per HSE frequency, with the detection bands.
    pub mechanism: String,
    /// The detected HSE (PLLM) over the run, one strip per board.
    pub pllm: String,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub harness_version: String,
    pub runs: Vec<RunInfo>,
    pub boards_count: usize,
    pub total: Row,
    /// Every pass threshold of the (first) run folder's manifest, judged by `records::judge`.
    pub thresholds: Vec<ThresholdCheck>,
    pub thresholds_met: bool,
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
    pub usb_error_bins: Vec<Row>,
    pub trim_cal: Vec<TrimRow>,
    pub hsi_deviation_bins: Vec<Row>,
    pub hsi_deviation_source: String,
    pub temperature: Vec<Row>,
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
