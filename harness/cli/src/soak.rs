//! `hil soak`: run a scenario (or resume a run), with live per-board progress on a terminal, a two-stage
//! Ctrl-C, and a summary. Exit codes: 0 thresholds met, 1 thresholds missed, 2 usage or harness error.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use anyhow::Context;
use hil::runner::{RunEvent, RunSummary, StopSignal};
use hil::soak::Soak;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::args::SoakArgs;

/// The quick scenario: in the current directory when run from the repository, else where it was built.
fn default_scenario() -> PathBuf {
    let here = PathBuf::from("scenarios/quick.toml");
    if here.exists() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/quick.toml")
}

pub fn run(args: &SoakArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let soak = match &args.resume {
        Some(dir) => Soak::resume(dir)?,
        None => Soak::start(
            &args.scenario.clone().unwrap_or_else(default_scenario),
            &args.reports,
        )?,
    };
    let thresholds = soak.manifest.thresholds;
    eprintln!("Run folder: {}", soak.dir.display());
    let stop = StopSignal::new();
    install_ctrl_c(stop.clone()).context("installing the Ctrl-C handler")?;
    let show = !args.quiet && std::io::stderr().is_terminal();
    let mut progress = Progress::new(&soak.manifest.boards, show);
    let (dir, summary) = soak.run(&stop, |e| progress.event(e))?;
    progress.finish();
    print_summary(out, &summary)?;
    let judgement = summary.judge(&thresholds);
    for m in judgement.missed() {
        writeln!(out, "THRESHOLD MISSED: {}", m.sentence)?;
    }
    writeln!(out, "Records: {}", dir.display())?;
    let options = report::Options {
        fail_on_regression: args.fail_on_regression,
        ..report::Options::default()
    };
    let report = crate::report::write_for(
        out,
        std::slice::from_ref(&dir),
        &args.baseline,
        &dir,
        options,
    )?;
    debug_assert_eq!(report.thresholds_met, judgement.met(), "one judgement");
    Ok(if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// First Ctrl-C: finish the current cycle on every board, record it, write the summary. Second: exit at
/// once (every finished row is already on disk; `hil soak --resume` continues).
fn install_ctrl_c(stop: StopSignal) -> Result<(), ctrlc::Error> {
    let presses = Arc::new(AtomicU32::new(0));
    ctrlc::set_handler(move || {
        if presses.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!("\nStopping after the current cycle (Ctrl-C again to exit now)...");
            stop.request();
        } else {
            eprintln!(
                "\nExiting now; every finished cycle is recorded. Continue with hil soak --resume."
            );
            std::process::exit(130);
        }
    })
}

/// One line per board on a terminal: phase, cycle, failures, current step. Nothing when not a terminal.
struct Progress {
    bars: Vec<ProgressBar>,
    multi: MultiProgress,
    summary: RunSummary,
}

impl Progress {
    fn new(boards: &[String], show: bool) -> Self {
        let target = if show {
            ProgressDrawTarget::stderr_with_hz(10)
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let style = ProgressStyle::with_template("{prefix:>12} {msg}").expect("static template");
        let width = boards.iter().map(String::len).max().unwrap_or(0);
        let bars = boards
            .iter()
            .map(|b| {
                multi.add(
                    ProgressBar::new_spinner()
                        .with_style(style.clone())
                        .with_prefix(format!("{b:width$}")),
                )
            })
            .collect();
        Self {
            bars,
            multi,
            summary: RunSummary::new(boards),
        }
    }

    fn event(&mut self, e: &RunEvent) {
        let board = match e {
            RunEvent::StepStarted { board, .. }
            | RunEvent::Cycle { board, .. }
            | RunEvent::BoardStopped { board, .. } => Some(*board),
            _ => None,
        };
        self.summary.absorb(e);
        if let (Some(i), Some(bar)) = (board, board.and_then(|i| self.bars.get(i))) {
            let b = &self.summary.boards[i];
            let state = b
                .stopped
                .as_deref()
                .map(|r| format!("stopped: {r}"))
                .unwrap_or_else(|| b.step.clone());
            bar.set_message(format!(
                "{:<10} cycle {:>5}  done {:>5}  failed {:>4}  {state}",
                b.phase, b.cycle, b.cycles, b.failures
            ));
        }
    }

    fn finish(&self) {
        self.bars.iter().for_each(ProgressBar::finish_and_clear);
        let _ = self.multi.clear();
    }
}

fn print_summary(out: &mut dyn Write, s: &RunSummary) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<14} {:>8} {:>8} {:>9} {:>8}  note",
        "board", "cycles", "failed", "rate", "infra"
    )?;
    for b in &s.boards {
        let rate = if b.cycles == 0 {
            0.0
        } else {
            100.0 * b.failures as f64 / b.cycles as f64
        };
        writeln!(
            out,
            "{:<14} {:>8} {:>8} {:>8.1}% {:>8}  {}",
            b.name,
            b.cycles,
            b.failures,
            rate,
            b.infrastructure_failures,
            b.stopped.as_deref().unwrap_or("")
        )?;
    }
    writeln!(
        out,
        "{:<14} {:>8} {:>8} {:>8.1}%   status: {:?}{}",
        "all",
        s.cycles(),
        s.failures(),
        100.0 * s.failure_rate(),
        s.status,
        s.stop_reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    )?;
    Ok(())
}
