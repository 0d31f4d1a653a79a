//! `hil soak`: run a scenario (or resume a run), with live per-board progress on a terminal, a two-stage
//! Ctrl-C, and a summary. Exit codes: 0 thresholds met, 1 thresholds missed, 2 usage or harness error.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use anyhow::Context;
use hil::runner::{RunSummary, StopSignal};
use hil::soak::Soak;

use crate::args::SoakArgs;
use crate::progress::Progress;

pub fn run(args: &SoakArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    // Before the run, not after it: a long soak must not end in a refused baseline.
    for b in &args.baseline {
        crate::report::require_run_folder(b, "baseline ")?;
    }
    let soak = match &args.resume {
        Some(dir) => {
            crate::report::require_run_folder(dir, "")?;
            Soak::resume(dir)?
        }
        None => {
            let scenario = match &args.scenario {
                Some(path) => path.clone(),
                None => crate::default_scenario::locate(&mut std::io::stderr())?,
            };
            Soak::start(&scenario, &args.reports)?
        }
    };
    let thresholds = soak.manifest.thresholds;
    eprintln!("Run folder: {}", soak.dir.display());
    let stop = StopSignal::new();
    install_ctrl_c(stop.clone()).context("installing the Ctrl-C handler")?;
    let show = !args.quiet && std::io::stderr().is_terminal();
    let total = crate::progress::total_cycles(&soak.scenario);
    let mut progress = Progress::new(&soak.manifest.boards, total, &soak.resume, show);
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
    if !s.phases_not_run.is_empty() {
        writeln!(out, "phases not run: {}", s.phases_not_run.join(", "))?;
    }
    Ok(())
}
