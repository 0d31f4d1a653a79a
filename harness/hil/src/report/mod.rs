//! The failure report: reads run folders' CSV files (never the runner's memory, so a report can be rebuilt
//! or merged from several rig hosts), counts, tests every candidate cause, and writes report.html (one
//! self-contained file), summary.json (every number the page shows) and junit.xml (for CI).

pub mod aggregate;
pub mod charts;
pub mod diagnosis;
mod html;
mod junit;
mod model;
pub mod stats;

pub use model::{build, thresholds_of, Report, ReportError, Thresholds};

use std::path::Path;

/// File names written by [`write`].
pub const REPORT_HTML: &str = "report.html";
pub const SUMMARY_JSON: &str = "summary.json";
pub const JUNIT_XML: &str = "junit.xml";

/// Write report.html, summary.json and junit.xml into `dir`.
pub fn write(report: &Report, dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|e| ReportError::io(dir, e))?;
    let put = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| ReportError::io(&path, e))
    };
    put(
        SUMMARY_JSON,
        serde_json::to_string_pretty(report).expect("the report serialises"),
    )?;
    put(JUNIT_XML, junit::render(report))?;
    put(REPORT_HTML, html::render(report)?)
}
