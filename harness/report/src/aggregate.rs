//! One pass over the run folders' cycles.csv rows into counts: per board, phase, failed step, error kind,
//! and per factor the soak is about (HSE verdict, USB clock error, HSI trim and deviation, temperature,
//! serial number, option bytes). Memory is bounded whatever the number of rows: only counts, fixed-size
//! samples for the charts and the earliest failing cycles for the drill-down are kept. Boards and phases are
//! interned, so counting a row allocates nothing.

use std::collections::{BTreeMap, HashMap};

use records::{Counts, CycleRow, ErrorClass, ErrorKind, HseVerdict, OptionBytesCheck, SerialMatch};

use crate::drilldown::Earliest;
use crate::evidence::Evidence;
use crate::sample::Sample;

/// Width of a supply-current band, mA: a board in its bootloader, one running its application and one held in
/// reset differ by tens of mA; one board's boots in one state by a few.
pub const CURRENT_BAND_MA: f64 = 10.0;

/// A board's totals.
#[derive(Debug, Clone, Default)]
pub struct BoardAgg {
    pub name: String,
    pub counts: Counts,
    pub infrastructure_failures: u64,
    pub retried_attempts: u64,
    pub true_hse_hz: u32,
    pub first_failure_utc: Option<String>,
    pub last_failure_utc: Option<String>,
    pub first_failure_s: Option<f64>,
    pub last_failure_s: Option<f64>,
    /// When its last cycle ended, on the run's clock.
    pub time_s: f64,
    /// The run numbers it was seen in, ascending.
    pub runs: Vec<usize>,
}

/// Failing cycles kept per board and phase for junit.xml's failure bodies.
pub const FIRST_FAILURES: usize = 3;

/// What junit.xml says of one board in one phase besides its counts.
#[derive(Debug, Clone, Default)]
pub struct PhaseDetail {
    /// Seconds its attempts took, retried ones included.
    pub elapsed_s: f64,
    /// Its first [`FIRST_FAILURES`] failing cycles, in file order, with their run number.
    pub first_failures: Vec<(usize, CycleRow)>,
}

/// One run's totals: its counts, its boards' counts and the sum of its recorded temperatures.
#[derive(Debug, Clone, Default)]
pub struct RunAgg {
    pub counts: Counts,
    /// Board (interned index) -> counts.
    pub boards: BTreeMap<usize, Counts>,
    pub temperature_sum_c: f64,
    pub temperature_n: u64,
}

/// What the serial-number check found, the rows of the report's serial table.
#[derive(Debug, Clone, Copy, Default)]
pub struct SerialCounts {
    pub matching: Counts,
    pub different: Counts,
    pub unreadable: Counts,
    /// Cycles whose serial number was not compared (the cycle failed before, or no step reads it).
    pub not_read: Counts,
}

/// Everything the report counts. Boards are indexed in the order they first appear; [`Aggregate::boards`]
/// and friends give them sorted by name.
#[derive(Debug, Default)]
pub struct Aggregate {
    pub total: Counts,
    boards: Vec<BoardAgg>,
    board_index: HashMap<String, usize>,
    /// Phase names in the order they first appear.
    pub phases: Vec<(String, Counts)>,
    phase_index: HashMap<String, usize>,
    /// (board, phase) -> counts.
    board_phases: HashMap<(usize, usize), Counts>,
    board_phase_details: HashMap<(usize, usize), PhaseDetail>,
    /// Run number -> its totals.
    runs: BTreeMap<usize, RunAgg>,
    /// Per run number, the suffix its boards' names get (`@host`) when boards of different runs are kept
    /// apart; none: the board names as recorded.
    suffixes: Vec<Option<String>>,
    /// (run, recorded board name) -> interned index, for suffixed runs.
    qualified: HashMap<usize, HashMap<String, usize>>,
    pub failed_steps: BTreeMap<String, u64>,
    pub error_kinds: BTreeMap<ErrorKind, u64>,
    /// HSE verdict (None: the clocks were not read) -> counts.
    pub verdicts: BTreeMap<Option<HseVerdict>, Counts>,
    /// (true HSE MHz, PLLM) of misdetected boots -> (counts, sum of USB clock error ppm).
    pub misdetections: BTreeMap<(u32, u8), (Counts, f64)>,
    /// USB clock error bin (lower edge, ppm) -> counts.
    pub usb_bins: BTreeMap<i64, Counts>,
    pub trim_cal: BTreeMap<(u8, u8), Counts>,
    /// The boards (interned) with each HSITRIM/HSICAL pair: at most boards × pairs entries.
    trim_cal_boards: BTreeMap<(u8, u8), Vec<usize>>,
    /// HSI deviation bin (0.5 % wide, lower edge in ppm) -> counts; measured where measured, else the
    /// virtual board's model value.
    pub hsi_bins: BTreeMap<i64, Counts>,
    pub hsi_source: BTreeMap<&'static str, u64>,
    /// (true HSE MHz, HSI error bin 0.1 % wide, lower edge in ppm, clamped to ±20 %) -> counts: the mechanism
    /// chart's points, at most HSE frequencies × 400 bins.
    pub hsi_by_hse: BTreeMap<(u32, i64), Counts>,
    /// Temperature rounded to 1 °C -> counts, overall and per (board, °C).
    pub temperature: BTreeMap<i64, Counts>,
    /// Supply current at the end of the cycle, [`CURRENT_BAND_MA`]-wide bands by lower edge in mA -> counts.
    pub supply_current: BTreeMap<i64, Counts>,
    board_temperature: BTreeMap<(usize, i64), Counts>,
    pub serial: SerialCounts,
    pub option_bytes: BTreeMap<OptionBytesCheck, Counts>,
    /// Cycles whose option bytes were not checked.
    pub option_bytes_not_read: Counts,
    /// (board, time_s) of failures.
    timeline: Sample<(usize, f64)>,
    /// (board, USB clock error ppm, failed).
    scatter: Sample<(usize, f64, bool)>,
    /// (board, time_s, PLLM, whether PLLM is the fitted HSE in MHz) of boots whose clocks were read.
    pllm: Sample<(usize, f64, u8, bool)>,
    pub drilldown: Earliest,
    /// What the diagnosis reasons over.
    pub evidence: Evidence,
    usb_edges: [i64; 6],
}

fn add_all<K: Ord, V: std::ops::AddAssign + Default>(
    into: &mut BTreeMap<K, V>,
    from: BTreeMap<K, V>,
) {
    for (k, v) in from {
        *into.entry(k).or_default() += v;
    }
}

/// USB clock error bin edges (ppm), around the tolerance band `±tolerance`.
pub fn usb_edges(tolerance_ppm: f64) -> [i64; 6] {
    let t = tolerance_ppm.round() as i64;
    [-30_000, -10_000, -t, t, 10_000, 30_000]
}

impl Aggregate {
    /// An empty aggregate binning USB clock errors around `±usb_tolerance_ppm`.
    pub fn new(usb_tolerance_ppm: f64) -> Self {
        Self {
            usb_edges: usb_edges(usb_tolerance_ppm),
            ..Self::default()
        }
    }

    /// The same, naming the boards of run `i` `<board><suffixes[i]>` where a suffix is given.
    pub fn labelled(mut self, suffixes: Vec<Option<String>>) -> Self {
        self.suffixes = suffixes;
        self
    }

    /// The interned index of recorded board `name` of run `run`.
    fn board_of(&mut self, run: usize, name: &str) -> usize {
        let Some(Some(suffix)) = self.suffixes.get(run) else {
            return self.board(name);
        };
        if let Some(&i) = self.qualified.get(&run).and_then(|m| m.get(name)) {
            return i;
        }
        let i = self.board(&format!("{name}{suffix}"));
        self.qualified
            .entry(run)
            .or_default()
            .insert(name.to_string(), i);
        i
    }

    fn board(&mut self, name: &str) -> usize {
        if let Some(&i) = self.board_index.get(name) {
            return i;
        }
        self.boards.push(BoardAgg {
            name: name.to_string(),
            ..BoardAgg::default()
        });
        self.board_index
            .insert(name.to_string(), self.boards.len() - 1);
        self.boards.len() - 1
    }

    fn phase(&mut self, name: &str) -> usize {
        if let Some(&i) = self.phase_index.get(name) {
            return i;
        }
        self.phases.push((name.to_string(), Counts::default()));
        self.phase_index
            .insert(name.to_string(), self.phases.len() - 1);
        self.phases.len() - 1
    }

    /// Count one cycles.csv row of run number `run`.
    pub fn add(&mut self, run: usize, row: &CycleRow) {
        let bi = self.board_of(run, &row.board);
        let pi = self.phase(&row.phase);
        let b = &mut self.boards[bi];
        b.time_s = b.time_s.max(row.time_s + row.elapsed_ms / 1e3);
        b.true_hse_hz = row.true_hse_hz;
        if b.runs.last() != Some(&run) && !b.runs.contains(&run) {
            b.runs.push(run);
            b.runs.sort_unstable();
        }
        let detail = self.board_phase_details.entry((bi, pi)).or_default();
        detail.elapsed_s += row.elapsed_ms / 1e3;
        if row.failed() && row.final_attempt && detail.first_failures.len() < FIRST_FAILURES {
            detail.first_failures.push((run, row.clone()));
        }
        if !row.final_attempt {
            b.retried_attempts += 1;
            return;
        }
        let failed = row.failed();
        b.counts.add(failed);
        self.total.add(failed);
        if failed {
            b.infrastructure_failures +=
                u64::from(row.error_class == Some(ErrorClass::Infrastructure));
            if b.first_failure_utc.is_none() {
                b.first_failure_utc = Some(row.started_utc.clone());
                b.first_failure_s = Some(row.time_s);
            }
            b.last_failure_s = Some(row.time_s);
            match &mut b.last_failure_utc {
                Some(last) => last.clone_from(&row.started_utc),
                None => b.last_failure_utc = Some(row.started_utc.clone()),
            }
            match self.failed_steps.get_mut(row.failed_step.as_str()) {
                Some(n) => *n += 1,
                None => {
                    self.failed_steps.insert(row.failed_step.clone(), 1);
                }
            }
            if let Some(kind) = row.error_kind {
                *self.error_kinds.entry(kind).or_default() += 1;
            }
            self.timeline.push((bi, row.time_s));
            self.drilldown.offer(run, row);
        }
        self.evidence.add(bi, run, row);
        let r = self.runs.entry(run).or_default();
        r.counts.add(failed);
        r.boards.entry(bi).or_default().add(failed);
        if let Some(t) = row.temperature_c {
            r.temperature_sum_c += t;
            r.temperature_n += 1;
        }
        self.phases[pi].1.add(failed);
        self.board_phases.entry((bi, pi)).or_default().add(failed);
        self.count_factors(bi, row, failed);
    }

    fn count_factors(&mut self, bi: usize, row: &CycleRow, failed: bool) {
        self.verdicts
            .entry(row.hse_verdict)
            .or_default()
            .add(failed);
        if row.hse_verdict == Some(HseVerdict::Misdetected) {
            let key = (row.true_hse_hz / 1_000_000, row.pllm.unwrap_or(0));
            let e = self.misdetections.entry(key).or_default();
            e.0.add(failed);
            e.1 += row.usb_clock_error_ppm.unwrap_or(0.0);
        }
        if let Some(pllm) = row.pllm {
            let right = u32::from(pllm) * 1_000_000 == row.true_hse_hz;
            self.pllm.push((bi, row.time_s, pllm, right));
        }
        if let Some(ppm) = row.usb_clock_error_ppm {
            let bin = self.usb_bin(ppm);
            self.usb_bins.entry(bin).or_default().add(failed);
            self.scatter.push((bi, ppm, failed));
        }
        if let (Some(t), Some(c)) = (row.hsitrim, row.hsical) {
            self.trim_cal.entry((t, c)).or_default().add(failed);
            let boards = self.trim_cal_boards.entry((t, c)).or_default();
            if !boards.contains(&bi) {
                boards.push(bi);
            }
        }
        let hsi = match (row.hsi_measured_error_ppm, row.model_hsi_error_ppm) {
            (Some(m), _) => Some(("measured", m)),
            (None, Some(m)) => Some(("virtual board model", m)),
            _ => None,
        };
        if let Some((source, ppm)) = hsi {
            *self.hsi_source.entry(source).or_default() += 1;
            // Clamped so that a corrupted or hand-edited error (1e300 ppm) still has a bin, and the bin and
            // its upper edge fit an i64; no HSI is off by a million percent.
            let bin = (ppm.clamp(-1e10, 1e10) / 5_000.0).floor() as i64 * 5_000;
            self.hsi_bins.entry(bin).or_default().add(failed);
            let fine = (ppm.clamp(-200_000.0, 199_999.0) / 1_000.0).floor() as i64 * 1_000;
            (self.hsi_by_hse.entry((row.true_hse_hz / 1_000_000, fine)))
                .or_default()
                .add(failed);
        }
        if let Some(ma) = row.supply_current_ma {
            // Clamped so that a garbled reading still has a band that fits an i64.
            let band =
                (ma.clamp(-1e9, 1e9) / CURRENT_BAND_MA).floor() as i64 * CURRENT_BAND_MA as i64;
            self.supply_current.entry(band).or_default().add(failed);
        }
        if let Some(t) = row.temperature_c {
            let t = t.round() as i64;
            self.temperature.entry(t).or_default().add(failed);
            self.board_temperature
                .entry((bi, t))
                .or_default()
                .add(failed);
        }
        let serial = &mut self.serial;
        match row.serial_match {
            Some(SerialMatch::Match) => serial.matching.add(failed),
            Some(SerialMatch::Mismatch) => serial.different.add(failed),
            Some(SerialMatch::Unreadable) => serial.unreadable.add(failed),
            None => serial.not_read.add(failed),
        }
        match row.option_bytes_check {
            Some(check) => self.option_bytes.entry(check).or_default().add(failed),
            None => self.option_bytes_not_read.add(failed),
        }
    }

    fn usb_bin(&self, ppm: f64) -> i64 {
        self.usb_edges
            .iter()
            .rev()
            .find(|&&e| ppm >= e as f64)
            .copied()
            .unwrap_or(i64::MIN)
    }

    /// This aggregate followed by `later`, the counts of the rows after this one's (the next chunk of the
    /// same files): the same counts as one pass over both, boards and phases in order of first appearance.
    pub fn append(mut self, later: Aggregate) -> Aggregate {
        let boards: Vec<usize> = later.boards.iter().map(|b| self.board(&b.name)).collect();
        let phases: Vec<usize> = later.phases.iter().map(|(p, _)| self.phase(p)).collect();
        self.total += later.total;
        for (b, l) in boards.iter().zip(later.boards) {
            let a = &mut self.boards[*b];
            a.counts += l.counts;
            a.infrastructure_failures += l.infrastructure_failures;
            a.retried_attempts += l.retried_attempts;
            a.true_hse_hz = l.true_hse_hz;
            a.first_failure_utc = a.first_failure_utc.take().or(l.first_failure_utc);
            a.last_failure_utc = l.last_failure_utc.or(a.last_failure_utc.take());
            a.first_failure_s = a.first_failure_s.or(l.first_failure_s);
            a.last_failure_s = l.last_failure_s.or(a.last_failure_s);
            a.time_s = a.time_s.max(l.time_s);
            for run in l.runs {
                if !a.runs.contains(&run) {
                    a.runs.push(run);
                }
            }
            a.runs.sort_unstable();
        }
        for ((b, p), d) in later.board_phase_details {
            let e = self
                .board_phase_details
                .entry((boards[b], phases[p]))
                .or_default();
            e.elapsed_s += d.elapsed_s;
            let room = FIRST_FAILURES - e.first_failures.len();
            e.first_failures
                .extend(d.first_failures.into_iter().take(room));
        }
        for (run, l) in later.runs {
            let r = self.runs.entry(run).or_default();
            r.counts += l.counts;
            for (b, c) in l.boards {
                *r.boards.entry(boards[b]).or_default() += c;
            }
            r.temperature_sum_c += l.temperature_sum_c;
            r.temperature_n += l.temperature_n;
        }
        for (p, (_, c)) in phases.iter().zip(later.phases) {
            self.phases[*p].1 += c;
        }
        for ((b, p), c) in later.board_phases {
            *self.board_phases.entry((boards[b], phases[p])).or_default() += c;
        }
        for ((b, t), c) in later.board_temperature {
            *self.board_temperature.entry((boards[b], t)).or_default() += c;
        }
        add_all(&mut self.failed_steps, later.failed_steps);
        add_all(&mut self.error_kinds, later.error_kinds);
        add_all(&mut self.verdicts, later.verdicts);
        add_all(&mut self.usb_bins, later.usb_bins);
        add_all(&mut self.trim_cal, later.trim_cal);
        add_all(&mut self.hsi_bins, later.hsi_bins);
        add_all(&mut self.hsi_source, later.hsi_source);
        add_all(&mut self.hsi_by_hse, later.hsi_by_hse);
        add_all(&mut self.temperature, later.temperature);
        add_all(&mut self.supply_current, later.supply_current);
        add_all(&mut self.option_bytes, later.option_bytes);
        for (k, (c, sum)) in later.misdetections {
            let e = self.misdetections.entry(k).or_default();
            e.0 += c;
            e.1 += sum;
        }
        self.serial.matching += later.serial.matching;
        self.serial.different += later.serial.different;
        self.serial.unreadable += later.serial.unreadable;
        self.serial.not_read += later.serial.not_read;
        self.option_bytes_not_read += later.option_bytes_not_read;
        for (k, bs) in later.trim_cal_boards {
            let into = self.trim_cal_boards.entry(k).or_default();
            for b in bs.into_iter().map(|b| boards[b]) {
                if !into.contains(&b) {
                    into.push(b);
                }
            }
        }
        let remap = |b: usize| boards[b];
        let timeline = later.timeline.map(|(b, t)| (remap(b), t));
        let scatter = later.scatter.map(|(b, p, f)| (remap(b), p, f));
        let pllm = later.pllm.map(|(b, t, m, r)| (remap(b), t, m, r));
        self.pllm = std::mem::take(&mut self.pllm).append(pllm);
        self.timeline = std::mem::take(&mut self.timeline).append(timeline);
        self.scatter = std::mem::take(&mut self.scatter).append(scatter);
        self.drilldown.absorb(later.drilldown);
        self.evidence.append(later.evidence, &boards);
        self
    }

    /// The USB clock error bin edges in use.
    pub fn usb_edges(&self) -> &[i64; 6] {
        &self.usb_edges
    }

    /// The interned index of each board, in [`Aggregate::boards`]' order (by name).
    pub fn board_indices(&self) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.boards.len()).collect();
        v.sort_by(|&a, &b| self.boards[a].name.cmp(&self.boards[b].name));
        v
    }

    /// A board by its interned index.
    pub fn board_at(&self, index: usize) -> &BoardAgg {
        &self.boards[index]
    }

    /// Boards sorted by name.
    pub fn boards(&self) -> Vec<&BoardAgg> {
        let mut v: Vec<&BoardAgg> = self.boards.iter().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Board names sorted, and each board's position in that order by its interned index.
    fn sorted_positions(&self) -> (Vec<String>, Vec<usize>) {
        let names: Vec<String> = self.boards().iter().map(|b| b.name.clone()).collect();
        let position = self
            .boards
            .iter()
            .map(|b| names.iter().position(|n| *n == b.name).unwrap_or(0))
            .collect();
        (names, position)
    }

    /// (board, phase, counts), boards by name, phases in the order they first appeared.
    pub fn board_phases(&self) -> Vec<(&str, &str, Counts)> {
        let mut v: Vec<_> = self
            .board_phases
            .iter()
            .map(|(&(b, p), &c)| (self.boards[b].name.as_str(), p, c))
            .collect();
        v.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        v.into_iter()
            .map(|(b, p, c)| (b, self.phases[p].0.as_str(), c))
            .collect()
    }

    /// The details of `board` in `phase`, by name.
    pub fn phase_detail(&self, board: &str, phase: &str) -> Option<&PhaseDetail> {
        let b = *self.board_index.get(board)?;
        let p = *self.phase_index.get(phase)?;
        self.board_phase_details.get(&(b, p))
    }

    /// Run number `run`'s totals (empty when it had no decided cycle).
    pub fn run(&self, run: usize) -> RunAgg {
        self.runs.get(&run).cloned().unwrap_or_default()
    }

    /// Per board (sorted by name): its (°C, counts), coolest first.
    pub fn board_temperatures(&self) -> Vec<(String, Vec<(i64, Counts)>)> {
        let mut out: Vec<(String, Vec<(i64, Counts)>)> = Vec::new();
        let mut sorted: Vec<(&str, i64, Counts)> = self
            .board_temperature
            .iter()
            .map(|(&(b, t), &c)| (self.boards[b].name.as_str(), t, c))
            .collect();
        sorted.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        for (board, t, c) in sorted {
            match out.last_mut() {
                Some((name, points)) if name == board => points.push((t, c)),
                _ => out.push((board.to_string(), vec![(t, c)])),
            }
        }
        out
    }

    /// The boards (by name, sorted) that had the HSITRIM/HSICAL pair `key`.
    pub fn trim_cal_boards(&self, key: (u8, u8)) -> Vec<String> {
        let mut names: Vec<String> = (self.trim_cal_boards.get(&key).into_iter().flatten())
            .map(|&b| self.boards[b].name.clone())
            .collect();
        names.sort();
        names
    }

    /// Whether some board ran at more than one (rounded) temperature.
    pub fn temperature_varies(&self) -> bool {
        let mut last: Option<(usize, i64)> = None;
        self.board_temperature.keys().any(|&(b, t)| {
            let differs = matches!(last, Some((lb, lt)) if lb == b && lt != t);
            last = Some((b, t));
            differs
        })
    }

    /// The failure timeline sample as (board position by name, time_s), sorted.
    pub fn timeline(&self) -> (Vec<String>, Vec<(usize, f64)>) {
        let (names, position) = self.sorted_positions();
        let mut items: Vec<(usize, f64)> = self
            .timeline
            .items
            .iter()
            .map(|&(b, t)| (position[b], t))
            .collect();
        items.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        (names, items)
    }

    /// The PLLM sample as (board position by name, time_s, PLLM, right), sorted; and how many boots had
    /// their PLLM read.
    pub fn pllm(&self) -> (Vec<(usize, f64, u8, bool)>, u64) {
        let (_, position) = self.sorted_positions();
        let mut items: Vec<(usize, f64, u8, bool)> = (self.pllm.items.iter())
            .map(|&(b, t, m, r)| (position[b], t, m, r))
            .collect();
        items.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        (items, self.pllm.seen())
    }

    /// The USB clock error sample as (board position by name, ppm, failed), sorted; and how many cycles
    /// had a USB clock error at all.
    pub fn scatter(&self) -> (Vec<(usize, f64, bool)>, u64) {
        let (_, position) = self.sorted_positions();
        let mut items: Vec<(usize, f64, bool)> = self
            .scatter
            .items
            .iter()
            .map(|&(b, p, f)| (position[b], p, f))
            .collect();
        items.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        (items, self.scatter.seen())
    }
}
