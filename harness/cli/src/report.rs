//! `hil report RUN_DIR... [-o DIR] [--baseline RUN_DIR]`: the failure report from run folders' CSV files.
//! Exit codes: 0 the pass thresholds are met, 1 they are missed, 2 usage or harness error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use hil::report::{self, REPORT_HTML};

use crate::args::ReportArgs;

pub fn run(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let out = match (&args.output, args.runs.as_slice()) {
        (Some(dir), _) => dir.clone(),
        (None, [one]) => one.clone(),
        (None, many) => merged_dir(&many[0]),
    };
    let met = write_for(&args.runs, &args.baseline, &out)?;
    Ok(if met {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// reports/merged-<time> beside the first run folder.
fn merged_dir(first: &Path) -> PathBuf {
    let stamp: String = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let parent = first.parent().unwrap_or(Path::new("reports"));
    parent.join(format!("merged-{}-{}", &stamp[..8], &stamp[8..14]))
}

/// Build and write the report of `runs` into `out`, print its headline; true when the thresholds are met.
pub fn write_for(runs: &[PathBuf], baseline: &[PathBuf], out: &Path) -> anyhow::Result<bool> {
    let thresholds = report::thresholds_of(&runs[0]);
    let r = report::build(runs, baseline, thresholds)?;
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
    Ok(r.thresholds_met)
}
