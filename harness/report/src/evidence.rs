//! The counts the diagnosis reasons over, kept beside the report's breakdowns: every cycle's outcome by
//! (board, clock state, temperature), so each candidate can be tested within the strata of the stronger
//! causes; what each board's serial number, option bytes and errors looked like; and every other recorded
//! column (the generic factors) by value within (board, clock state). Bounded memory: boards, temperatures
//! and factor values are few; a factor with more than [`MAX_VALUES`] values is marked and left out.

use std::collections::{BTreeMap, HashMap};

use records::{
    CycleRow, ErrorClass, ErrorKind, HseVerdict, OptionBytesCheck, Outcome, SerialMatch,
};
use serde::Serialize;

/// What the clocks were doing on a boot: the first link of the causal chain (clock state → link errors →
/// failed transfers → failed steps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// The bootloader measured the HSE wrongly: PLLM is not the HSE in MHz.
    Misdetected,
    /// The HSE was detected right but the USB clock is outside the tolerance: other PLL factors.
    UsbOff,
    /// Detection right and the USB clock within tolerance.
    InSpec,
    /// The PLL does not run from the HSE: the bootloader did not configure it (did it run at all?).
    NotConfigured,
    /// The clocks were not read on this cycle.
    NotRead,
}

impl ClockState {
    pub fn of(row: &CycleRow) -> ClockState {
        match row.hse_verdict {
            Some(HseVerdict::Misdetected) => ClockState::Misdetected,
            Some(HseVerdict::NotConfigured) => ClockState::NotConfigured,
            Some(HseVerdict::Correct) if row.usb_in_tolerance == Some(false) => ClockState::UsbOff,
            Some(HseVerdict::Correct) => ClockState::InSpec,
            None => ClockState::NotRead,
        }
    }

    /// A clock state that is itself a defect (the USB clock is wrong or the bootloader did not set it).
    pub fn misclocked(self) -> bool {
        matches!(self, ClockState::Misdetected | ClockState::UsbOff)
    }
}

/// Cycles and how they ended. Infrastructure failures say nothing about the board: the diagnosis of board
/// causes leaves them out (`judged`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub cycles: u64,
    pub board_failures: u64,
    pub infra_failures: u64,
}

impl Tally {
    fn add(&mut self, outcome: Verdict) {
        self.cycles += 1;
        match outcome {
            Verdict::Pass => {}
            Verdict::Board => self.board_failures += 1,
            Verdict::Infra => self.infra_failures += 1,
        }
    }

    /// Cycles whose outcome says something about the board (all but the infrastructure's failures).
    pub fn judged(&self) -> u64 {
        self.cycles - self.infra_failures
    }
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, o: Tally) {
        self.cycles += o.cycles;
        self.board_failures += o.board_failures;
        self.infra_failures += o.infra_failures;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Pass,
    Board,
    Infra,
}

fn verdict(row: &CycleRow) -> Verdict {
    match (row.outcome, row.error_class) {
        (Outcome::Pass, _) => Verdict::Pass,
        (Outcome::Fail, Some(ErrorClass::Infrastructure)) => Verdict::Infra,
        (Outcome::Fail, _) => Verdict::Board,
    }
}

/// Distinct values of something per board, the first few of them with their counts.
#[derive(Debug, Clone, Default)]
pub struct Distinct {
    pub values: Vec<(String, u64)>,
    /// Occurrences of values beyond the first [`MAX_DISTINCT`].
    pub others: u64,
}

/// How many distinct serial numbers or option-byte blocks are kept per board.
const MAX_DISTINCT: usize = 8;

impl Distinct {
    fn add(&mut self, value: &str, n: u64) {
        if let Some(v) = self.values.iter_mut().find(|(s, _)| s == value) {
            v.1 += n;
        } else if self.values.len() < MAX_DISTINCT {
            self.values.push((value.to_string(), n));
        } else {
            self.others += n;
        }
    }

    fn absorb(&mut self, o: Distinct) {
        for (v, n) in o.values {
            self.add(&v, n);
        }
        self.others += o.others;
    }

    /// How many values were seen: exact when `others` is 0, a lower bound otherwise.
    pub fn count(&self) -> usize {
        self.values.len() + usize::from(self.others > 0)
    }
}

/// Running sum for a mean.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mean {
    pub sum: f64,
    pub n: u64,
    pub min: f64,
    pub max: f64,
}

impl Mean {
    fn add(&mut self, x: f64) {
        if self.n == 0 {
            (self.min, self.max) = (x, x);
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.sum += x;
        self.n += 1;
    }

    /// Add another running sum into this one.
    pub fn merge(&mut self, o: Mean) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = o;
            return;
        }
        self.sum += o.sum;
        self.n += o.n;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
}

/// One board's evidence beyond its counts.
#[derive(Debug, Clone, Default)]
pub struct BoardEvidence {
    pub true_hse_hz: u32,
    /// Board failures by (clock state, error kind), and the first detail of each kind.
    pub errors: BTreeMap<(ClockState, ErrorKind), u64>,
    pub first_detail: BTreeMap<ErrorKind, String>,
    /// Infrastructure failures by error kind.
    pub infra_errors: BTreeMap<ErrorKind, u64>,
    /// Failed steps of board failures.
    pub failed_steps: BTreeMap<String, u64>,
    /// Serial checks by clock state.
    pub serial: BTreeMap<(ClockState, SerialMatch), u64>,
    /// The serial numbers that differed from ST's formula, and the expected one.
    pub wrong_serials: Distinct,
    pub expected_serial: String,
    pub option_bytes: BTreeMap<(ClockState, OptionBytesCheck), u64>,
    /// The option-byte blocks read over DFU.
    pub option_bytes_hex: Distinct,
    /// Boots that read the option bytes (or tried to): by clock state, with a failed read.
    pub option_bytes_failed: BTreeMap<ClockState, u64>,
    /// Misdetected boots by PLLM, and their mean USB clock error.
    pub pllm: BTreeMap<u8, (u64, Mean)>,
    /// USB clock error, SYSCLK on boots whose HSE was detected right.
    pub usb_ppm_detected_right: Mean,
    /// SYSCLK values (in 10 kHz) on those boots, with their counts; see [`BoardEvidence::sysclk_values`].
    pub sysclk_detected_right: BTreeMap<u64, u64>,
    /// HSI error (measured, else the virtual model's) over all boots and over misdetected ones.
    pub hsi_ppm: Mean,
    pub hsi_ppm_misdetected: Mean,
    pub hsi_measured: bool,
}

impl BoardEvidence {
    /// The SYSCLK values seen with the HSE detected right, as text ("60 MHz"), with their counts.
    pub fn sysclk_values(&self) -> Vec<(String, u64)> {
        self.sysclk_detected_right
            .iter()
            .map(|(k, n)| (mhz(*k as f64 * 1e4), *n))
            .collect()
    }

    fn absorb(&mut self, o: BoardEvidence) {
        self.true_hse_hz = o.true_hse_hz;
        merge(&mut self.errors, o.errors);
        for (k, d) in o.first_detail {
            self.first_detail.entry(k).or_insert(d);
        }
        merge(&mut self.infra_errors, o.infra_errors);
        merge(&mut self.failed_steps, o.failed_steps);
        merge(&mut self.serial, o.serial);
        self.wrong_serials.absorb(o.wrong_serials);
        if self.expected_serial.is_empty() {
            self.expected_serial = o.expected_serial;
        }
        merge(&mut self.option_bytes, o.option_bytes);
        self.option_bytes_hex.absorb(o.option_bytes_hex);
        merge(&mut self.option_bytes_failed, o.option_bytes_failed);
        for (k, (n, m)) in o.pllm {
            let e = self.pllm.entry(k).or_default();
            e.0 += n;
            e.1.merge(m);
        }
        self.usb_ppm_detected_right.merge(o.usb_ppm_detected_right);
        merge(&mut self.sysclk_detected_right, o.sysclk_detected_right);
        self.hsi_ppm.merge(o.hsi_ppm);
        self.hsi_ppm_misdetected.merge(o.hsi_ppm_misdetected);
        self.hsi_measured |= o.hsi_measured;
    }
}

fn merge<K: Ord, V: std::ops::AddAssign>(into: &mut BTreeMap<K, V>, from: BTreeMap<K, V>) {
    for (k, v) in from {
        match into.get_mut(&k) {
            Some(x) => *x += v,
            None => {
                into.insert(k, v);
            }
        }
    }
}

/// The generic factors: every cycles.csv column that is not the outcome, bookkeeping or one of the named
/// causes, compared between failed and passed cycles within (board, clock state) — "what differs in the
/// failing cycles". [`COLUMNS`] says what each column is; a test keeps it complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    Phase,
    /// Hour of the day (UTC) the cycle started.
    HourUtc,
    /// Which run folder (and so which rig host) recorded it.
    Run,
    /// The cycle's number within its phase, in bands (wear-out or warm-up).
    CycleBand,
    HsiTrim,
    HsiCal,
    TrueHse,
    Pllm,
    DetectedHse,
    SysclkMhz,
    OptionBytes,
    /// Whether the harness halted the core before the cycle's USB enumeration.
    DebugHalt,
}

impl Factor {
    pub const ALL: [Factor; 12] = [
        Factor::Phase,
        Factor::HourUtc,
        Factor::Run,
        Factor::CycleBand,
        Factor::HsiTrim,
        Factor::HsiCal,
        Factor::TrueHse,
        Factor::Pllm,
        Factor::DetectedHse,
        Factor::SysclkMhz,
        Factor::OptionBytes,
        Factor::DebugHalt,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Factor::Phase => "phase",
            Factor::HourUtc => "hour of day (UTC)",
            Factor::Run => "run folder",
            Factor::CycleBand => "cycle number",
            Factor::HsiTrim => "HSITRIM",
            Factor::HsiCal => "HSICAL",
            Factor::TrueHse => "HSE fitted",
            Factor::Pllm => "PLLM",
            Factor::DetectedHse => "detected HSE",
            Factor::SysclkMhz => "SYSCLK",
            Factor::OptionBytes => "option bytes",
            Factor::DebugHalt => "core halted by the probe before enumeration",
        }
    }

    /// A cheap key of this factor's value on a row (equal keys, equal values), if recorded: what a row costs
    /// is a few integer operations, the text is made once per distinct value.
    fn key(self, run: usize, row: &CycleRow) -> Option<u64> {
        // FNV-1a: the texts are short and trusted, and this runs for every row.
        let text_hash = |s: &str| {
            s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            })
        };
        match self {
            Factor::Phase => Some(text_hash(&row.phase)),
            Factor::HourUtc => row
                .started_utc
                .get(11..13)
                .and_then(|h| h.parse::<u64>().ok()),
            Factor::Run => Some(run as u64),
            Factor::CycleBand => Some(cycle_band_index(row.cycle)),
            Factor::HsiTrim => row.hsitrim.map(u64::from),
            Factor::HsiCal => row.hsical.map(u64::from),
            Factor::TrueHse => Some(u64::from(row.true_hse_hz)),
            Factor::Pllm => row.pllm.map(u64::from),
            Factor::DetectedHse => row.detected_hse_hz.map(u64::from),
            // mhz() shows two decimals: values equal to 10 kHz are one value.
            Factor::SysclkMhz => row.sysclk_hz.map(|hz| (hz / 1e4).round() as u64),
            Factor::OptionBytes => {
                (!row.option_bytes_hex.is_empty()).then(|| text_hash(&row.option_bytes_hex))
            }
            Factor::DebugHalt => row.halted_before_enumeration.map(u64::from),
        }
    }

    /// The value of this factor on a row, if recorded.
    fn value(self, run: usize, row: &CycleRow) -> Option<String> {
        match self {
            Factor::Phase => Some(row.phase.clone()),
            Factor::HourUtc => row.started_utc.get(11..13).map(|h| format!("{h} h")),
            Factor::Run => Some(run.to_string()),
            Factor::CycleBand => Some(cycle_band(row.cycle).into()),
            Factor::HsiTrim => row.hsitrim.map(|t| t.to_string()),
            Factor::HsiCal => row.hsical.map(|c| format!("0x{c:02X}")),
            Factor::TrueHse => Some(mhz(f64::from(row.true_hse_hz))),
            Factor::Pllm => row.pllm.map(|m| m.to_string()),
            Factor::DetectedHse => row.detected_hse_hz.map(|h| mhz(f64::from(h))),
            Factor::SysclkMhz => row.sysclk_hz.map(mhz),
            Factor::OptionBytes => {
                (!row.option_bytes_hex.is_empty()).then(|| row.option_bytes_hex.clone())
            }
            Factor::DebugHalt => row
                .halted_before_enumeration
                .map(|h| if h { "halted" } else { "not halted" }.into()),
        }
    }
}

fn mhz(hz: f64) -> String {
    let m = hz / 1e6;
    if (m - m.round()).abs() < 1e-9 {
        format!("{m:.0} MHz")
    } else {
        format!("{m:.2} MHz")
    }
}

/// The position of a cycle's band in [`cycle_band`]'s order.
fn cycle_band_index(cycle: u64) -> u64 {
    match cycle {
        0..=1 => 0,
        2..=3 => 1,
        4..=10 => 2,
        11..=30 => 3,
        31..=100 => 4,
        101..=300 => 5,
        301..=1000 => 6,
        _ => 7,
    }
}

/// Bands of the cycle number, in the order a wear-out would show.
fn cycle_band(cycle: u64) -> &'static str {
    match cycle {
        0..=1 => "cycle 1",
        2..=3 => "cycles 2–3",
        4..=10 => "cycles 4–10",
        11..=30 => "cycles 11–30",
        31..=100 => "cycles 31–100",
        101..=300 => "cycles 101–300",
        301..=1000 => "cycles 301–1,000",
        _ => "cycles above 1,000",
    }
}

/// What each cycles.csv column is to the diagnosis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The outcome itself or what follows from it (the failed step, the error, the time it took).
    Outcome,
    /// Bookkeeping: the schema, the attempt, the run's clock.
    Bookkeeping,
    /// A named candidate or its mechanism (board, clock state, temperature, serial, option bytes).
    Named,
    /// Compared generically as this factor.
    Generic(Factor),
}

/// Every cycles.csv column and what the diagnosis does with it.
pub const COLUMNS: [(&str, Role); 38] = [
    ("schema", Role::Bookkeeping),
    ("started_utc", Role::Generic(Factor::HourUtc)),
    ("time_s", Role::Bookkeeping),
    ("board", Role::Named),
    ("phase", Role::Generic(Factor::Phase)),
    ("cycle", Role::Generic(Factor::CycleBand)),
    ("attempt", Role::Bookkeeping),
    ("final_attempt", Role::Bookkeeping),
    ("temperature_c", Role::Named),
    ("outcome", Role::Outcome),
    ("failed_step", Role::Outcome),
    ("error_kind", Role::Outcome),
    ("error_class", Role::Outcome),
    ("error_detail", Role::Outcome),
    ("elapsed_ms", Role::Outcome),
    ("step_retries", Role::Outcome),
    ("usb_serial", Role::Named),
    ("expected_serial", Role::Named),
    ("serial_match", Role::Named),
    ("option_bytes_check", Role::Named),
    ("option_bytes_hex", Role::Generic(Factor::OptionBytes)),
    ("pllm", Role::Generic(Factor::Pllm)),
    ("detected_hse_hz", Role::Generic(Factor::DetectedHse)),
    ("true_hse_hz", Role::Generic(Factor::TrueHse)),
    ("hse_verdict", Role::Named),
    ("hse_error_mhz", Role::Named),
    ("sysclk_hz", Role::Generic(Factor::SysclkMhz)),
    ("sysclk_measured_hz", Role::Named),
    ("sysclk_measured_uncertainty_hz", Role::Bookkeeping),
    ("usb_clock_hz", Role::Named),
    ("usb_clock_error_ppm", Role::Named),
    ("usb_in_tolerance", Role::Named),
    ("hsitrim", Role::Generic(Factor::HsiTrim)),
    ("hsical", Role::Generic(Factor::HsiCal)),
    ("hsi_measured_error_ppm", Role::Named),
    ("model_hsi_error_ppm", Role::Named),
    (
        "halted_before_enumeration",
        Role::Generic(Factor::DebugHalt),
    ),
    // Read at the end of the cycle: a consequence of how the cycle went (a board stuck in the bootloader draws
    // less than one running its application), not a condition of it; the report bins it on its own.
    ("supply_current_ma", Role::Named),
];

/// More values than this and a factor is not compared (it is an identifier, not a condition).
pub const MAX_VALUES: usize = 48;

/// Interned values of one factor: its texts in order of first appearance, found by their keys.
#[derive(Debug, Clone, Default)]
pub struct FactorValues {
    pub values: Vec<String>,
    keys: Vec<u64>,
    index: HashMap<u64, usize>,
    /// More than [`MAX_VALUES`] distinct values were seen.
    pub too_many: bool,
}

impl FactorValues {
    fn intern(&mut self, key: u64, text: impl FnOnce() -> String) -> Option<usize> {
        if let Some(&i) = self.index.get(&key) {
            return Some(i);
        }
        if self.values.len() >= MAX_VALUES {
            self.too_many = true;
            return None;
        }
        self.values.push(text());
        self.keys.push(key);
        self.index.insert(key, self.values.len() - 1);
        Some(self.values.len() - 1)
    }
}

/// Everything the diagnosis needs, per board by the aggregate's interned board index.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// The cells (board, clock state, °C rounded or None) in order of first appearance, their index, their
    /// cycles, and per cell, per factor, per value index its cycles: a row costs one hash, then indexing.
    cell_keys: Vec<Cell>,
    cell_index: HashMap<Cell, usize>,
    cell_tallies: Vec<Tally>,
    factor_tallies: Vec<[Vec<Tally>; FACTORS]>,
    pub boards: Vec<BoardEvidence>,
    factors: [FactorValues; FACTORS],
}

/// (board, clock state, °C rounded or None).
pub type Cell = (usize, ClockState, Option<i64>);

const FACTORS: usize = Factor::ALL.len();

impl Evidence {
    /// Count one deciding row of board `board` (the aggregate's index) of run `run`.
    pub fn add(&mut self, board: usize, run: usize, row: &CycleRow) {
        let v = verdict(row);
        let clock = ClockState::of(row);
        let temp = row.temperature_c.map(|t| t.round() as i64);
        let cell = self.cell((board, clock, temp));
        self.cell_tallies[cell].add(v);
        for f in Factor::ALL {
            let Some(key) = f.key(run, row) else {
                continue;
            };
            let values = &mut self.factors[f as usize];
            let text = || f.value(run, row).unwrap_or_default();
            if let Some(i) = values.intern(key, text) {
                let per_value = &mut self.factor_tallies[cell][f as usize];
                if per_value.len() <= i {
                    per_value.resize(i + 1, Tally::default());
                }
                per_value[i].add(v);
            }
        }
        if self.boards.len() <= board {
            self.boards.resize_with(board + 1, BoardEvidence::default);
        }
        let b = &mut self.boards[board];
        b.true_hse_hz = row.true_hse_hz;
        match v {
            Verdict::Board => {
                if let Some(kind) = row.error_kind {
                    *b.errors.entry((clock, kind)).or_default() += 1;
                    b.first_detail
                        .entry(kind)
                        .or_insert_with(|| row.error_detail.clone());
                }
                *b.failed_steps.entry(row.failed_step.clone()).or_default() += 1;
            }
            Verdict::Infra => {
                if let Some(kind) = row.error_kind {
                    *b.infra_errors.entry(kind).or_default() += 1;
                    b.first_detail
                        .entry(kind)
                        .or_insert_with(|| row.error_detail.clone());
                }
            }
            Verdict::Pass => {}
        }
        if let Some(s) = row.serial_match {
            *b.serial.entry((clock, s)).or_default() += 1;
            if s == SerialMatch::Mismatch {
                b.wrong_serials.add(&row.usb_serial, 1);
            }
        }
        if b.expected_serial.is_empty() && !row.expected_serial.is_empty() {
            b.expected_serial.clone_from(&row.expected_serial);
        }
        if let Some(c) = row.option_bytes_check {
            *b.option_bytes.entry((clock, c)).or_default() += 1;
        }
        if !row.option_bytes_hex.is_empty() {
            b.option_bytes_hex.add(&row.option_bytes_hex, 1);
        }
        if v == Verdict::Board && row.failed_step.contains("option_bytes") {
            *b.option_bytes_failed.entry(clock).or_default() += 1;
        }
        let hsi = row.hsi_measured_error_ppm.or(row.model_hsi_error_ppm);
        b.hsi_measured |= row.hsi_measured_error_ppm.is_some();
        if let Some(h) = hsi {
            b.hsi_ppm.add(h);
        }
        match row.hse_verdict {
            Some(HseVerdict::Misdetected) => {
                let e = b.pllm.entry(row.pllm.unwrap_or(0)).or_default();
                e.0 += 1;
                if let Some(p) = row.usb_clock_error_ppm {
                    e.1.add(p);
                }
                if let Some(h) = hsi {
                    b.hsi_ppm_misdetected.add(h);
                }
            }
            Some(HseVerdict::Correct) => {
                if let Some(p) = row.usb_clock_error_ppm {
                    b.usb_ppm_detected_right.add(p);
                }
                if let Some(s) = row.sysclk_hz {
                    *b.sysclk_detected_right
                        .entry((s / 1e4).round() as u64)
                        .or_default() += 1;
                }
            }
            _ => {}
        }
    }

    /// The index of `key`'s cell, a new one when first seen.
    fn cell(&mut self, key: Cell) -> usize {
        if let Some(&i) = self.cell_index.get(&key) {
            return i;
        }
        self.cell_keys.push(key);
        self.cell_tallies.push(Tally::default());
        self.factor_tallies.push(Default::default());
        self.cell_index.insert(key, self.cell_keys.len() - 1);
        self.cell_keys.len() - 1
    }

    /// Every generic factor with its values.
    pub fn factors(&self) -> impl Iterator<Item = (Factor, &FactorValues)> {
        Factor::ALL.into_iter().zip(&self.factors)
    }

    /// Every cell with its cycles.
    pub fn cells(&self) -> impl Iterator<Item = (&Cell, &Tally)> {
        self.cell_keys.iter().zip(&self.cell_tallies)
    }

    /// The cycles of factor `f`'s value `value` in cell (board, clock, temp).
    pub fn factor_cell(&self, f: Factor, value: usize, cell: &Cell) -> Tally {
        self.cell_index
            .get(cell)
            .and_then(|&i| self.factor_tallies[i][f as usize].get(value))
            .copied()
            .unwrap_or_default()
    }

    /// This evidence followed by `later`'s, whose boards are renumbered by `boards` (later index -> ours).
    pub fn append(&mut self, later: Evidence, boards: &[usize]) {
        // Factor values are renumbered into ours; a value we have no room for drops out as it would have
        // in one pass.
        let mut renumber: BTreeMap<Factor, Vec<Option<usize>>> = BTreeMap::new();
        for (f, values) in Factor::ALL.into_iter().zip(later.factors) {
            let ours = &mut self.factors[f as usize];
            ours.too_many |= values.too_many;
            let ids = values
                .values
                .into_iter()
                .zip(values.keys)
                .map(|(v, k)| ours.intern(k, || v))
                .collect();
            renumber.insert(f, ids);
        }
        for (i, (b, c, t)) in later.cell_keys.iter().enumerate() {
            let cell = self.cell((boards[*b], *c, *t));
            self.cell_tallies[cell] += later.cell_tallies[i];
            for f in Factor::ALL {
                for (v, n) in later.factor_tallies[i][f as usize].iter().enumerate() {
                    if let Some(v) = renumber.get(&f).and_then(|r| r[v]) {
                        let per_value = &mut self.factor_tallies[cell][f as usize];
                        if per_value.len() <= v {
                            per_value.resize(v + 1, Tally::default());
                        }
                        per_value[v] += *n;
                    }
                }
            }
        }
        for (i, e) in later.boards.into_iter().enumerate() {
            let b = boards[i];
            if self.boards.len() <= b {
                self.boards.resize_with(b + 1, BoardEvidence::default);
            }
            self.boards[b].absorb(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cycles_column_has_a_role_in_the_diagnosis() {
        let named: Vec<&str> = COLUMNS.iter().map(|(c, _)| *c).collect();
        assert_eq!(named, records::CYCLE_COLUMNS.to_vec());
        for f in Factor::ALL {
            assert!(
                COLUMNS.iter().any(|(_, r)| *r == Role::Generic(f)) || f == Factor::Run,
                "{f:?} compares no column"
            );
        }
    }
}
