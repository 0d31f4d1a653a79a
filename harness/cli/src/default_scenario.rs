//! The scenario `hil soak` runs when given none: `scenarios/quick.toml` here, else in the source tree the
//! binary was built from, else the copy built into the binary, written out as real files (scenario, rig and
//! board files, in the repository's layout) under `hil-quick/`, so the run folder records files that exist.
//! Does not run anything.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// Where the quick scenario lives, relative to the repository (and to `hil-quick/`).
const QUICK: &str = "scenarios/quick.toml";

/// The folder the built-in files are written into, in the working directory.
pub const WRITTEN_DIR: &str = "hil-quick";

/// Set (to anything) to act as if the source tree the binary was built from were gone: for tests.
pub const NO_SOURCE_TREE_ENV: &str = "HIL_NO_SOURCE_TREE";

macro_rules! embedded {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../../", $path)))),*]
    };
}

/// The quick scenario and every file it reads, as the repository holds them.
const FILES: &[(&str, &str)] = embedded!(
    "scenarios/quick.toml",
    "fixtures/rigs/virtual-bench.toml",
    "fixtures/boards/bench-01.toml",
    "fixtures/boards/bench-02.toml",
    "fixtures/boards/bench-03.toml",
    "fixtures/boards/bench-04.toml",
    "fixtures/boards/bench-05.toml",
    "fixtures/boards/bench-06.toml",
    "fixtures/boards/bench-07.toml",
    "fixtures/boards/bench-08.toml",
    "fixtures/boards/bench-09.toml",
    "fixtures/boards/bench-10.toml",
);

/// The default scenario's path, writing the built-in files first when neither copy on disk is there
/// (and saying so on `note`). Files already under `hil-quick/` are kept as they are: they may be edited,
/// and a resumed run needs them unchanged.
pub fn locate(note: &mut dyn Write) -> anyhow::Result<PathBuf> {
    let here = PathBuf::from(QUICK);
    if here.exists() {
        return Ok(here);
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(QUICK);
    if std::env::var_os(NO_SOURCE_TREE_ENV).is_none() && built.exists() {
        return Ok(built);
    }
    let dir = Path::new(WRITTEN_DIR);
    let written = write_missing(dir)?;
    if written > 0 {
        writeln!(
            note,
            "No {QUICK} here or in the source tree: wrote the built-in quick scenario, rig and board files \
             ({written} files) to {}/",
            dir.display()
        )?;
    }
    writeln!(note, "Scenario: {}", dir.join(QUICK).display())?;
    Ok(dir.join(QUICK))
}

/// Write each built-in file that `dir` does not hold yet; returns how many were written.
fn write_missing(dir: &Path) -> anyhow::Result<usize> {
    let mut written = 0;
    for (path, text) in FILES {
        let to = dir.join(path);
        if to.exists() {
            continue;
        }
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&to, text).with_context(|| format!("writing {}", to.display()))?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::FILES;

    #[test]
    fn every_board_file_of_the_rig_is_built_in() {
        let rig = FILES[1].1;
        for line in rig.lines().filter(|l| l.starts_with("board_file")) {
            let name = line.split('"').nth(1).expect("a quoted path");
            let path = name.replace("../", "fixtures/");
            assert!(FILES.iter().any(|(p, _)| *p == path), "{path} not built in");
        }
    }
}
