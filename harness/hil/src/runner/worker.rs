//! One board's share of a phase: cycles until the phase's count or duration is reached, each cycle its
//! steps with per-step retries, the whole-cycle retry policy, and the per-board stop rule. Every step
//! attempt and every cycle attempt goes out as an event the moment it ends. On resume, a virtual board runs
//! the recorded part of the phase again without sending it: virtual time is cheap, and only so is the board
//! (its last boot, its flash, the faults armed in it) where it was when the run stopped.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use vboard::cycle_seed;

use super::board::BoardRun;
use super::failure::StepError;
use super::{CycleFacts, PhaseProgress, ResumePoint, RunEvent};
use crate::scenario::{Action, Phase, PhaseLength, RetryOn, Scenario, Step};
use records::{
    CycleRow, ErrorClass, OptionBytesCheck, Outcome, SerialMatch, StepRow, SCHEMA_VERSION,
};

/// What a worker needs to know besides its board.
pub(crate) struct PhaseJob<'a> {
    pub scenario: &'a Scenario,
    pub phase: &'a Phase,
    pub board: usize,
    /// What the records already hold of this board's phase (nothing for a new run).
    pub progress: PhaseProgress,
    /// Run the recorded cycles again, silently (a virtual board), instead of going on after them.
    pub replay: bool,
    /// The records read at resume: a replayed exec step's recorded verdict.
    pub resume: &'a ResumePoint,
    /// Seed of the board's random draws; mixed with phase, cycle and attempt at every cycle.
    pub seed: u64,
    pub phase_index: usize,
    pub stop: &'a AtomicBool,
    /// Failed cycles on every board so far, for `max_failures` (checked before each cycle, not after the
    /// fact, so a fast worker cannot overrun it).
    pub failures: &'a AtomicU64,
    /// The run-wide stop rule a worker found met, first one kept: the run is `stopped` for it, not
    /// `interrupted`.
    pub stop_rule: &'a Mutex<Option<String>>,
    pub events: SyncSender<RunEvent>,
}

/// How a board's phase ended.
pub(crate) enum PhaseEnd {
    /// Its cycles or its time are done.
    Done,
    /// The whole run is stopping (Ctrl-C, a run-wide stop rule).
    RunStopping,
    /// This board hit `max_consecutive_failures`; the others go on.
    BoardStopped(String),
}

fn utc_now() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

impl PhaseJob<'_> {
    /// True when the records already hold this cycle attempt (it is being run again, not sent).
    fn recorded(&self, cycle: u64, attempt: u32) -> bool {
        let next = (
            self.progress.cycles_done + 1,
            self.progress.next_attempt.max(1),
        );
        self.replay && (cycle, attempt) < next
    }
}

/// Run one board through one phase.
pub(crate) fn run_phase(run: &mut BoardRun, job: PhaseJob<'_>) -> PhaseEnd {
    let (mut cycle, mut elapsed, mut first_attempt) = match job.replay {
        true => (1, Duration::ZERO, 1),
        false => {
            let p = job.progress;
            (p.cycles_done + 1, p.elapsed, p.next_attempt.max(1))
        }
    };
    // A resumed board carries on with its recorded failure streak; one the stop rule already stopped stays
    // stopped. A replayed (virtual) board rebuilds both from its recorded cycles.
    let mut consecutive = if job.replay { 0 } else { job.progress.streak };
    if let Some(max) = job.scenario.stop.max_consecutive_failures {
        if consecutive >= max {
            return PhaseEnd::BoardStopped(format!("{consecutive} consecutive failed cycles"));
        }
    }
    loop {
        let more = match job.phase.length {
            PhaseLength::Cycles(n) => cycle <= n,
            PhaseLength::Duration(d) => elapsed < d,
        };
        if !more {
            return PhaseEnd::Done;
        }
        // A cycle the records hold the start of happened: it runs again whatever the stop rules say now.
        if !job.recorded(cycle, first_attempt) && stopping(run, &job) {
            return PhaseEnd::RunStopping;
        }
        let (passed, took) = run_cycle_with_retries(run, &job, cycle, first_attempt);
        if !passed && cycle > job.progress.cycles_done {
            job.failures.fetch_add(1, Ordering::SeqCst);
        }
        first_attempt = 1;
        elapsed += took;
        consecutive = if passed { 0 } else { consecutive + 1 };
        if let Some(max) = job.scenario.stop.max_consecutive_failures {
            if consecutive >= max {
                return PhaseEnd::BoardStopped(format!("{consecutive} consecutive failed cycles"));
            }
        }
        cycle += 1;
    }
}

/// Whether the run is to stop before the next cycle (a stop request, or a run-wide stop rule met now).
fn stopping(run: &BoardRun, job: &PhaseJob<'_>) -> bool {
    if let Some(rule) = stop_rule_met(run, job) {
        job.stop_rule
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(rule);
        job.stop.store(true, Ordering::SeqCst);
    }
    job.stop.load(Ordering::SeqCst)
}

/// The run-wide stop rule met before the next cycle, in the words the manifest records.
fn stop_rule_met(run: &BoardRun, job: &PhaseJob<'_>) -> Option<String> {
    let stop = &job.scenario.stop;
    let failures = job.failures.load(Ordering::SeqCst);
    if let Some(max) = stop.max_failures.filter(|max| failures >= *max) {
        return Some(format!(
            "{failures} failed cycles reached max_failures = {max}"
        ));
    }
    stop.max_duration
        .filter(|max| run.clock.now() >= *max)
        .map(|max| format!("run time reached max_duration = {} s", max.as_secs()))
}

/// All attempts of one cycle; returns whether its final attempt passed and the time it all took.
fn run_cycle_with_retries(
    run: &mut BoardRun,
    job: &PhaseJob<'_>,
    cycle: u64,
    first: u32,
) -> (bool, Duration) {
    let attempts = job.scenario.retry.attempts.max(1);
    let t0 = run.clock.now();
    let mut attempt = first;
    loop {
        let mut row = run_cycle(run, job, cycle, attempt);
        let retry_allowed = match job.scenario.retry.on {
            RetryOn::Any => true,
            RetryOn::Rig => row.error_class == Some(ErrorClass::Infrastructure),
        };
        let retry = row.failed() && retry_allowed && attempt < attempts;
        row.final_attempt = !retry;
        let passed = !row.failed();
        if !job.recorded(cycle, attempt) {
            let row = Box::new(row);
            let _ = job.events.send(RunEvent::Cycle {
                board: job.board,
                row,
            });
        }
        if !retry {
            return (passed, run.clock.now().saturating_sub(t0));
        }
        attempt += 1;
    }
}

/// One attempt at one cycle: every step in order, stopping at the first that fails after its retries.
fn run_cycle(run: &mut BoardRun, job: &PhaseJob<'_>, cycle: u64, attempt: u32) -> CycleRow {
    let seed = cycle_seed(job.seed, job.phase_index, cycle, attempt);
    if let Some(board) = run.virtual_board() {
        board.lock().reseed(seed);
    }
    if let Some(faults) = &run.faults {
        faults.reseed(seed);
    }
    run.facts = CycleFacts::default();
    let started_utc = utc_now();
    let t0 = run.clock.now();
    let temperature_c = run.control.temperature().ok().flatten();
    let mut failure: Option<(String, StepError)> = None;
    let mut step_retries = 0;
    for (index, step) in job.scenario.cycle.iter().enumerate() {
        // After a failure only the cycle's clock reads still run (they disturb nothing), so every failed
        // cycle is recorded with what the clocks were doing; they do not change the cycle's outcome.
        let forensic = matches!(step.action, Action::ReadClocks);
        if failure.is_some() && !forensic {
            continue;
        }
        let (result, tries) = run_step(run, job, step, cycle, attempt, index);
        step_retries += tries - 1;
        if let (Err(e), None) = (result, &failure) {
            failure = Some((step.action.kind().to_string(), e));
        }
    }
    // What the board draws once the cycle is done: a board that did not boot draws differently. A failed reading
    // is left empty, as a failed temperature reading is.
    let supply_current_ma = run.control.supply_current().ok().flatten().map(|a| a * 1e3);
    let mut row = run.facts.row(run, job, started_utc, t0);
    row.supply_current_ma = supply_current_ma;
    row.cycle = cycle;
    row.attempt = attempt;
    row.temperature_c = temperature_c;
    row.elapsed_ms = ms(run.clock.now().saturating_sub(t0));
    row.step_retries = step_retries;
    if let Some((step, e)) = failure {
        row.outcome = Outcome::Fail;
        row.failed_step = step;
        row.error_kind = Some(e.kind);
        row.error_class = Some(e.class());
        row.error_detail = e.detail;
    }
    row
}

/// One step with its retries; every try becomes a steps.csv row. Returns the last result and the tries.
fn run_step(
    run: &mut BoardRun,
    job: &PhaseJob<'_>,
    step: &Step,
    cycle: u64,
    attempt: u32,
    index: usize,
) -> (Result<(), StepError>, u32) {
    let kind = step.action.kind();
    let send = !job.recorded(cycle, attempt);
    let mut try_number = 0;
    loop {
        try_number += 1;
        if send {
            let _ = job.events.send(RunEvent::StepStarted {
                board: job.board,
                step: kind,
                cycle,
            });
        }
        let (started_utc, t0) = (utc_now(), run.clock.now());
        run.requests.0 = 0;
        run.step = super::exec_step::StepContext {
            phase: job.phase.name.clone(),
            cycle,
            attempt,
            index,
            try_number,
        };
        run.note = None;
        let result = match &step.action {
            // A replayed exec step is not run again: its tool's verdict is what the records say, so the replay
            // takes the recorded path (its retries, its stop rule, the steps skipped after a failure).
            Action::Exec(_) if !send => {
                // The USB device released, as a run exec step releases it.
                run.transport = None;
                let key = (
                    run.spec.name.clone(),
                    job.phase.name.clone(),
                    cycle,
                    attempt,
                    index,
                    try_number,
                );
                match job.resume.exec_outcome(&key) {
                    Some(Ok(note)) => {
                        run.note = Some(note);
                        Ok(())
                    }
                    Some(Err(e)) => Err(e),
                    None => Err(StepError::harness(format!(
                        "resume: steps.csv holds no row for this exec step (board {}, phase {}, cycle {cycle}, \
                         attempt {attempt}, step {index}, try {try_number}); the replay cannot know what the \
                         tool did",
                        run.spec.name, job.phase.name
                    ))),
                }
            }
            _ => run.run(&step.action, step.timeout),
        };
        let mut row = StepRow {
            schema: SCHEMA_VERSION,
            started_utc,
            time_s: t0.as_secs_f64(),
            board: run.spec.name.clone(),
            phase: job.phase.name.clone(),
            cycle,
            attempt,
            index,
            step: kind.into(),
            try_number,
            outcome: if result.is_ok() {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            elapsed_ms: ms(run.clock.now().saturating_sub(t0)),
            dfu_requests: run.requests.0,
            ..StepRow::default()
        };
        match &result {
            Err(e) => {
                row.error_kind = Some(e.kind);
                row.error_class = Some(e.class());
                row.detail = e.detail.clone();
            }
            Ok(()) => row.detail = run.note.take().unwrap_or_default(),
        }
        if send {
            let row = Box::new(row);
            let _ = job.events.send(RunEvent::Step {
                board: job.board,
                row,
            });
        }
        if result.is_ok() || try_number > step.retries {
            return (result, try_number);
        }
    }
}

impl CycleFacts {
    /// The cycles.csv row for what this cycle learnt (outcome fields are filled in by the caller).
    fn row(
        &self,
        run: &BoardRun,
        job: &PhaseJob<'_>,
        started_utc: String,
        t0: Duration,
    ) -> CycleRow {
        let d = self.derived.as_ref();
        let expected = self
            .snapshot
            .as_ref()
            .and_then(|s| crate::clocks::expected_serial(s.identity.uid));
        let ob_check = match (&self.option_bytes, &self.snapshot) {
            (Some(ob), Some(s)) => Some(
                match crate::clocks::OptionBytesCheck::compare(&s.option_bytes, ob).matches {
                    true => OptionBytesCheck::Match,
                    false => OptionBytesCheck::Mismatch,
                },
            ),
            (Some(_), None) => Some(OptionBytesCheck::DfuOnly),
            _ => None,
        };
        let serial_match = match (self.enumerated, &self.serial, &expected) {
            (true, None, _) => Some(SerialMatch::Unreadable),
            (_, Some(s), Some(e)) if s == e => Some(SerialMatch::Match),
            (_, Some(_), Some(_)) => Some(SerialMatch::Mismatch),
            _ => None,
        };
        let model_hsi = run
            .virtual_board()
            .and_then(|b| b.lock().boot().map(|boot| boot.hsi_error_ppm));
        CycleRow {
            schema: SCHEMA_VERSION,
            started_utc,
            time_s: t0.as_secs_f64(),
            board: run.spec.name.clone(),
            phase: job.phase.name.clone(),
            usb_serial: self.serial.clone().unwrap_or_default(),
            serial_match,
            expected_serial: expected.unwrap_or_default(),
            option_bytes_check: ob_check,
            option_bytes_hex: self
                .option_bytes
                .as_ref()
                .map(|b| hex(b))
                .unwrap_or_default(),
            pllm: d.filter(|d| d.pll_from_hse).map(|d| d.pllm),
            detected_hse_hz: d.and_then(|d| d.detected_hse_hz),
            true_hse_hz: run.spec.hse_hz,
            hse_verdict: d.map(|d| d.verdict),
            hse_error_mhz: d.and_then(|d| d.hse_error_mhz),
            sysclk_hz: d.map(|d| d.sysclk_hz),
            sysclk_measured_hz: self.sysclk.as_ref().map(|m| m.sysclk.frequency_hz),
            sysclk_measured_uncertainty_hz: self.sysclk.as_ref().map(|m| m.sysclk.uncertainty_hz),
            usb_clock_hz: d.and_then(|d| d.usb_clock_hz),
            usb_clock_error_ppm: d.and_then(|d| d.usb_clock_error_ppm),
            usb_in_tolerance: d.and_then(|d| d.usb_in_tolerance),
            hsitrim: d.map(|d| d.hsitrim),
            hsical: d.map(|d| d.hsical),
            hsi_measured_error_ppm: self.hsi.as_ref().map(|h| h.error_ppm),
            model_hsi_error_ppm: model_hsi,
            halted_before_enumeration: self.halted_before_enumeration,
            ..CycleRow::default()
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
