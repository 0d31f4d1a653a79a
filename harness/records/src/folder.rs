//! The run folder's layout: the names of the files in it, and a new folder's name
//! (`<prefix>-<YYYYMMDD-HHMMSS>`, with a suffix when that name is taken).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::RecordError;

/// The records.
pub const CYCLES_CSV: &str = "cycles.csv";
pub const STEPS_CSV: &str = "steps.csv";
/// The run's identity, inputs and end state.
pub const MANIFEST_JSON: &str = "manifest.json";
/// Copies of the inputs, as they were when the run started.
pub const SCENARIO_COPY: &str = "scenario.toml";
pub const RIG_COPY: &str = "rig.toml";

/// `YYYYMMDD-HHMMSS` of `t` in UTC.
pub fn stamp(t: SystemTime) -> String {
    let digits: String = humantime::format_rfc3339_seconds(t)
        .to_string()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    format!("{}-{}", &digits[..8], &digits[8..14])
}

/// A new, empty folder `<parent>/<prefix>-<stamp>` (or `…-2`, `…-3` when taken), creating `parent` too.
pub fn create_dir(parent: &Path, prefix: &str) -> Result<PathBuf, RecordError> {
    let base = format!("{prefix}-{}", stamp(SystemTime::now()));
    std::fs::create_dir_all(parent).map_err(RecordError::io(parent))?;
    for n in 1u32.. {
        let dir = parent.join(match n {
            1 => base.clone(),
            n => format!("{base}-{n}"),
        });
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(RecordError::io(&dir)(e)),
        }
    }
    unreachable!("an unbounded range always yields")
}

/// The name of a run folder (its last path component), for people.
pub fn name_of(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_is_date_and_time() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_000_000);
        assert_eq!(stamp(t), "20261118-110640");
    }

    #[test]
    fn taken_names_get_a_suffix() {
        let parent = tempfile::tempdir().unwrap();
        let a = create_dir(parent.path(), "quick").unwrap();
        let b = create_dir(parent.path(), "quick").unwrap();
        assert_ne!(a, b);
        assert!(a.is_dir() && b.is_dir());
    }
}
