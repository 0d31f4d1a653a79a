//! SVG charts embedded inline in report.html: plain numbers in, an SVG `String` out. Pure and deterministic (the same
//! input gives the same bytes, so HTML snapshots are stable); no font files, scripts or network. Must not read CSV
//! rows or compute statistics: the report's statistics hand these functions ready rates and intervals.

mod axes;
mod clocks;
mod draw;
mod figures;
mod style;
#[cfg(test)]
mod tests;
mod trend;

pub use clocks::{pllm_strip, rate_vs_hsi_error, HsiPanel};
pub use figures::{failure_timeline, rate_bars, rate_vs_temperature, usb_error_scatter};
pub use style::{RatePoint, MAX_SCATTER_POINTS, MAX_SERIES};
pub use trend::rate_per_run;
