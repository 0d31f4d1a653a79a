//! Live progress of a soak on a terminal: an overall line (cycles done of the total, percentage, failures,
//! elapsed time, ETA) above one line per board (phase, cycle, cycles done, failures, current step). Nothing
//! is drawn when not a terminal or with `-q`; the lines' text is built by pure functions, so it is tested.

use std::time::{Duration, Instant};

use hil::runner::{BoardSummary, ResumePoint, RunEvent, RunSummary};
use hil::scenario::{PhaseLength, Scenario};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The whole run's line: `done`/`total` cycles (the total is unknown when a phase is timed), failures,
/// wall time so far and the time left at this session's pace (`rate_done` cycles decided since it began).
pub fn overall_line(
    done: u64,
    total: Option<u64>,
    failures: u64,
    elapsed: Duration,
    rate_done: u64,
) -> String {
    let elapsed_text = clock(elapsed);
    let Some(total) = total.filter(|t| *t > 0) else {
        return format!("{done} cycles  failed {failures}  elapsed {elapsed_text}");
    };
    let percent = 100.0 * done.min(total) as f64 / total as f64;
    let eta = match rate_done {
        0 => "--:--:--".to_string(),
        n => clock(elapsed.mul_f64(total.saturating_sub(done) as f64 / n as f64)),
    };
    let width = total.to_string().len();
    format!(
        "{done:>width$}/{total} cycles  {percent:5.1}%  failed {failures}  elapsed {elapsed_text}  ETA {eta}"
    )
}

/// One board's line.
pub fn board_line(b: &BoardSummary) -> String {
    let state = b
        .stopped
        .as_deref()
        .map(|r| format!("stopped: {r}"))
        .unwrap_or_else(|| b.step.clone());
    format!(
        "{:<10} cycle {:>5}  done {:>5}  failed {:>4}  {state}",
        b.phase, b.cycle, b.cycles, b.failures
    )
}

/// H:MM:SS.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Every cycle the scenario asks of its boards, when every phase is counted in cycles.
pub fn total_cycles(scenario: &Scenario) -> Option<u64> {
    let per_board = scenario
        .phases
        .iter()
        .try_fold(0u64, |sum, p| match p.length {
            PhaseLength::Cycles(n) => Some(sum + n),
            PhaseLength::Duration(_) => None,
        })?;
    Some(per_board * scenario.boards.len() as u64)
}

/// The overall line and one line per board on a terminal; hidden otherwise.
pub struct Progress {
    overall: ProgressBar,
    bars: Vec<ProgressBar>,
    multi: MultiProgress,
    summary: RunSummary,
    total: Option<u64>,
    started: Instant,
    done_at_start: u64,
}

impl Progress {
    pub fn new(boards: &[String], total: Option<u64>, resume: &ResumePoint, show: bool) -> Self {
        let target = if show {
            ProgressDrawTarget::stderr_with_hz(10)
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let style = ProgressStyle::with_template("{prefix:>12} {msg}").expect("static template");
        let width = boards.iter().map(String::len).max().unwrap_or(0);
        let line = |name: &str| {
            multi.add(
                ProgressBar::new_spinner()
                    .with_style(style.clone())
                    .with_prefix(format!("{name:width$}")),
            )
        };
        let overall = line("all");
        let bars = boards.iter().map(|b| line(b)).collect();
        let mut summary = RunSummary::new(boards);
        summary.continue_from(resume);
        let mut p = Self {
            overall,
            bars,
            multi,
            done_at_start: summary.cycles(),
            summary,
            total,
            started: Instant::now(),
        };
        p.draw_overall();
        p
    }

    pub fn event(&mut self, e: &RunEvent) {
        let board = match e {
            RunEvent::StepStarted { board, .. }
            | RunEvent::Cycle { board, .. }
            | RunEvent::BoardStopped { board, .. } => Some(*board),
            _ => None,
        };
        self.summary.absorb(e);
        if let (Some(i), Some(bar)) = (board, board.and_then(|i| self.bars.get(i))) {
            bar.set_message(board_line(&self.summary.boards[i]));
        }
        if matches!(e, RunEvent::Cycle { .. }) {
            self.draw_overall();
        }
    }

    fn draw_overall(&mut self) {
        let done = self.summary.cycles();
        self.overall.set_message(overall_line(
            done,
            self.total,
            self.summary.failures(),
            self.started.elapsed(),
            done - self.done_at_start,
        ));
    }

    pub fn finish(&self) {
        self.overall.finish_and_clear();
        self.bars.iter().for_each(ProgressBar::finish_and_clear);
        let _ = self.multi.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::overall_line;
    use rstest::rstest;
    use std::time::Duration;

    #[rstest]
    #[case::halfway(
        100,
        Some(200),
        3,
        90,
        100,
        "100/200 cycles   50.0%  failed 3  elapsed 0:01:30  ETA 0:01:30"
    )]
    #[case::resumed_pace(
        150,
        Some(200),
        0,
        60,
        50,
        "150/200 cycles   75.0%  failed 0  elapsed 0:01:00  ETA 0:01:00"
    )]
    #[case::nothing_yet(
        0,
        Some(8000),
        0,
        0,
        0,
        "   0/8000 cycles    0.0%  failed 0  elapsed 0:00:00  ETA --:--:--"
    )]
    #[case::hours(
        10,
        Some(1000),
        1,
        3600,
        10,
        "  10/1000 cycles    1.0%  failed 1  elapsed 1:00:00  ETA 99:00:00"
    )]
    #[case::timed_phase(42, None, 2, 61, 42, "42 cycles  failed 2  elapsed 0:01:01")]
    fn the_overall_line(
        #[case] done: u64,
        #[case] total: Option<u64>,
        #[case] failures: u64,
        #[case] elapsed_s: u64,
        #[case] rate_done: u64,
        #[case] want: &str,
    ) {
        let got = overall_line(
            done,
            total,
            failures,
            Duration::from_secs(elapsed_s),
            rate_done,
        );
        assert_eq!(got, want);
    }
}
