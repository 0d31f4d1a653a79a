//! The soak runner: every board of the scenario in parallel (one worker thread per board), phase by phase,
//! cycle by cycle, step by step. Workers emit [`RunEvent`]s; the caller's sink records and displays them
//! (the runner itself writes no file). A failing board is data: the others go on. Only harness faults —
//! a bad scenario, an image that cannot be prepared, a sink that cannot write — end the run with `Err`.

mod board;
mod events;
mod exec_step;
mod failure;
mod resume;
mod run;
mod summary;
mod worker;

use std::collections::HashMap;

pub use events::{CycleFacts, PhaseProgress, RunError, RunEvent, StopSignal};
pub use exec_step::EXEC_DIR;
pub use failure::{chain, op_kind, StepError};
pub use resume::{resume_point, ResumePoint};
pub use run::{run, PrepareBoard};
pub use summary::{BoardSummary, RunSummary};

/// Progress lookup, keyed by board and phase name.
type ProgressMap = HashMap<(String, String), PhaseProgress>;
