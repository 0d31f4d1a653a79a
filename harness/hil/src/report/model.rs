//! What the report says, as one serialisable value built from run folders: the headline, the thresholds,
//! the diagnosis, every breakdown with its 95 % interval, the baseline comparison and the drill-down. The
//! page, summary.json and junit.xml are all renderings of this one value.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::aggregate::{Aggregate, Counts, USB_EDGES};
use super::charts::{self, RatePoint};
use super::diagnosis::{self, Cause};
use super::stats::{compare_rates, wilson, Proportion, RateComparison};
use crate::records::{CycleRow, Manifest, StepRow, CYCLES_CSV, STEPS_CSV};

/// Why a report could not be built (a harness error: the records are missing or unreadable).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("rendering the page: {0}")]
    Template(String),
}

impl ReportError {
    pub(crate) fn io(path: &Path, e: impl std::fmt::Display) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
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
}

/// A count with its rate and 95 % Wilson interval.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub name: String,
    pub cycles: u64,
    pub failures: u64,
    pub rate: Proportion,
}

fn row(name: impl Into<String>, c: Counts) -> Row {
    Row {
        name: name.into(),
        cycles: c.cycles,
        failures: c.failures,
        rate: wilson(c.failures, c.cycles),
    }
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
}

/// A pass threshold checked.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdCheck {
    pub name: String,
    pub limit: String,
    pub value: String,
    pub met: bool,
}

/// The scenario's pass thresholds (from the run folder's copy of the scenario).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Thresholds {
    pub max_failure_rate: Option<f64>,
    pub max_failures_per_board: Option<u64>,
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
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub harness_version: String,
    pub runs: Vec<RunInfo>,
    pub boards_count: usize,
    pub total: Row,
    pub thresholds: Vec<ThresholdCheck>,
    pub thresholds_met: bool,
    pub diagnosis: String,
    pub causes: Vec<Cause>,
    pub boards: Vec<BoardRow>,
    pub phases: Vec<Row>,
    pub board_phases: Vec<BoardPhase>,
    /// Failures by the step that failed, as a share of all failures.
    pub failed_steps: Vec<Row>,
    /// Failures by error kind (with its class), as a share of all failures.
    pub error_kinds: Vec<(Row, String)>,
    pub hse_verdicts: Vec<Row>,
    pub usb_error_bins: Vec<Row>,
    pub trim_cal: Vec<Row>,
    pub hsi_deviation_bins: Vec<Row>,
    pub hsi_deviation_source: String,
    pub temperature: Vec<Row>,
    pub serial: Vec<Row>,
    pub option_bytes: Vec<Row>,
    pub baseline: Option<RateComparison>,
    pub baseline_runs: Vec<String>,
    pub drilldown: Vec<FailedCycle>,
    #[serde(skip)]
    pub charts: Charts,
}

/// Stream the complete rows of a CSV file (a torn last line, from a killed run, is left out) into `f`.
fn for_each_row<T: serde::de::DeserializeOwned>(
    path: &Path,
    mut f: impl FnMut(T),
) -> Result<(), ReportError> {
    let mut file = File::open(path).map_err(|e| ReportError::io(path, e))?;
    let len = file.metadata().map_err(|e| ReportError::io(path, e))?.len();
    let tail_start = len.saturating_sub(64 * 1024);
    file.seek(SeekFrom::Start(tail_start))
        .map_err(|e| ReportError::io(path, e))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)
        .map_err(|e| ReportError::io(path, e))?;
    let keep = tail
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(tail_start, |i| tail_start + i as u64 + 1);
    file.seek(SeekFrom::Start(0))
        .map_err(|e| ReportError::io(path, e))?;
    let mut reader =
        csv::Reader::from_reader(std::io::BufReader::with_capacity(1 << 16, file.take(keep)));
    for (i, record) in reader.deserialize::<T>().enumerate() {
        f(record.map_err(|e| ReportError::io(path, format!("row {}: {e}", i + 2)))?);
    }
    Ok(())
}

fn run_info(dir: &Path) -> Result<RunInfo, ReportError> {
    let m = Manifest::read(dir).map_err(|e| ReportError::io(dir, e))?;
    Ok(RunInfo {
        folder: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        scenario: m.scenario,
        rig: m.rig,
        host: m.host,
        seed: m.seed,
        started_utc: m.started_utc,
        ended_utc: m.ended_utc,
        status: format!("{:?}", m.status).to_lowercase(),
    })
}

/// The pass thresholds in a run folder's copy of its scenario (`[pass]`), if any.
pub fn thresholds_of(dir: &Path) -> Thresholds {
    let text = std::fs::read_to_string(dir.join(crate::soak::SCENARIO_COPY)).unwrap_or_default();
    let value: toml::Value = text
        .parse()
        .unwrap_or(toml::Value::Table(Default::default()));
    let pass = value.get("pass");
    Thresholds {
        max_failure_rate: pass
            .and_then(|p| p.get("max_failure_rate"))
            .and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64))),
        max_failures_per_board: pass
            .and_then(|p| p.get("max_failures_per_board"))
            .and_then(|v| v.as_integer())
            .map(|i| i.max(0) as u64),
    }
}

fn aggregate(runs: &[PathBuf]) -> Result<Aggregate, ReportError> {
    let mut agg = Aggregate::default();
    for (i, dir) in runs.iter().enumerate() {
        for_each_row(&dir.join(CYCLES_CSV), |row: CycleRow| agg.add(i, row))?;
    }
    agg.settle();
    Ok(agg)
}

/// Build the report of `runs` (merged), compared with `baseline` runs when given.
pub fn build(
    runs: &[PathBuf],
    baseline: &[PathBuf],
    thresholds: Thresholds,
) -> Result<Report, ReportError> {
    let infos = runs
        .iter()
        .map(|d| run_info(d))
        .collect::<Result<Vec<_>, _>>()?;
    let agg = aggregate(runs)?;
    let drilldown = drilldown(runs, &infos, &agg)?;
    let base = if baseline.is_empty() {
        None
    } else {
        Some(aggregate(baseline)?.total)
    };
    let causes = diagnosis::causes(&agg);
    let checks = check(&agg, &thresholds);
    Ok(Report {
        harness_version: env!("CARGO_PKG_VERSION").into(),
        runs: infos,
        boards_count: agg.boards.len(),
        total: row("all", agg.total),
        thresholds_met: checks.iter().all(|c| c.met),
        thresholds: checks,
        diagnosis: diagnosis::paragraph(&agg, &causes),
        causes,
        boards: boards(&agg),
        phases: agg.phases.iter().map(|(p, c)| row(p.clone(), *c)).collect(),
        board_phases: agg
            .board_phases
            .iter()
            .map(|((b, p), c)| BoardPhase {
                board: b.clone(),
                phase: p.clone(),
                cycles: c.cycles,
                failures: c.failures,
            })
            .collect(),
        failed_steps: shares(
            agg.failed_steps.iter().map(|(s, n)| (s.clone(), *n)),
            agg.total.failures,
        ),
        error_kinds: agg
            .error_kinds
            .iter()
            .map(|(k, (n, class))| (share(k.clone(), *n, agg.total.failures), class.clone()))
            .collect(),
        hse_verdicts: agg
            .verdicts
            .iter()
            .map(|(v, c)| row(if v.is_empty() { "clocks not read" } else { v }, *c))
            .collect(),
        usb_error_bins: agg
            .usb_bins
            .iter()
            .map(|(e, c)| row(usb_bin_name(*e), *c))
            .collect(),
        trim_cal: agg
            .trim_cal
            .iter()
            .map(|((t, c), n)| row(format!("HSITRIM {t}, HSICAL 0x{c:02X}"), *n))
            .collect(),
        hsi_deviation_bins: agg
            .hsi_bins
            .iter()
            .map(|(e, c)| {
                row(
                    format!(
                        "{:+.1} … {:+.1} %",
                        *e as f64 / 1e4,
                        (*e + 5000) as f64 / 1e4
                    ),
                    *c,
                )
            })
            .collect(),
        hsi_deviation_source: agg
            .hsi_source
            .keys()
            .copied()
            .collect::<Vec<_>>()
            .join(", "),
        temperature: agg
            .temperature
            .iter()
            .map(|(t, c)| row(format!("{t} °C"), *c))
            .collect(),
        serial: vec![
            row("serial matches ST's formula", agg.serial_ok),
            row("serial unreadable or different", agg.serial_bad),
        ],
        option_bytes: agg
            .option_bytes
            .iter()
            .map(|(k, c)| row(k.clone(), *c))
            .collect(),
        baseline: base
            .map(|b| compare_rates(agg.total.failures, agg.total.cycles, b.failures, b.cycles)),
        baseline_runs: baseline.iter().map(|d| d.display().to_string()).collect(),
        drilldown,
        charts: chart_set(&agg),
    })
}

fn share(name: String, n: u64, of: u64) -> Row {
    Row {
        name,
        cycles: of,
        failures: n,
        rate: wilson(n, of),
    }
}

fn shares(items: impl Iterator<Item = (String, u64)>, of: u64) -> Vec<Row> {
    let mut rows: Vec<Row> = items.map(|(n, k)| share(n, k, of)).collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.failures));
    rows
}

fn usb_bin_name(lower: i64) -> String {
    let upper = USB_EDGES.iter().find(|&&e| e > lower);
    match (lower, upper) {
        (i64::MIN, Some(u)) => format!("below {u:+} ppm"),
        (l, Some(u)) => format!("{l:+} … {u:+} ppm"),
        (l, None) => format!("{l:+} ppm and above"),
    }
}

fn boards(agg: &Aggregate) -> Vec<BoardRow> {
    agg.boards
        .iter()
        .map(|(name, b)| BoardRow {
            row: row(name.clone(), b.counts),
            true_hse_mhz: f64::from(b.true_hse_hz) / 1e6,
            infrastructure_failures: b.infrastructure_failures,
            retried_attempts: b.retried_attempts,
            first_failure_utc: b.first_failure_utc.clone(),
            last_failure_utc: b.last_failure_utc.clone(),
        })
        .collect()
}

fn check(agg: &Aggregate, t: &Thresholds) -> Vec<ThresholdCheck> {
    let mut out = Vec::new();
    if let Some(max) = t.max_failure_rate {
        let rate = agg.total.failures as f64 / agg.total.cycles.max(1) as f64;
        out.push(ThresholdCheck {
            name: "failure rate".into(),
            limit: format!("≤ {:.2} %", 100.0 * max),
            value: format!("{:.2} %", 100.0 * rate),
            met: rate <= max,
        });
    }
    if let Some(max) = t.max_failures_per_board {
        for (name, b) in &agg.boards {
            out.push(ThresholdCheck {
                name: format!("failures on {name}"),
                limit: format!("≤ {max}"),
                value: b.counts.failures.to_string(),
                met: b.counts.failures <= max,
            });
        }
    }
    out
}

/// The kept failing cycles with their steps, from a second streaming pass over steps.csv.
fn drilldown(
    runs: &[PathBuf],
    infos: &[RunInfo],
    agg: &Aggregate,
) -> Result<Vec<FailedCycle>, ReportError> {
    let mut out: Vec<FailedCycle> = agg
        .drilldown
        .iter()
        .map(|(run, row)| FailedCycle {
            run: infos[*run].folder.clone(),
            cycle: row.clone(),
            steps: Vec::new(),
        })
        .collect();
    for (i, dir) in runs.iter().enumerate() {
        let wanted: Vec<usize> = (0..out.len())
            .filter(|&k| agg.drilldown[k].0 == i)
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let cycles: std::collections::HashSet<u64> =
            wanted.iter().map(|&k| out[k].cycle.cycle).collect();
        for_each_row(&dir.join(STEPS_CSV), |s: StepRow| {
            if !cycles.contains(&s.cycle) {
                return;
            }
            let hit = wanted.iter().find(|&&k| {
                let c = &out[k].cycle;
                (c.attempt, c.board.as_str(), c.phase.as_str())
                    == (s.attempt, s.board.as_str(), s.phase.as_str())
                    && c.cycle == s.cycle
            });
            if let Some(&k) = hit {
                out[k].steps.push(s);
            }
        })?;
    }
    Ok(out)
}

fn chart_set(agg: &Aggregate) -> Charts {
    let names: Vec<String> = agg.boards.keys().cloned().collect();
    let index = |b: &str| names.iter().position(|n| n == b).unwrap_or(0);
    let point = |c: Counts, x: f64| {
        let p = wilson(c.failures, c.cycles);
        RatePoint {
            x,
            rate: 100.0 * p.rate,
            low: 100.0 * p.low,
            high: 100.0 * p.high,
            n: c.cycles,
        }
    };
    let bars: Vec<(String, RatePoint)> = agg
        .boards
        .iter()
        .enumerate()
        .map(|(i, (n, b))| (n.clone(), point(b.counts, i as f64)))
        .collect();
    let timeline: Vec<(usize, f64)> = agg
        .timeline
        .items
        .iter()
        .map(|(b, t)| (index(b), *t))
        .collect();
    let duration = agg.boards.values().map(|b| b.time_s).fold(0.0, f64::max);
    let mut series: Vec<(String, Vec<RatePoint>)> = Vec::new();
    for ((board, t), c) in &agg.board_temperature {
        match series.iter_mut().find(|(b, _)| b == board) {
            Some((_, pts)) => pts.push(point(*c, *t as f64)),
            None => series.push((board.clone(), vec![point(*c, *t as f64)])),
        }
    }
    let scatter: Vec<(usize, f64, bool)> = agg
        .scatter
        .items
        .iter()
        .map(|(b, p, f)| (index(b), *p, *f))
        .collect();
    Charts {
        boards: charts::rate_bars("Failure rate per board", "board", &bars),
        timeline: charts::failure_timeline(&names, &timeline, duration),
        temperature: charts::rate_vs_temperature(&series),
        usb_scatter: charts::usb_error_scatter(&names, &scatter),
    }
}
