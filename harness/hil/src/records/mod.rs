//! Run records: the run folder, its manifest, and cycles.csv / steps.csv written one flushed row at a time,
//! so a run killed at any moment leaves files that parse with every finished cycle in them. Reading them
//! back (for `--resume` and the report) lives here too. Must not decide anything about the run itself.

mod folder;
mod manifest;
mod schema;

pub use folder::{read_rows, repair_torn_tail, RecordError, Recorder, CYCLES_CSV, STEPS_CSV};
pub use manifest::{Manifest, RunStatus, MANIFEST_JSON};
pub use schema::{CycleRow, StepRow, SCHEMA_VERSION};
