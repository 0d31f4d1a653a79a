//! What several CLI test files need: the in-process soak the guest tests compare against.

use std::path::{Path, PathBuf};
use std::process::Command;

use records::{read_all, CycleRow, CYCLES_CSV};

/// A new, empty folder for one test, under the build's temporary folder: unique even when tests run in
/// parallel or a test runs twice, and kept after the test so a failure can be looked at.
pub fn scratch(name: &str) -> PathBuf {
    let parent = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(&parent).unwrap();
    tempfile::Builder::new()
        .prefix(&format!("{name}-"))
        .tempdir_in(parent)
        .expect("a scratch folder")
        .keep()
}

/// The repository's root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs fixtures/guest/soak/in-process.toml with `hil soak` into `reports` (which must not hold other runs) and
/// returns its cycles.
pub fn in_process_soak(reports: &Path) -> Vec<CycleRow> {
    let o = Command::new(env!("CARGO_BIN_EXE_hil"))
        .arg("soak")
        .arg(root().join("fixtures/guest/soak/in-process.toml"))
        .arg("--reports")
        .arg(reports)
        .arg("-q")
        .output()
        .expect("hil soak runs");
    assert!(
        o.status.success(),
        "in-process soak: {}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    let run = std::fs::read_dir(reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join(CYCLES_CSV).exists())
        .expect("a run folder");
    read_all(&run.join(CYCLES_CSV)).expect("in-process cycles.csv")
}
