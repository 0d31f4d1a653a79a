//! Property tests of the TOML files a user writes — scenario, rig, board and target description files —
//! loaded by path as `hil` loads them: arbitrary text and bytes, and the shipped files mutated. No input
//! panics, and every rejection is a `FileError` that names the file and, wherever the key it is about is
//! written in the file (or the text is not TOML at all), the line.

use std::path::{Path, PathBuf};

use hil::clocks::{ClockError, TargetDescription};
use hil::rig::Rig;
use hil::scenario::Scenario;
use proptest::prelude::*;
use tomlfile::FileError;
use vboard::BoardConfig;

use crate::mutate::{apply, toml_edits, Edit};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

/// The shipped files, as a user's checkout has them, in a folder of the test's own: scenarios/, and
/// fixtures/{rigs,boards,targets}/, so the relative paths inside them resolve.
struct Bench(tempfile::TempDir);

const FOLDERS: [&str; 4] = [
    "scenarios",
    "fixtures/rigs",
    "fixtures/boards",
    "fixtures/targets",
];

impl Bench {
    fn new() -> Bench {
        let dir = tempfile::tempdir().unwrap();
        for folder in FOLDERS {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
            for entry in std::fs::read_dir(repo(folder)).unwrap() {
                let from = entry.unwrap().path();
                if from.extension().is_some_and(|e| e == "toml") {
                    let to = dir.path().join(folder).join(from.file_name().unwrap());
                    std::fs::copy(&from, to).unwrap();
                }
            }
        }
        Bench(dir)
    }

    fn path(&self, folder: &str, name: &str) -> PathBuf {
        self.0.path().join(folder).join(name)
    }

    /// The shipped `.toml` files of `folder`, sorted.
    fn shipped(folder: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(repo(folder))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        files
    }

    /// Writes `bytes` as `folder/name` and returns its path.
    fn write(&self, folder: &str, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(folder, name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

/// Whether a rejection without a line is one that has none to give: the text is TOML and the key the error
/// is about (its first segment) is not written in it — a missing key — or the error is about no key.
fn has_no_line_to_give(key: &str, text: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(text) else {
        return false;
    };
    let Ok(doc) = toml_edit::ImDocument::parse(text) else {
        return false;
    };
    let top = key.split(['.', '[']).next().unwrap_or("");
    key.is_empty() || !doc.contains_key(top)
}

/// `err` names `path` (and its line, when it has one) first; it has a line wherever one can be given; a
/// file it refers to that failed is checked the same way.
pub fn check_file_error(err: &FileError, path: &Path, text: &[u8]) -> Result<(), TestCaseError> {
    let shown = err.to_string();
    let chain = dfuse::error_chain(err);
    let origin = path.display().to_string();
    let context = || format!("{chain}\n--- {origin}:\n{}", String::from_utf8_lossy(text));
    prop_assert!(
        shown.starts_with(&origin),
        "the file is not named: {}",
        context()
    );
    if matches!(err, FileError::Io { .. }) {
        return Ok(());
    }
    match err.line() {
        Some(line) => {
            prop_assert!(
                shown.starts_with(&format!("{origin}:{line}")),
                "{}",
                context()
            );
            let lines = text.split(|&b| b == b'\n').count();
            prop_assert!(
                line >= 1 && line as usize <= lines,
                "line {line} of {lines}: {}",
                context()
            );
        }
        None => prop_assert!(
            has_no_line_to_give(err.key(), text),
            "no line for key {:?}: {}",
            err.key(),
            context()
        ),
    }
    if let FileError::Referenced { path, source, .. } = err {
        let inner = source.downcast_ref::<FileError>();
        prop_assert!(
            inner.is_some(),
            "a referenced file's error is not a FileError: {}",
            context()
        );
        let text = std::fs::read(path).unwrap_or_default();
        check_file_error(inner.unwrap(), Path::new(path), &text)?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Scenario,
    Rig,
    Board,
    Target,
}

/// Writes `bytes` where a file of `kind` goes in `bench` and loads it by path; checks a rejection.
fn load(bench: &Bench, kind: Kind, bytes: &[u8]) -> Result<(), TestCaseError> {
    let (folder, name) = match kind {
        Kind::Scenario => ("scenarios", "case.toml"),
        Kind::Rig => ("fixtures/rigs", "case.toml"),
        Kind::Board => ("fixtures/boards", "case.toml"),
        Kind::Target => ("fixtures/targets", "case.toml"),
    };
    let path = bench.write(folder, name, bytes);
    let err = match kind {
        Kind::Scenario => Scenario::load(&path).err(),
        Kind::Rig => Rig::load(&path).err(),
        Kind::Board => BoardConfig::load(&path).err(),
        Kind::Target => match TargetDescription::load(&path) {
            Ok(_) => None,
            Err(ClockError::TargetFile(e)) => Some(e),
            Err(other) => {
                return Err(TestCaseError::fail(format!(
                    "a target file's rejection is not a file error: {}",
                    dfuse::error_chain(&other)
                )))
            }
        },
    };
    match err {
        Some(e) => check_file_error(&e, &path, bytes),
        None => Ok(()),
    }
}

fn kind() -> impl Strategy<Value = Kind> {
    prop::sample::select(vec![Kind::Scenario, Kind::Rig, Kind::Board, Kind::Target])
}

/// A shipped file of `folder` (by index, modulo their number) mutated by `edits`.
fn mutated(folder: &str, which: usize, edits: &[Edit]) -> Vec<u8> {
    let files = Bench::shipped(folder);
    let valid = std::fs::read(&files[which % files.len()]).unwrap();
    apply(&valid, edits, b'=')
}

/// Lines of TOML-looking text: headers, keys with values of every type, comments, junk.
fn tomlish() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        "\\[{1,2}[a-z_.\\[\\]0-9\"]{0,16}\\]{0,2}",
        ("[a-z_]{1,12}(\\.[a-z_]{1,8})?", crate::mutate::value())
            .prop_map(|(k, v)| format!("{k} = {v}")),
        "#[ -~]{0,20}",
        "\\PC{0,24}",
    ];
    prop::collection::vec(line, 0..16).prop_map(|lines| lines.join("\n"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn mutated_scenario_files_are_loaded_or_refused_with_file_and_line(which: usize, edits in toml_edits()) {
        let bench = Bench::new();
        load(&bench, Kind::Scenario, &mutated("scenarios", which, &edits))?;
    }

    #[test]
    fn mutated_rig_files_are_loaded_or_refused_with_file_and_line(which: usize, edits in toml_edits()) {
        let bench = Bench::new();
        load(&bench, Kind::Rig, &mutated("fixtures/rigs", which, &edits))?;
    }

    #[test]
    fn mutated_board_files_are_loaded_or_refused_with_file_and_line(which: usize, edits in toml_edits()) {
        let bench = Bench::new();
        let bytes = mutated("fixtures/boards", which, &edits);
        load(&bench, Kind::Board, &bytes)?;
        // The same file named by a virtual rig: its rejection is the rig's, naming both files.
        let rig = "name = \"r\"\n[[boards]]\nname = \"a\"\nhse_hz = 25_000_000\nhse_kind = \"oscillator\"\n\
                   board_file = \"../boards/case.toml\"\n";
        load(&bench, Kind::Rig, rig.as_bytes())?;
    }

    #[test]
    fn mutated_target_files_are_loaded_or_refused_with_file_and_line(edits in toml_edits()) {
        let bench = Bench::new();
        load(&bench, Kind::Target, &mutated("fixtures/targets", 0, &edits))?;
    }

    #[test]
    fn arbitrary_text_is_refused_with_file_and_line(kind in kind(), text in tomlish()) {
        let bench = Bench::new();
        load(&bench, kind, text.as_bytes())?;
    }

    #[test]
    fn arbitrary_bytes_are_refused_with_file_and_line(kind in kind(), bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let bench = Bench::new();
        load(&bench, kind, &bytes)?;
    }
}
