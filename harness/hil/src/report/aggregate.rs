//! One pass over the run folders' cycles.csv files, row by row, into counts: per board, phase, failed step,
//! error kind, and per factor the soak is about (HSE verdict, USB clock error, HSI trim and deviation,
//! temperature, serial number, option bytes). Memory is bounded whatever the number of rows: only counts,
//! fixed-size samples for the charts and the first failing cycles for the drill-down are kept.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::records::CycleRow;

/// Failing cycles kept whole for the drill-down.
pub const DRILLDOWN: usize = 50;
/// Points kept for each chart.
const SAMPLE: usize = 4000;

/// Cycles and failed cycles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub cycles: u64,
    pub failures: u64,
}

impl Counts {
    fn add(&mut self, failed: bool) {
        self.cycles += 1;
        self.failures += u64::from(failed);
    }
}

/// A board's totals.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BoardAgg {
    pub counts: Counts,
    pub infrastructure_failures: u64,
    pub retried_attempts: u64,
    pub true_hse_hz: u32,
    pub first_failure_utc: Option<String>,
    pub last_failure_utc: Option<String>,
    pub time_s: f64,
}

/// A sample that keeps every k-th item, doubling k (and halving what it holds) when full: bounded, even,
/// and deterministic.
#[derive(Debug, Clone)]
pub struct Sample<T> {
    pub items: Vec<T>,
    stride: u64,
    seen: u64,
}

impl<T> Default for Sample<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            stride: 1,
            seen: 0,
        }
    }
}

impl<T> Sample<T> {
    fn push(&mut self, item: T) {
        if self.seen.is_multiple_of(self.stride) {
            if self.items.len() == SAMPLE {
                let mut i = 0;
                self.items.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
                self.stride *= 2;
            }
            if self.seen.is_multiple_of(self.stride) {
                self.items.push(item);
            }
        }
        self.seen += 1;
    }
}

/// Everything the report counts.
#[derive(Debug, Default)]
pub struct Aggregate {
    pub total: Counts,
    pub boards: BTreeMap<String, BoardAgg>,
    /// In the order phases first appear.
    pub phases: Vec<(String, Counts)>,
    /// (board, phase) in the order they first appear.
    pub board_phases: Vec<((String, String), Counts)>,
    pub failed_steps: BTreeMap<String, u64>,
    /// Error kind -> (count, class).
    pub error_kinds: BTreeMap<String, (u64, String)>,
    /// HSE verdict -> counts (correct, misdetected, not_configured, "" = not read).
    pub verdicts: BTreeMap<String, Counts>,
    /// (true HSE MHz, PLLM) of misdetected boots -> (counts, sum of USB clock error ppm).
    pub misdetections: BTreeMap<(u32, u8), (Counts, f64)>,
    pub usb_bins: BTreeMap<i64, Counts>,
    pub trim_cal: BTreeMap<(u8, u8), Counts>,
    /// HSI deviation bin (0.5 % wide, lower edge in ppm) -> counts; measured where measured, else the
    /// virtual board's model value.
    pub hsi_bins: BTreeMap<i64, Counts>,
    pub hsi_source: BTreeMap<&'static str, u64>,
    /// Temperature rounded to 1 °C -> counts, overall and per board.
    pub temperature: BTreeMap<i64, Counts>,
    pub board_temperature: BTreeMap<(String, i64), Counts>,
    /// Serial unreadable or not matching ST's formula -> counts; matching -> counts.
    pub serial_bad: Counts,
    pub serial_ok: Counts,
    pub option_bytes: BTreeMap<String, Counts>,
    pub timeline: Sample<(String, f64)>,
    pub scatter: Sample<(String, f64, bool)>,
    pub drilldown: Vec<(usize, CycleRow)>,
}

/// USB clock error bin edges (ppm): the full-speed tolerance is ±2,500.
pub const USB_EDGES: [i64; 6] = [-30_000, -10_000, -2_500, 2_500, 10_000, 30_000];

fn usb_bin(ppm: f64) -> i64 {
    USB_EDGES
        .iter()
        .rev()
        .find(|&&e| ppm >= e as f64)
        .copied()
        .unwrap_or(i64::MIN)
}

impl Aggregate {
    /// Count one cycles.csv row of run number `run`.
    pub fn add(&mut self, run: usize, row: CycleRow) {
        let board = self.boards.entry(row.board.clone()).or_default();
        board.time_s = board.time_s.max(row.time_s + row.elapsed_ms / 1e3);
        board.true_hse_hz = row.true_hse_hz;
        if !row.final_attempt {
            board.retried_attempts += 1;
            return;
        }
        let failed = row.outcome != "pass";
        board.counts.add(failed);
        self.total.add(failed);
        if failed {
            board.infrastructure_failures += u64::from(row.error_class == "infrastructure");
            board
                .first_failure_utc
                .get_or_insert_with(|| row.started_utc.clone());
            board.last_failure_utc = Some(row.started_utc.clone());
            *self
                .failed_steps
                .entry(row.failed_step.clone())
                .or_default() += 1;
            let kind = self
                .error_kinds
                .entry(row.error_kind.clone())
                .or_insert((0, row.error_class.clone()));
            kind.0 += 1;
            self.timeline.push((row.board.clone(), row.time_s));
        }
        self.count_phase(&row.phase, failed);
        let key = (row.board.clone(), row.phase.clone());
        match self.board_phases.iter_mut().find(|(k, _)| *k == key) {
            Some((_, c)) => c.add(failed),
            None => self.board_phases.push((
                key,
                Counts {
                    cycles: 1,
                    failures: u64::from(failed),
                },
            )),
        }
        self.count_factors(&row, failed);
        if failed {
            self.keep_for_drilldown(run, row);
        }
    }

    /// Keep the earliest failing cycles (by run time, then board and cycle), whatever order the parallel
    /// workers wrote them in: a bounded selection, so the report is the same for the same records.
    fn keep_for_drilldown(&mut self, run: usize, row: CycleRow) {
        let key =
            |(run, r): &(usize, CycleRow)| (*run, r.time_s, r.board.clone(), r.cycle, r.attempt);
        if self.drilldown.len() < DRILLDOWN {
            self.drilldown.push((run, row));
            return;
        }
        let candidate = (run, row);
        let latest = (0..self.drilldown.len()).max_by(|&a, &b| {
            key(&self.drilldown[a])
                .partial_cmp(&key(&self.drilldown[b]))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        if let Some(i) = latest {
            if key(&candidate) < key(&self.drilldown[i]) {
                self.drilldown[i] = candidate;
            }
        }
    }

    /// Put everything whose order came from the file (parallel workers interleave rows) in a stable order.
    pub fn settle(&mut self) {
        let key =
            |(run, r): &(usize, CycleRow)| (*run, r.time_s, r.board.clone(), r.cycle, r.attempt);
        self.drilldown.sort_by(|a, b| {
            key(a)
                .partial_cmp(&key(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let phase_index = |p: &str| {
            self.phases
                .iter()
                .position(|(q, _)| q == p)
                .unwrap_or(usize::MAX)
        };
        let mut bp = std::mem::take(&mut self.board_phases);
        bp.sort_by_key(|((b, p), _)| (b.clone(), phase_index(p)));
        self.board_phases = bp;
        self.timeline.items.sort_by(|a, b| {
            (&a.0, a.1)
                .partial_cmp(&(&b.0, b.1))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        self.scatter.items.sort_by(|a, b| {
            (&a.0, a.1, a.2)
                .partial_cmp(&(&b.0, b.1, b.2))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }

    fn count_phase(&mut self, phase: &str, failed: bool) {
        match self.phases.iter_mut().find(|(p, _)| p == phase) {
            Some((_, c)) => c.add(failed),
            None => {
                let mut c = Counts::default();
                c.add(failed);
                self.phases.push((phase.to_string(), c));
            }
        }
    }

    fn count_factors(&mut self, row: &CycleRow, failed: bool) {
        self.verdicts
            .entry(row.hse_verdict.clone())
            .or_default()
            .add(failed);
        if row.hse_verdict == "misdetected" {
            let key = (row.true_hse_hz / 1_000_000, row.pllm.unwrap_or(0));
            let e = self.misdetections.entry(key).or_default();
            e.0.add(failed);
            e.1 += row.usb_clock_error_ppm.unwrap_or(0.0);
        }
        if let Some(ppm) = row.usb_clock_error_ppm {
            self.usb_bins.entry(usb_bin(ppm)).or_default().add(failed);
            self.scatter.push((row.board.clone(), ppm, failed));
        }
        if let (Some(t), Some(c)) = (row.hsitrim, row.hsical) {
            self.trim_cal.entry((t, c)).or_default().add(failed);
        }
        let hsi = match (row.hsi_measured_error_ppm, row.model_hsi_error_ppm) {
            (Some(m), _) => Some(("measured", m)),
            (None, Some(m)) => Some(("virtual board model", m)),
            _ => None,
        };
        if let Some((source, ppm)) = hsi {
            *self.hsi_source.entry(source).or_default() += 1;
            self.hsi_bins
                .entry((ppm / 5_000.0).floor() as i64 * 5_000)
                .or_default()
                .add(failed);
        }
        if let Some(t) = row.temperature_c {
            let t = t.round() as i64;
            self.temperature.entry(t).or_default().add(failed);
            self.board_temperature
                .entry((row.board.clone(), t))
                .or_default()
                .add(failed);
        }
        match row.serial_match {
            Some(true) => self.serial_ok.add(failed),
            Some(false) => self.serial_bad.add(failed),
            // Enumerated, but the serial string could not be read: an anomaly too.
            None if row.usb_serial.is_empty()
                && !row.expected_serial.is_empty()
                && row.failed_step != "wait_enumeration" =>
            {
                self.serial_bad.add(failed)
            }
            None => {}
        }
        if !row.option_bytes_check.is_empty() {
            self.option_bytes
                .entry(row.option_bytes_check.clone())
                .or_default()
                .add(failed);
        }
    }
}
