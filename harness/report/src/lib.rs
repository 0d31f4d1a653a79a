//! The failure report: reads run folders through the records crate only (never the runner's memory, and no
//! USB, probe or serial crate is in this crate's tree), counts, tests every candidate cause, and writes
//! report.html (one self-contained file), summary.json (every number the page shows) and junit.xml (for
//! CI). Pass or fail comes from the thresholds the soak wrote into manifest.json, judged by `records::judge`.

mod aggregate;
mod build;
pub mod charts;
mod diagnosis;
mod drilldown;
mod environment;
mod evidence;
mod format;
mod html;
mod junit;
mod model;
mod runs;
mod sample;
pub mod stats;

pub use build::{build, build_with, Options};
/// The one way the report writes a rate for people ("9.0 %", "0.42 %"), for the CLI's lines too.
pub use diagnosis::wording::rate as rate_text;
pub use diagnosis::{Cause, Diagnosis, Kind, Link, Test};
pub use model::{
    BoardRow, FailedCycle, Report, ReportError, Row, RunBoard, RunBoardFile, RunInfo, TrimRow,
    SUMMARY_SCHEMA,
};

use std::path::Path;

/// File names written by [`write`].
pub const REPORT_HTML: &str = "report.html";
pub const SUMMARY_JSON: &str = "summary.json";
pub const JUNIT_XML: &str = "junit.xml";

/// Write report.html, summary.json and junit.xml into `dir`.
pub fn write(report: &Report, dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(ReportError::io(dir))?;
    let put = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(ReportError::io(&path))
    };
    put(
        SUMMARY_JSON,
        serde_json::to_string_pretty(report).expect("the report serialises"),
    )?;
    put(JUNIT_XML, junit::render(report))?;
    put(REPORT_HTML, html::render(report)?)
}
