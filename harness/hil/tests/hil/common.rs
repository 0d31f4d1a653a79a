//! What the hil test files share: scratch folders.

use std::path::PathBuf;

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
