//! manifest.json: what ran, where, with which inputs, seed and pass thresholds, and how it ended. Rewritten
//! whole (a temporary file and a rename, so it is never half-written) at the start and at the end of a run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::RecordError;
use crate::folder::MANIFEST_JSON;
use crate::pass::Thresholds;

/// Version of manifest.json's layout. 2: the resolved pass thresholds and the USB tolerance.
pub const MANIFEST_SCHEMA: u32 = 2;

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

impl RunStatus {
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Stopped => "stopped",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// The run's identity, inputs and end state.
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
    /// The thresholds the run is judged by, defaults resolved when it started.
    pub thresholds: Thresholds,
    /// USB full speed's clock tolerance from the target description, ppm: what "in tolerance" means.
    pub usb_tolerance_ppm: f64,
    pub started_utc: String,
    pub ended_utc: Option<String>,
    pub status: RunStatus,
    /// Why a stopped run stopped.
    pub stop_reason: Option<String>,
    /// How many times this run was resumed.
    pub resumed: u32,
    /// The scenario's phases the run never started (it stopped or was interrupted first), in order;
    /// empty for a run that ran them all, and in folders written before this field.
    #[serde(default)]
    pub phases_not_run: Vec<String>,
    /// Each SCPI instrument of the rig as it named itself (`*IDN?`) when the rig opened; an instrument swapped
    /// between a run and its resume is listed with both answers. Empty for rigs without one, and in folders
    /// written before this field.
    #[serde(default)]
    pub instruments: Vec<Instrument>,
}

/// A SCPI instrument of the rig, as it answered `*IDN?`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    /// The rig file's name for it (its controller, or `chamber`).
    pub name: String,
    /// Its port: a serial device or `tcp:HOST:PORT`.
    pub port: String,
    /// Its answer to `*IDN?`: maker, model, serial number, firmware.
    pub idn: String,
}

impl Manifest {
    /// Takes in the instruments the rig found at this start or resume, keeping those already listed.
    pub fn add_instruments(&mut self, found: &[Instrument]) {
        for i in found {
            if !self.instruments.contains(i) {
                self.instruments.push(i.clone());
            }
        }
    }
}

/// Only the version, to refuse another layout with a clear message before reading the rest.
#[derive(Deserialize)]
struct Version {
    schema: u32,
}

impl Manifest {
    /// Write `manifest.json` into `dir` atomically.
    pub fn write(&self, dir: &Path) -> Result<(), RecordError> {
        let path = dir.join(MANIFEST_JSON);
        let tmp = dir.join(".manifest.json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(|source| RecordError::Json {
            path: path.clone(),
            source,
        })?;
        // Ended with a newline, as a text file is (`cat` of it leaves the shell's next line alone).
        std::fs::write(&tmp, text + "\n").map_err(RecordError::io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(RecordError::io(&path))
    }

    /// Read `manifest.json` from `dir`.
    pub fn read(dir: &Path) -> Result<Self, RecordError> {
        let path = dir.join(MANIFEST_JSON);
        let text = std::fs::read_to_string(&path).map_err(RecordError::io(&path))?;
        let json = |source| RecordError::Json {
            path: path.clone(),
            source,
        };
        let version: Version = serde_json::from_str(&text).map_err(json)?;
        if version.schema != MANIFEST_SCHEMA {
            return Err(RecordError::Schema {
                path: path.clone(),
                line: 1,
                message: format!(
                    "manifest schema {}, but this hil reads schema {MANIFEST_SCHEMA} (the folder was written by \
                     {} hil)",
                    version.schema,
                    if version.schema < MANIFEST_SCHEMA { "an older" } else { "a newer" }
                ),
            });
        }
        serde_json::from_str(&text).map_err(json)
    }
}
