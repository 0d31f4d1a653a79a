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

/// The prefix of a run folder still being filled ([`create_run_dir`]): hidden, and never a run folder. A kill
/// while a run folder is being created leaves one of these behind, which is recognised as never started.
pub const STAGING_PREFIX: &str = ".creating-";

/// Whether `dir` is a run folder that was still being created when its soak was killed (it never started).
pub fn is_staging(dir: &Path) -> bool {
    dir.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(STAGING_PREFIX))
}

/// A new run folder `<parent>/<prefix>-<stamp>` (or `…-2`, `…-3` when taken), creating `parent` too, that
/// appears whole: `fill` writes its files into a hidden staging folder beside it, which is then renamed into
/// place. A kill at any moment leaves either no run folder (perhaps a hidden `.creating-…` folder, which
/// [`is_staging`] recognises) or a complete one, never a half-made folder under the run's name.
pub fn create_run_dir<E: From<RecordError>>(
    parent: &Path,
    prefix: &str,
    fill: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<PathBuf, E> {
    std::fs::create_dir_all(parent).map_err(RecordError::io(parent))?;
    let staging = tempfile::Builder::new()
        .prefix(&format!("{STAGING_PREFIX}{prefix}-"))
        .tempdir_in(parent)
        .map_err(RecordError::io(parent))?;
    fill(staging.path())?;
    let base = format!("{prefix}-{}", stamp(SystemTime::now()));
    for n in 1u32.. {
        let dir = parent.join(match n {
            1 => base.clone(),
            n => format!("{base}-{n}"),
        });
        // Claim the name first (create_dir fails when it is taken, so two soaks never share a folder), then
        // move the filled folder onto the claim: renaming a directory onto an empty one replaces it in one
        // step. A kill between the two leaves an empty folder, which holds no manifest and is not resumable
        // as a run (nothing was recorded, so nothing is lost).
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(RecordError::io(&dir)(e).into()),
        }
        if let Err(e) = std::fs::rename(staging.path(), &dir) {
            let _ = std::fs::remove_dir(&dir);
            return Err(RecordError::io(&dir)(e).into());
        }
        // The staging folder is gone (renamed); forget it instead of letting its guard remove a path that is
        // no longer there.
        let _ = staging.keep();
        return Ok(dir);
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
        let fill = |d: &Path| std::fs::write(d.join("x"), "1").map_err(RecordError::io(d));
        let a = create_run_dir(parent.path(), "quick", fill).unwrap();
        let b = create_run_dir(parent.path(), "quick", fill).unwrap();
        assert_ne!(a, b);
        assert!(a.join("x").is_file() && b.join("x").is_file());
        assert!(!is_staging(&a), "{a:?}");
    }

    #[test]
    fn a_folder_that_failed_to_fill_leaves_nothing_behind() {
        let parent = tempfile::tempdir().unwrap();
        let err = create_run_dir(parent.path(), "quick", |d: &Path| {
            std::fs::write(d.join("half"), "1").unwrap();
            Err(RecordError::io(d)(std::io::Error::other("disk full")))
        })
        .unwrap_err();
        let cause = std::error::Error::source(&err).map(ToString::to_string);
        assert_eq!(cause.as_deref(), Some("disk full"), "{err}");
        assert_eq!(std::fs::read_dir(parent.path()).unwrap().count(), 0);
    }

    #[test]
    fn the_folder_appears_only_when_filled() {
        let parent = tempfile::tempdir().unwrap();
        let p = parent.path().to_path_buf();
        create_run_dir(parent.path(), "quick", |d: &Path| {
            // While it is being filled, the only thing in the reports folder is the hidden staging folder.
            let names: Vec<PathBuf> = std::fs::read_dir(&p)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            assert_eq!(names, [d.to_path_buf()]);
            assert!(is_staging(d), "{d:?}");
            Ok::<_, RecordError>(())
        })
        .unwrap();
    }
}
