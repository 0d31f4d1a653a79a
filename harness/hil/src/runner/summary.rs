//! Running totals per board, built from the event stream alone: cycles, failures, where each board is.
//! Decides the run-wide stop rules and judges the pass thresholds (through `records::judge`); holds no rows, so memory stays flat however
//! long the run.

use std::time::Duration;

use super::RunEvent;
use records::{judge, Counts, CycleRow, ErrorClass, Judgement, RunStatus, Thresholds};

use crate::scenario::Scenario;

/// One board's totals.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct BoardSummary {
    pub name: String,
    /// Cycles decided (final attempts).
    pub cycles: u64,
    /// Cycles whose final attempt failed.
    pub failures: u64,
    /// Of those, failures of the rig, probe or host rather than the board.
    pub infrastructure_failures: u64,
    /// Cycle attempts, retries included.
    pub attempts: u64,
    pub phase: String,
    pub cycle: u64,
    pub step: String,
    /// Why the board stopped early, if it did.
    pub stopped: Option<String>,
    /// Run time on the board's clock, seconds.
    pub time_s: f64,
}

/// The whole run's totals and how it ended.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunSummary {
    pub boards: Vec<BoardSummary>,
    pub status: RunStatus,
    pub stop_reason: Option<String>,
    /// Phases the run never started (it stopped or was interrupted before them), in scenario order.
    pub phases_not_run: Vec<String>,
}

impl RunSummary {
    pub fn new(names: &[String]) -> Self {
        let boards = names
            .iter()
            .map(|n| BoardSummary {
                name: n.clone(),
                ..Default::default()
            })
            .collect();
        Self {
            boards,
            status: RunStatus::Running,
            stop_reason: None,
            phases_not_run: Vec::new(),
        }
    }

    /// Start from the totals a resumed run had recorded.
    pub fn continue_from(&mut self, resume: &super::ResumePoint) {
        for b in &mut self.boards {
            if let Some(t) = resume.totals(&b.name) {
                let name = std::mem::take(&mut b.name);
                *b = BoardSummary { name, ..t.clone() };
            }
        }
    }

    /// Take one event into the totals.
    pub fn absorb(&mut self, event: &RunEvent) {
        match event {
            RunEvent::PhaseStarted { name, .. } => {
                self.boards.iter_mut().for_each(|b| b.phase = name.clone())
            }
            RunEvent::StepStarted { board, step, cycle } => {
                if let Some(b) = self.boards.get_mut(*board) {
                    b.step = (*step).to_string();
                    b.cycle = *cycle;
                }
            }
            RunEvent::Cycle { board, row } => {
                if let Some(b) = self.boards.get_mut(*board) {
                    count(b, row);
                }
            }
            RunEvent::BoardStopped { board, reason } => {
                if let Some(b) = self.boards.get_mut(*board) {
                    b.stopped = Some(reason.clone());
                }
            }
            RunEvent::Step { .. } | RunEvent::Instruments(_) => {}
        }
    }

    /// A run-wide stop rule that is now met (max failures, max duration), if any.
    pub fn global_stop(&self, scenario: &Scenario) -> Option<String> {
        if self.status != RunStatus::Running {
            return None;
        }
        if let Some(max) = scenario.stop.max_failures {
            if self.failures() >= max {
                return Some(format!(
                    "{} failed cycles reached max_failures = {max}",
                    self.failures()
                ));
            }
        }
        let longest = self.boards.iter().map(|b| b.time_s).fold(0.0, f64::max);
        match scenario.stop.max_duration {
            Some(max) if Duration::from_secs_f64(longest) >= max => Some(format!(
                "run time reached max_duration = {} s",
                max.as_secs()
            )),
            _ => None,
        }
    }

    pub fn stop(&mut self, status: RunStatus, reason: String) {
        self.status = status;
        self.stop_reason = Some(reason);
    }

    pub fn cycles(&self) -> u64 {
        self.boards.iter().map(|b| b.cycles).sum()
    }

    pub fn failures(&self) -> u64 {
        self.boards.iter().map(|b| b.failures).sum()
    }

    /// Failed cycles / decided cycles (0 when none ran).
    pub fn failure_rate(&self) -> f64 {
        match self.cycles() {
            0 => 0.0,
            n => self.failures() as f64 / n as f64,
        }
    }

    /// The run judged by `thresholds`, through the one function the report and junit.xml use too.
    pub fn judge(&self, thresholds: &Thresholds) -> Judgement {
        judge(
            thresholds,
            self.boards.iter().map(|b| {
                let counts = Counts {
                    cycles: b.cycles,
                    failures: b.failures,
                };
                (b.name.as_str(), counts)
            }),
        )
    }
}

/// Count one cycles.csv row into its board's totals.
pub(super) fn count(b: &mut BoardSummary, row: &CycleRow) {
    b.attempts += 1;
    b.time_s = b.time_s.max(row.time_s + row.elapsed_ms / 1e3);
    if !row.final_attempt {
        return;
    }
    b.cycles += 1;
    if row.failed() {
        b.failures += 1;
        if row.error_class == Some(ErrorClass::Infrastructure) {
            b.infrastructure_failures += 1;
        }
    }
}
