//! manifest.json: what ran, where, with which inputs and seed, and how it ended. Rewritten whole (via a
//! temporary file and a rename, so it is never half-written) at the start and at the end of a run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::folder::RecordError;

/// File name inside a run folder.
pub const MANIFEST_JSON: &str = "manifest.json";

/// How a run ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still running, or killed: `hil soak --resume` continues it.
    Running,
    /// Every phase ran to its end.
    Finished,
    /// A stop rule ended it early.
    Stopped,
    /// The user interrupted it (Ctrl-C).
    Interrupted,
}

/// The run's identity and inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: u32,
    pub harness_version: String,
    pub scenario: String,
    /// The scenario file as given (absolute); the run folder keeps copies of it and of the rig file.
    pub scenario_file: PathBuf,
    pub rig: String,
    pub rig_file: PathBuf,
    pub boards: Vec<String>,
    pub seed: u64,
    pub host: String,
    pub started_utc: String,
    pub ended_utc: Option<String>,
    pub status: RunStatus,
    /// Why a stopped run stopped.
    pub stop_reason: Option<String>,
    /// How many times this run was resumed.
    pub resumed: u32,
}

impl Manifest {
    /// Write `manifest.json` into `dir` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), RecordError> {
        let path = dir.join(MANIFEST_JSON);
        let tmp = dir.join(".manifest.json.tmp");
        let io = |source| RecordError::Io {
            path: path.clone(),
            source,
        };
        let text = serde_json::to_string_pretty(self).map_err(|e| io(e.into()))?;
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, &path).map_err(io)
    }

    /// Read `manifest.json` from `dir`.
    pub fn read(dir: &Path) -> Result<Self, RecordError> {
        let path = dir.join(MANIFEST_JSON);
        let io = |source| RecordError::Io {
            path: path.clone(),
            source,
        };
        let text = std::fs::read_to_string(&path).map_err(io)?;
        serde_json::from_str(&text).map_err(|e| io(e.into()))
    }
}
