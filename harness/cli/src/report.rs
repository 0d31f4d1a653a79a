//! `hil report RUN_DIR... [-o DIR] [--baseline RUN_DIR [--fail-on-regression]] [--same-boards]`: the failure
//! report from run folders' CSV files. Exit codes: 0 every run met its pass thresholds (and, with
//! `--fail-on-regression`, no regression), 1 not, 2 usage or harness error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use report::{Report, REPORT_HTML};

use crate::args::ReportArgs;

pub fn run(args: &ReportArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    for dir in &args.runs {
        require_run_folder(dir, "")?;
    }
    let dir = match (&args.output, args.runs.as_slice()) {
        (Some(dir), _) => dir.clone(),
        (None, [one]) => one.clone(),
        (None, many) => merged_dir(&many[0]),
    };
    let options = report::Options {
        same_boards: args.same_boards,
        fail_on_regression: args.fail_on_regression,
    };
    let r = write_for(out, &args.runs, &args.baseline, &dir, options)?;
    for t in r.thresholds.iter().filter(|t| !t.met) {
        writeln!(out, "THRESHOLD MISSED: {}", t.sentence)?;
    }
    Ok(if r.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Refuse a folder that is not a run folder before reading it, saying so in the user's words (`role` is
/// "baseline " for `--baseline`), rather than with the OS error for the first file looked for.
pub fn require_run_folder(dir: &Path, role: &str) -> anyhow::Result<()> {
    if records::is_staging(dir) {
        anyhow::bail!(
            "{role}{} is not a run folder: a soak was killed while creating it, so that run never started \
             and recorded nothing (start the scenario again; this folder can be deleted)",
            dir.display()
        );
    }
    if dir.join(records::MANIFEST_JSON).is_file() {
        return Ok(());
    }
    let empty = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_none());
    let why = if empty {
        "no manifest.json; it is empty, as a soak killed while creating its folder leaves it: such a run never \
         started"
    } else if dir.is_dir() {
        "no manifest.json"
    } else {
        "no such folder"
    };
    anyhow::bail!("{role}{} is not a run folder ({why})", dir.display())
}

/// reports/merged-<time> beside the first run folder.
fn merged_dir(first: &Path) -> PathBuf {
    let parent = first.parent().unwrap_or(Path::new("reports"));
    parent.join(format!(
        "merged-{}",
        records::stamp(std::time::SystemTime::now())
    ))
}

/// Build and write the report of `runs` into `out` and print its headline.
pub fn write_for(
    out: &mut dyn Write,
    runs: &[PathBuf],
    baseline: &[PathBuf],
    dir: &Path,
    options: report::Options,
) -> anyhow::Result<Report> {
    for b in baseline {
        require_run_folder(b, "baseline ")?;
    }
    let r = report::build_with(runs, baseline, options)?;
    report::write(&r, dir)?;
    for w in &r.warnings {
        eprintln!("hil: warning: {w}");
    }
    writeln!(
        out,
        "Report: {} ({} cycles, {} failed, {} [95 % {} – {}])",
        dir.join(REPORT_HTML).display(),
        r.total.cycles,
        r.total.failures,
        report::rate_text(r.total.rate.rate),
        report::rate_text(r.total.rate.low),
        report::rate_text(r.total.rate.high)
    )?;
    writeln!(out, "Diagnosis: {}", r.diagnosis)?;
    if let Some(b) = &r.baseline {
        let verdict = if b.regression {
            "REGRESSION"
        } else {
            "no regression"
        };
        writeln!(
            out,
            "Baseline: {} now vs {} before: {verdict} (one-sided p = {:.4})",
            report::rate_text(b.now.rate),
            report::rate_text(b.baseline.rate),
            b.p_worse
        )?;
        if b.regression && r.fail_on_regression {
            writeln!(out, "REGRESSION: --fail-on-regression fails the report")?;
        }
    }
    Ok(r)
}
