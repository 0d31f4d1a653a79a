//! The failure report: statistics and charts (the report itself builds on them).

pub mod charts;
pub mod stats;
