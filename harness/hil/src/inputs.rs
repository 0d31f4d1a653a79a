//! The inputs a run depends on beyond the scenario and rig files the run folder keeps copies of: every board
//! file and every image file, recorded as SHA-256 hashes in `inputs.json` when the run starts, so a resume can
//! refuse, naming the file, when one of them changed since (a resumed run must record what an uninterrupted one
//! would). A hash, not a copy: images can be megabytes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::rig::Wiring;
use crate::scenario::{Action, ImageSource, Scenario};

/// The file in the run folder.
pub const INPUTS_JSON: &str = "inputs.json";

/// One input file and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// What it is, for the message: "board file", "image".
    pub what: String,
    pub path: PathBuf,
    pub sha256: String,
}

/// Every board file and image file of `scenario` (each once), hashed.
pub fn of(scenario: &Scenario) -> std::io::Result<Vec<Input>> {
    let mut files: Vec<(&str, PathBuf)> = Vec::new();
    for board in scenario.boards() {
        if let Wiring::Virtual(v) = &board.wiring {
            files.push(("board file", v.board_file.clone()));
        }
    }
    for step in &scenario.cycle {
        if let Action::Flash {
            image: ImageSource::File(path),
            ..
        } = &step.action
        {
            files.push(("image", path.clone()));
        }
    }
    let mut out: Vec<Input> = Vec::new();
    for (what, path) in files {
        if out.iter().any(|i| i.path == path) {
            continue;
        }
        out.push(Input {
            what: what.into(),
            sha256: hash(&path)?,
            path,
        });
    }
    Ok(out)
}

fn hash(path: &Path) -> std::io::Result<String> {
    let bytes = std::fs::read(path)?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Write `inputs` into the run folder `dir`.
pub fn write(dir: &Path, inputs: &[Input]) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(inputs).expect("inputs serialise");
    std::fs::write(dir.join(INPUTS_JSON), text)
}

/// The first recorded input that changed (or vanished) since, as a sentence; None when all are as recorded.
pub fn changed(dir: &Path) -> Result<Option<String>, String> {
    let path = dir.join(INPUTS_JSON);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{INPUTS_JSON}: {e}"))?;
    let inputs: Vec<Input> =
        serde_json::from_str(&text).map_err(|e| format!("{INPUTS_JSON}: {e}"))?;
    for i in inputs {
        match hash(&i.path) {
            Ok(h) if h == i.sha256 => {}
            Ok(_) => {
                return Ok(Some(format!(
                    "the {} {} changed since the run started",
                    i.what,
                    i.path.display()
                )))
            }
            Err(e) => {
                return Ok(Some(format!(
                    "the {} {} cannot be read: {e}",
                    i.what,
                    i.path.display()
                )))
            }
        }
    }
    Ok(None)
}
