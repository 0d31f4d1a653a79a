//! Building the [`Report`] from run folders: one streaming pass over each cycles.csv into an [`Aggregate`],
//! each run judged by its own manifest's thresholds through `records::judge`, the diagnosis, every
//! breakdown as rows with intervals, the drill-down's steps from steps.csv, and the charts.

use std::path::{Path, PathBuf};

use records::{name_of, Chunk, Counts, CycleRow, Manifest, Rows, CYCLES_CSV};

use crate::aggregate::Aggregate;
use crate::charts::{self, RatePoint};
use crate::diagnosis;
use crate::drilldown::steps_of;
use crate::environment::{board_files, scenario_steps};
use crate::model::{
    Bin, BoardPhase, BoardRow, Charts, FailedCycle, FirstFailure, Report, ReportError, Row,
    RunBoardFile, RunInfo, TemperatureRow, TrimRow, SUMMARY_SCHEMA,
};
use crate::runs::{self, Verdicts};
use crate::stats::{compare_rates, wilson};

fn row(name: impl Into<String>, c: Counts) -> Row {
    Row {
        name: name.into(),
        cycles: c.cycles,
        failures: c.failures,
        rate: wilson(c.failures, c.cycles),
    }
}

fn run_info(dir: &Path, m: &Manifest, i: usize, agg: &Aggregate, v: &Verdicts) -> RunInfo {
    let r = agg.run(i);
    RunInfo {
        board_suffix: v.suffixes[i].clone(),
        cycles: r.counts.cycles,
        failures: r.counts.failures,
        rate: wilson(r.counts.failures, r.counts.cycles),
        mean_temperature_c: (r.temperature_n > 0)
            .then(|| r.temperature_sum_c / r.temperature_n as f64),
        thresholds_met: v.met[i],
        folder: name_of(dir),
        scenario: m.scenario.clone(),
        rig: m.rig.clone(),
        host: m.host.clone(),
        seed: m.seed,
        started_utc: m.started_utc.clone(),
        ended_utc: m.ended_utc.clone(),
        status: m.status.name().into(),
        harness_version: m.harness_version.clone(),
        stop_reason: m.stop_reason.clone(),
        resumed: m.resumed,
        phases_not_run: m.phases_not_run.clone(),
        instruments: m.instruments.clone(),
        steps: scenario_steps(dir),
        boards: {
            let files = board_files(dir);
            (m.boards.iter())
                .map(|b| RunBoardFile {
                    name: b.clone(),
                    board_file: files.get(b).cloned().unwrap_or_default(),
                })
                .collect()
        },
    }
}

/// Threads that read one large cycles.csv: parsing is what a report spends its time on, and the chunks are
/// counted independently and then appended in file order. Fixed, not the machine's core count, so the same
/// records give the same report (the chart samples depend on where the file is split) on every machine.
const READERS: usize = 2;

/// Count one chunk of run `run`'s cycles.csv.
fn count_chunk(
    run: usize,
    path: &Path,
    chunk: &Chunk,
    tolerance: f64,
    suffixes: &[Option<String>],
) -> Result<Aggregate, ReportError> {
    let mut agg = Aggregate::new(tolerance).labelled(suffixes.to_vec());
    let mut rows = Rows::<CycleRow>::open_chunk(path, chunk)?;
    while let Some(row) = rows.next_row()? {
        agg.add(run, row);
    }
    Ok(agg)
}

/// Count every cycles.csv row of `runs`, in file order.
fn aggregate(
    runs: &[PathBuf],
    tolerance: f64,
    suffixes: &[Option<String>],
) -> Result<Aggregate, ReportError> {
    let mut agg = Aggregate::new(tolerance).labelled(suffixes.to_vec());
    for (i, dir) in runs.iter().enumerate() {
        let path = dir.join(CYCLES_CSV);
        let chunks = records::chunks(&path, READERS)?;
        let counted: Vec<Result<Aggregate, ReportError>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .iter()
                .map(|c| s.spawn(|| count_chunk(i, &path, c, tolerance, suffixes)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a report reader thread panicked"))
                .collect()
        });
        for part in counted {
            agg = agg.append(part?);
        }
    }
    Ok(agg)
}

/// How a report is built beyond its folders.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The runs' boards are the same physical boards even when the runs come from different rigs or
    /// hosts (`--same-boards`): keep their names as recorded.
    pub same_boards: bool,
    /// A regression against the baseline fails the report (`--fail-on-regression`).
    pub fail_on_regression: bool,
}

/// Build the report of `runs` (merged), compared with `baseline` runs when given, with default options.
pub fn build(runs: &[PathBuf], baseline: &[PathBuf]) -> Result<Report, ReportError> {
    build_with(runs, baseline, Options::default())
}

/// Build the report of `runs` (merged), compared with `baseline` runs when given. Each run is judged by
/// its own manifest's thresholds; the first run folder's manifest gives the USB tolerance.
pub fn build_with(
    runs: &[PathBuf],
    baseline: &[PathBuf],
    options: Options,
) -> Result<Report, ReportError> {
    // The same run twice would count its cycles twice and halve every p-value's honesty.
    let mut seen: Vec<PathBuf> = Vec::new();
    for dir in runs.iter().chain(baseline) {
        let real = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if seen.contains(&real) {
            return Err(ReportError::Duplicate(dir.clone()));
        }
        seen.push(real);
    }
    let manifests = runs
        .iter()
        .map(|d| Manifest::read(d))
        .collect::<Result<Vec<_>, _>>()?;
    let first = &manifests[0];
    let tolerance = first.usb_tolerance_ppm;
    let suffixes = runs::suffixes(&manifests, options.same_boards);
    let agg = aggregate(runs, tolerance, &suffixes)?;
    let base_manifests = baseline
        .iter()
        .map(|d| Manifest::read(d))
        .collect::<Result<Vec<_>, _>>()?;
    let base = match baseline {
        [] => None,
        _ => Some(aggregate(baseline, tolerance, &[])?.total),
    };
    let boards = agg.boards();
    let folders: Vec<String> = runs.iter().map(|d| name_of(d)).collect();
    let verdicts = runs::judge_runs(&agg, &manifests, &folders, suffixes);
    let comparison =
        base.map(|b| compare_rates(agg.total.failures, agg.total.cycles, b.failures, b.cycles));
    let regression = comparison.as_ref().is_some_and(|c| c.regression);
    let thresholds_met = verdicts.met.iter().all(|&m| m);
    let run_names: Vec<String> = runs
        .iter()
        .zip(&manifests)
        .map(|(d, m)| format!("{} ({})", d.display(), m.host))
        .collect();
    let diagnosis = diagnosis::diagnose(&agg, tolerance, &run_names);
    let order = runs::start_order(&manifests);
    let run_boards = runs::run_boards(&agg, &order, &folders);
    Ok(Report {
        schema: SUMMARY_SCHEMA,
        harness_version: env!("CARGO_PKG_VERSION").into(),
        runs: runs
            .iter()
            .zip(&manifests)
            .enumerate()
            .map(|(i, (d, m))| run_info(d, m, i, &agg, &verdicts))
            .collect(),
        run_boards,
        boards_count: boards.len(),
        total: row("all", agg.total),
        thresholds_met,
        fail_on_regression: options.fail_on_regression,
        passed: thresholds_met && !(options.fail_on_regression && regression),
        warnings: runs::baseline_warnings(&manifests, &base_manifests),
        thresholds: verdicts.thresholds.clone(),
        pass: manifests[0].thresholds,
        usb_tolerance_ppm: tolerance,
        diagnosis: diagnosis.paragraph,
        causes: diagnosis.findings,
        candidates: diagnosis.candidates,
        boards: board_rows(&agg),
        phases: agg.phases.iter().map(|(p, c)| row(p.clone(), *c)).collect(),
        board_phases: agg
            .board_phases()
            .into_iter()
            .map(|(b, p, c)| {
                let detail = agg.phase_detail(b, p).cloned().unwrap_or_default();
                BoardPhase {
                    board: b.into(),
                    phase: p.into(),
                    cycles: c.cycles,
                    failures: c.failures,
                    elapsed_s: detail.elapsed_s,
                    failed: c.failures > 0 && verdicts.implicated.contains(b),
                    first_failures: detail
                        .first_failures
                        .iter()
                        .map(|(run, c)| first_failure(&folders[*run], c))
                        .collect(),
                }
            })
            .collect(),
        failed_steps: shares(
            agg.failed_steps.iter().map(|(s, n)| (s.clone(), *n)),
            agg.total.failures,
        ),
        error_kinds: agg
            .error_kinds
            .iter()
            .map(|(k, n)| {
                (
                    share(k.name().into(), *n, agg.total.failures),
                    k.class().name().into(),
                )
            })
            .collect(),
        hse_verdicts: agg
            .verdicts
            .iter()
            .map(|(v, c)| row(v.map_or("clocks not read", |v| v.name()), *c))
            .collect(),
        usb_error_bins: agg
            .usb_bins
            .iter()
            .map(|(e, c)| usb_bin(agg.usb_edges(), *e, *c))
            .collect(),
        trim_cal: agg
            .trim_cal
            .iter()
            .map(|(&(t, c), n)| TrimRow {
                row: row(format!("HSITRIM {t}, HSICAL 0x{c:02X}"), *n),
                boards: agg.trim_cal_boards((t, c)),
            })
            .collect(),
        hsi_deviation_bins: agg
            .hsi_bins
            .iter()
            .map(|(e, c)| Bin {
                row: row(hsi_bin_name(*e), *c),
                low_ppm: Some(*e as f64),
                high_ppm: Some((*e + 5000) as f64),
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
            .map(|(t, c)| TemperatureRow {
                row: row(format!("{t} °C"), *c),
                temperature_c: *t,
            })
            .collect(),
        temperature_varies: agg.temperature_varies(),
        supply_current: agg
            .supply_current
            .iter()
            .map(|(ma, c)| {
                let high = *ma + crate::aggregate::CURRENT_BAND_MA as i64;
                row(format!("{ma} – {high} mA"), *c)
            })
            .collect(),
        serial: serial_rows(&agg),
        option_bytes: option_byte_rows(&agg),
        baseline: comparison,
        baseline_runs: baseline.iter().map(|d| d.display().to_string()).collect(),
        drilldown: drilldown(runs, &agg, &verdicts.suffixes)?,
        charts: Charts {
            trend: runs::trend_chart(&agg, &manifests, &order, &folders),
            ..chart_set(&agg, tolerance)
        },
    })
}

fn first_failure(run: &str, c: &CycleRow) -> FirstFailure {
    FirstFailure {
        run: run.into(),
        cycle: c.cycle,
        attempt: c.attempt,
        failed_step: c.failed_step.clone(),
        error_kind: c.error_kind.map(|k| k.name().into()),
        error_detail: c.error_detail.clone(),
        hse_verdict: c.hse_verdict.map(|v| v.name().into()),
        pllm: c.pllm,
        sysclk_hz: c.sysclk_hz,
        usb_clock_error_ppm: c.usb_clock_error_ppm,
        temperature_c: c.temperature_c,
    }
}

fn usb_bin(edges: &[i64], lower: i64, c: Counts) -> Bin {
    let upper = edges.iter().find(|&&e| e > lower).map(|&u| u as f64);
    Bin {
        row: row(usb_bin_name(edges, lower), c),
        low_ppm: (lower != i64::MIN).then_some(lower as f64),
        high_ppm: upper,
    }
}

/// The serial table, with the cycles whose serial was not compared as its own row.
fn serial_rows(agg: &Aggregate) -> Vec<Row> {
    let s = &agg.serial;
    let mut rows = vec![
        row("serial matches ST's formula", s.matching),
        row("serial differs from ST's formula", s.different),
        row("serial unreadable", s.unreadable),
    ];
    if s.not_read.cycles > 0 {
        rows.push(row(
            "not read (cycle failed before, or no step reads it)",
            s.not_read,
        ));
    }
    rows
}

/// The option-byte table, with the cycles whose option bytes were not checked as its own row (none at
/// all when no cycle checked them).
fn option_byte_rows(agg: &Aggregate) -> Vec<Row> {
    let mut rows: Vec<Row> = (agg.option_bytes.iter())
        .map(|(k, c)| row(k.name(), *c))
        .collect();
    if !rows.is_empty() && agg.option_bytes_not_read.cycles > 0 {
        rows.push(row(
            "not read (cycle failed before the read)",
            agg.option_bytes_not_read,
        ));
    }
    rows
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

fn usb_bin_name(edges: &[i64], lower: i64) -> String {
    let upper = edges.iter().find(|&&e| e > lower);
    match (lower, upper) {
        (i64::MIN, Some(u)) => format!("below {u:+} ppm"),
        (l, Some(u)) => format!("{l:+} … {u:+} ppm"),
        (l, None) => format!("{l:+} ppm and above"),
    }
}

fn hsi_bin_name(lower_ppm: i64) -> String {
    let pct = |ppm: i64| ppm as f64 / 1e4;
    format!("{:+.1} … {:+.1} %", pct(lower_ppm), pct(lower_ppm + 5000))
}

fn board_rows(agg: &Aggregate) -> Vec<BoardRow> {
    agg.boards()
        .into_iter()
        .map(|b| BoardRow {
            row: row(b.name.clone(), b.counts),
            true_hse_mhz: f64::from(b.true_hse_hz) / 1e6,
            infrastructure_failures: b.infrastructure_failures,
            retried_attempts: b.retried_attempts,
            first_failure_utc: b.first_failure_utc.clone(),
            last_failure_utc: b.last_failure_utc.clone(),
            runs: b.runs.clone(),
            first_failure_s: b.first_failure_s,
            last_failure_s: b.last_failure_s,
        })
        .collect()
}

/// The kept failing cycles with their steps.
fn drilldown(
    runs: &[PathBuf],
    agg: &Aggregate,
    suffixes: &[Option<String>],
) -> Result<Vec<FailedCycle>, ReportError> {
    let kept = agg.drilldown.sorted();
    let mut out: Vec<FailedCycle> = Vec::with_capacity(kept.len());
    for (i, dir) in runs.iter().enumerate() {
        let of_run: Vec<&CycleRow> = kept
            .iter()
            .filter(|k| k.run == i)
            .map(|k| &k.cycle)
            .collect();
        let steps = steps_of(dir, &of_run)?;
        let suffix = suffixes[i].as_deref().unwrap_or("");
        out.extend(of_run.into_iter().zip(steps).map(|(c, steps)| {
            let mut cycle = c.clone();
            cycle.board.push_str(suffix);
            FailedCycle {
                run: name_of(dir),
                cycle,
                steps,
            }
        }));
    }
    Ok(out)
}

pub(crate) fn point(c: Counts, x: f64) -> RatePoint {
    let p = wilson(c.failures, c.cycles);
    RatePoint {
        x,
        rate: 100.0 * p.rate,
        low: 100.0 * p.low,
        high: 100.0 * p.high,
        n: c.cycles,
    }
}

fn chart_set(agg: &Aggregate, tolerance_ppm: f64) -> Charts {
    let boards = agg.boards();
    let bars: Vec<(String, RatePoint)> = boards
        .iter()
        .enumerate()
        .map(|(i, b)| (b.name.clone(), point(b.counts, i as f64)))
        .collect();
    let (names, timeline) = agg.timeline();
    let duration = boards.iter().map(|b| b.time_s).fold(0.0, f64::max);
    let series: Vec<(String, Vec<RatePoint>)> = agg
        .board_temperatures()
        .into_iter()
        .map(|(b, pts)| {
            (
                b,
                pts.into_iter().map(|(t, c)| point(c, t as f64)).collect(),
            )
        })
        .collect();
    let (scatter, with_usb) = agg.scatter();
    Charts {
        boards: charts::rate_bars("Failure rate per board", "board", &bars),
        timeline: charts::failure_timeline(&names, &timeline, duration),
        temperature: charts::rate_vs_temperature(&series),
        usb_scatter: charts::usb_error_scatter(&names, &scatter, tolerance_ppm, with_usb),
        mechanism: charts::rate_vs_hsi_error(&hsi_panels(agg), &hsi_source(agg)),
        pllm: {
            let (points, boots) = agg.pllm();
            charts::pllm_strip(&pllm_lanes(agg), &points, boots)
        },
        trend: String::new(),
    }
}

/// Where the HSI errors come from, for the mechanism chart's axis.
fn hsi_source(agg: &Aggregate) -> String {
    let sources: Vec<&str> = agg.hsi_source.keys().copied().collect();
    match sources.as_slice() {
        [one] => one.to_string(),
        [] => String::new(),
        _ => "measured, else the virtual board model's".into(),
    }
}

/// Fewest cycles behind one point of the mechanism chart: adjacent 0.1 % bins are pooled until they have
/// this many, so a short run's points are not all whiskers from 0 to 100 %.
const MECHANISM_MIN_CYCLES: u64 = 40;

/// One mechanism panel per fitted HSE frequency: the failure rate per HSI error bin (0.1 % bins pooled to at
/// least [`MECHANISM_MIN_CYCLES`] cycles, placed at their cycles' mean error), with the bootloader's detection
/// band for that frequency.
fn hsi_panels(agg: &Aggregate) -> Vec<charts::HsiPanel> {
    let mut panels: Vec<charts::HsiPanel> = Vec::new();
    let mut pool = (Counts::default(), 0.0);
    let mut bins = agg.hsi_by_hse.iter().peekable();
    while let Some((&(mhz, lower_ppm), &c)) = bins.next() {
        if panels.last().is_none_or(|p| p.hse_mhz != mhz) {
            let band = diagnosis::bands::band(mhz * 1_000_000);
            panels.push(charts::HsiPanel {
                hse_mhz: mhz,
                points: Vec::new(),
                always: band.map(|b| b.always),
                sometimes: band.map(|b| b.sometimes),
            });
        }
        pool.0 += c;
        pool.1 += c.cycles as f64 * (lower_ppm as f64 + 500.0) / 1e4;
        let last_of_panel = bins.peek().is_none_or(|(&(next, _), _)| next != mhz);
        if pool.0.cycles >= MECHANISM_MIN_CYCLES || last_of_panel {
            let x = pool.1 / pool.0.cycles.max(1) as f64;
            if let Some(p) = panels.last_mut() {
                p.points.push(point(pool.0, x));
            }
            pool = (Counts::default(), 0.0);
        }
    }
    panels
}

/// Board lanes named with their fitted HSE: "bench-01 (25 MHz)".
fn pllm_lanes(agg: &Aggregate) -> Vec<String> {
    (agg.boards().iter())
        .map(|b| format!("{} ({} MHz)", b.name, b.true_hse_hz / 1_000_000))
        .collect()
}
