//! Where a killed run stopped, from its records alone, in one streaming pass over each file: per board and
//! phase, the cycles finished, the time spent and the next attempt of an unfinished cycle; per board, its
//! totals so far; and what each recorded exec step did, which a replayed virtual board cannot ask the tool
//! again. Step rows of a cycle attempt that never finished are dropped, so the resumed attempt is recorded
//! once.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use records::{
    CycleRow, ErrorKind, Outcome, RecordError, Rows, StepRow, TryKey, CYCLES_CSV, STEPS_CSV,
};

use super::failure::StepError;
use super::summary::{count, BoardSummary};
use super::{PhaseProgress, ProgressMap};

/// A run's position, for `--resume`; [`ResumePoint::default`] is a new run.
#[derive(Debug, Default)]
pub struct ResumePoint {
    progress: ProgressMap,
    totals: HashMap<String, BoardSummary>,
    exec: RecordedExec,
}

/// (phase, cycle, attempt) of one cycle attempt.
type Attempt = (String, u64, u32);

/// What each recorded try of an exec step did: its passing note, or its failure.
pub(crate) type RecordedExec = HashMap<TryKey, Result<String, StepError>>;

impl ResumePoint {
    /// Take one cycles.csv row (in file order) into the position.
    fn absorb(&mut self, r: &CycleRow) {
        let p = self
            .progress
            .entry((r.board.clone(), r.phase.clone()))
            .or_default();
        let took = Duration::from_secs_f64(r.elapsed_ms.max(0.0) / 1e3);
        p.elapsed += took;
        if r.final_attempt {
            p.cycles_done = p.cycles_done.max(r.cycle);
            p.next_attempt = 1;
            p.streak = if r.failed() { p.streak + 1 } else { 0 };
        } else {
            p.next_attempt = r.attempt + 1;
        }
        count(self.totals.entry(r.board.clone()).or_default(), r);
    }

    /// Where `board` is in `phase`.
    pub fn progress(&self, board: &str, phase: &str) -> PhaseProgress {
        self.progress
            .get(&(board.to_string(), phase.to_string()))
            .copied()
            .unwrap_or_default()
    }

    /// What the records say a finished try of an exec step did (`None` when they hold no such try). A replayed
    /// virtual board takes the tool's verdict from here: the tool is not run twice, and the replay follows the
    /// recorded run (its retries, its stop rule, the steps skipped after a failure).
    pub(crate) fn exec_outcome(&self, key: &TryKey) -> Option<Result<String, StepError>> {
        self.exec.get(key).cloned()
    }

    /// `board`'s totals recorded before the resume (empty for a new run).
    pub fn totals(&self, board: &str) -> Option<&BoardSummary> {
        self.totals.get(board)
    }
}

/// Read the run folder `dir` and drop the step rows of attempts that never finished (rewriting steps.csv
/// atomically when there are any). `replaying` names the boards that run their recorded cycles again (the
/// virtual ones): only their exec verdicts are kept, so a long real-rig run's are not all held in memory.
pub fn resume_point(dir: &Path, replaying: &[String]) -> Result<ResumePoint, RecordError> {
    let mut point = ResumePoint::default();
    let mut last: HashMap<String, Attempt> = HashMap::new();
    let mut rows = Rows::<CycleRow>::open(&dir.join(CYCLES_CSV))?;
    while let Some(r) = rows.next_row()? {
        point.absorb(r);
        last.insert(r.board.clone(), (r.phase.clone(), r.cycle, r.attempt));
    }
    let steps = dir.join(STEPS_CSV);
    let unfinished;
    (unfinished, point.exec) = scan_steps(&steps, &last, replaying)?;
    if unfinished > 0 {
        let mut filter = Unfinished::new(&last);
        records::retain::<StepRow>(&steps, |s| !filter.is_unfinished(s))?;
    }
    Ok(point)
}

/// Tells the step rows of unfinished attempts apart, reading steps.csv in file order: a board's step rows
/// come in its own order, so its rows after those of its last recorded cycle attempt belong to an attempt
/// that never finished.
struct Unfinished<'a> {
    last: &'a HashMap<String, Attempt>,
    past_last: HashMap<String, bool>,
}

impl<'a> Unfinished<'a> {
    fn new(last: &'a HashMap<String, Attempt>) -> Self {
        Self {
            last,
            past_last: HashMap::new(),
        }
    }

    fn is_unfinished(&mut self, s: &StepRow) -> bool {
        let Some((phase, cycle, attempt)) = self.last.get(&s.board) else {
            return true;
        };
        let of_last = (&s.phase, s.cycle, s.attempt) == (phase, *cycle, *attempt);
        let seen = self.past_last.entry(s.board.clone()).or_insert(false);
        *seen |= of_last;
        *seen && !of_last
    }
}

/// The step rows of unfinished attempts, counted, and the exec tries of the finished ones.
fn scan_steps(
    path: &Path,
    last: &HashMap<String, Attempt>,
    replaying: &[String],
) -> Result<(u64, RecordedExec), RecordError> {
    let mut exec = RecordedExec::new();
    if !path.exists() {
        return Ok((0, exec));
    }
    let mut filter = Unfinished::new(last);
    let mut rows = Rows::<StepRow>::open(path)?;
    let mut n = 0;
    while let Some(s) = rows.next_row()? {
        if filter.is_unfinished(s) {
            n += 1;
        } else if s.step == "exec" && replaying.contains(&s.board) {
            let outcome = match s.outcome {
                Outcome::Pass => Ok(s.detail.clone()),
                Outcome::Fail => Err(StepError {
                    kind: s.error_kind.unwrap_or(ErrorKind::Harness),
                    detail: s.detail.clone(),
                }),
            };
            exec.insert(s.try_key(), outcome);
        }
    }
    Ok((n, exec))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cycle: u64, attempt: u32, final_attempt: bool, failed: bool) -> CycleRow {
        CycleRow {
            board: "b".into(),
            phase: "p".into(),
            cycle,
            attempt,
            final_attempt,
            outcome: if failed { Outcome::Fail } else { Outcome::Pass },
            ..CycleRow::default()
        }
    }

    #[test]
    fn the_recorded_failure_streak_is_kept_for_the_stop_rule() {
        let mut p = ResumePoint::default();
        for r in [
            row(1, 1, true, true),
            row(2, 1, true, false),
            row(3, 1, true, true),
            row(4, 1, false, true), // retried: not decided yet
            row(4, 2, true, true),
        ] {
            p.absorb(&r);
        }
        let progress = p.progress("b", "p");
        assert_eq!((progress.cycles_done, progress.streak), (4, 2));
    }
}
