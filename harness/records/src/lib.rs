//! The soak's records: the run folder, its manifest (with the pass thresholds the run is judged by), and
//! cycles.csv / steps.csv as typed rows, written one flushed row at a time and read back by one streaming
//! reader that resume and the report share. Knows no USB, probe, serial port or scenario file; decides
//! nothing about a run except, through [`judge`], whether it met its thresholds.

mod decode;
mod error;
mod folder;
mod manifest;
mod pass;
mod reader;
mod schema;
mod tail;
mod vocab;
mod writer;

pub use csv::ByteRecord;
pub use decode::{FieldError, Record};
pub use error::RecordError;
pub use folder::{
    create_run_dir, is_staging, name_of, stamp, CYCLES_CSV, MANIFEST_JSON, RIG_COPY, SCENARIO_COPY,
    STAGING_PREFIX, STEPS_CSV,
};
pub use manifest::{Instrument, Manifest, RunStatus, MANIFEST_SCHEMA};
pub use pass::{judge, Counts, Judgement, ThresholdCheck, Thresholds};
pub use reader::{chunks, for_each, read_all, Chunk, Rows};
pub use schema::{CycleRow, StepRow, TryKey, CYCLE_COLUMNS, SCHEMA_VERSION, STEP_COLUMNS};
pub use tail::complete_len;
pub use vocab::{ErrorClass, ErrorKind, HseVerdict, OptionBytesCheck, Outcome, SerialMatch};
pub use writer::{retain, Recorder};
