//! `hil report RUN_DIR... [-o DIR] [--baseline RUN_DIR]`: the failure report from run folders' CSV files.
//! Exit codes: 0 the pass thresholds are met, 1 they are missed, 2 usage or harness error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use report::{Report, REPORT_HTML};

use crate::args::ReportArgs;

pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let out = match (&args.output, args.runs.as_slice()) {
        (Some(dir), _) => dir.clone(),
        (None, [one]) => one.clone(),
        (None, many) => merged_dir(&many[0]),
    };
    let r = write_for(&args.runs, &args.baseline, &out)?;
    for t in r.thresholds.iter().filter(|t| !t.met) {
        println!("THRESHOLD MISSED: {}", t.sentence);
    }
    let met = r.thresholds_met;
    Ok(if met {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
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
pub fn write_for(runs: &[PathBuf], baseline: &[PathBuf], out: &Path) -> anyhow::Result<Report> {
    let r = report::build(runs, baseline)?;
    report::write(&r, out)?;
    println!(
        "Report: {} ({} cycles, {} failed, {:.2} % [95 % {:.2}–{:.2} %])",
        out.join(REPORT_HTML).display(),
        r.total.cycles,
        r.total.failures,
        100.0 * r.total.rate.rate,
        100.0 * r.total.rate.low,
        100.0 * r.total.rate.high
    );
    println!("Diagnosis: {}", r.diagnosis);
    if let Some(b) = &r.baseline {
        let verdict = if b.regression {
            "REGRESSION"
        } else {
            "no regression"
        };
        println!(
            "Baseline: {:.2} % now vs {:.2} % before: {verdict} (one-sided p = {:.4})",
            100.0 * b.now.rate,
            100.0 * b.baseline.rate,
            b.p_worse
        );
    }
    Ok(r)
}
