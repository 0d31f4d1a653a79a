//! Property tests of the run folder as `--resume` and `hil report` read it back after a kill, a full disk or a
//! hand edit: one short virtual soak's folder (made once per test binary), its cycles.csv, steps.csv,
//! manifest.json, inputs.json and scenario copy mutated. No input panics; the streaming reader, the resume
//! point, `Soak::resume` and the report each read the folder or refuse it with a typed error naming the file
//! (and the line, for a row).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hil::runner::{resume_point, StopSignal};
use hil::soak::{Soak, SoakError};
use proptest::prelude::*;
use records::{
    read_all, CycleRow, RecordError, Rows, StepRow, CYCLES_CSV, MANIFEST_JSON, SCENARIO_COPY,
    STEPS_CSV,
};
use report::ReportError;

use crate::fuzz_files::check_file_error;
use crate::mutate::{apply, record_edits, Edit};

/// Three boards (one healthy, two that drift into a misdetected HSE), two chamber phases of three cycles,
/// every kind of step that fills a column.
const SCENARIO: &str = r#"
name = "fuzz"
boards = ["bench-01", "bench-05", "bench-06"]
seed = 11
[retry]
cycle_attempts = 1
on = "any"
[pass]
max_failure_rate = 1.0
[[phases]]
name = "cool"
cycles = 3
temperature_c = 22
[[phases]]
name = "hot"
cycles = 3
temperature_c = 34
[[steps]]
kind = "power_cycle"
off_ms = 100
[[steps]]
kind = "wait_enumeration"
[[steps]]
kind = "dfu_connect"
[[steps]]
kind = "read_option_bytes"
[[steps]]
kind = "read_clocks"
[[steps]]
kind = "flash"
image = { generate = 2048, seed = 3 }
verify = true
[[steps]]
kind = "leave"
"#;

/// The finished run folder every case starts from, made once.
fn valid_run() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = crate::common::scratch("fuzz-run");
        let rig = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/rigs/virtual-bench.toml");
        let rig = std::fs::canonicalize(rig).unwrap();
        let scenario = dir.join("scenario.toml");
        std::fs::write(
            &scenario,
            format!("rig = {:?}\n{SCENARIO}", rig.display().to_string()),
        )
        .unwrap();
        let (run, _) = Soak::start(&scenario, &dir.join("reports"))
            .unwrap()
            .run(&StopSignal::new(), |_| {})
            .unwrap();
        run
    })
}

/// The files a case may mutate, and the separator of a key from its value in each.
const FILES: [(&str, u8); 5] = [
    (CYCLES_CSV, b','),
    (STEPS_CSV, b','),
    (MANIFEST_JSON, b':'),
    (hil::inputs::INPUTS_JSON, b':'),
    (SCENARIO_COPY, b'='),
];

/// Mutations of one to three of the folder's files (most often the records).
fn folder_edits() -> impl Strategy<Value = Vec<(usize, Vec<Edit>)>> {
    let file = prop_oneof![4 => 0..2usize, 1 => 2..FILES.len()];
    prop::collection::vec((file, record_edits()), 1..4)
}

/// A copy of the valid run in a new temporary folder, with `edits` applied.
fn mutated_copy(edits: &[(usize, Vec<Edit>)]) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(valid_run()).unwrap() {
        let from = entry.unwrap().path();
        std::fs::copy(&from, copy.path().join(from.file_name().unwrap())).unwrap();
    }
    for (file, edits) in edits {
        let (name, separator) = FILES[*file];
        let path = copy.path().join(name);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, apply(&bytes, edits, separator)).unwrap();
    }
    copy
}

/// A copy of `from` (a run folder) in a new temporary folder.
fn copy_of(from: &Path) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let from = entry.unwrap().path();
        if from.is_file() {
            std::fs::copy(&from, copy.path().join(from.file_name().unwrap())).unwrap();
        }
    }
    copy
}

fn lines_of(path: &Path) -> u64 {
    std::fs::read(path).map_or(0, |b| b.split(|&c| c == b'\n').count() as u64)
}

/// `err` names a file of the run folder `dir` first and, for a row, a line of that file (and a column).
fn check_record_error(err: &RecordError, dir: &Path) -> Result<(), TestCaseError> {
    let shown = err.to_string();
    let chain = dfuse::error_chain(err);
    let (path, line) = match err {
        RecordError::Io { path, .. }
        | RecordError::Json { path, .. }
        | RecordError::Changed { path, .. } => (path, None),
        RecordError::Csv { path, line, .. } | RecordError::Schema { path, line, .. } => {
            (path, Some(*line))
        }
        RecordError::Field {
            path, line, column, ..
        } => {
            prop_assert!(*column >= 1, "column {column}: {chain}");
            (path, Some(*line))
        }
    };
    prop_assert!(path.starts_with(dir), "not a file of the folder: {chain}");
    prop_assert!(
        shown.starts_with(&path.display().to_string()),
        "the file is not named first: {chain}"
    );
    if let Some(line) = line {
        prop_assert!(
            shown.starts_with(&format!("{}:{line}", path.display())),
            "{chain}"
        );
        let lines = lines_of(path);
        prop_assert!(
            line >= 1 && line <= lines,
            "line {line} of {lines}: {chain}"
        );
    }
    Ok(())
}

/// Every row of `path` through the streaming reader, whole and by chunks; a refusal is checked.
fn read<T: records::Record + Clone>(path: &Path, dir: &Path) -> Result<(), TestCaseError> {
    let whole = read_all::<T>(path);
    if let Err(e) = &whole {
        check_record_error(e, dir)?;
    }
    let by_chunks = records::chunks(path, 2).and_then(|chunks| {
        let mut n = 0;
        for chunk in &chunks {
            let mut rows = Rows::<T>::open_chunk(path, chunk)?;
            while rows.next_row()?.is_some() {
                n += 1;
            }
        }
        Ok(n)
    });
    match (&whole, &by_chunks) {
        (Ok(rows), Ok(n)) => prop_assert_eq!(rows.len(), *n, "chunks read other rows"),
        (_, Err(e)) => check_record_error(e, dir)?,
        (Err(_), Ok(_)) => prop_assert!(false, "the chunks read a file the reader refused"),
    }
    Ok(())
}

fn check_soak_error(err: &SoakError, dir: &Path) -> Result<(), TestCaseError> {
    let chain = dfuse::error_chain(err);
    match err {
        SoakError::Record(e) => check_record_error(e, dir),
        SoakError::Scenario(e) => {
            let path = match e {
                tomlfile::FileError::Io { origin, .. }
                | tomlfile::FileError::Parse { origin, .. }
                | tomlfile::FileError::Invalid { origin, .. }
                | tomlfile::FileError::Referenced { origin, .. } => PathBuf::from(origin),
            };
            let text = std::fs::read(&path).unwrap_or_default();
            check_file_error(e, &path, &text)
        }
        SoakError::Resume { dir: named, .. } => {
            prop_assert_eq!(named, dir, "{}", chain);
            Ok(())
        }
        SoakError::Io { path, .. } => {
            prop_assert!(
                err.to_string().starts_with(&path.display().to_string()),
                "{}",
                chain
            );
            Ok(())
        }
        SoakError::Run(_) => Err(TestCaseError::fail(format!(
            "resuming refused with a run error: {chain}"
        ))),
    }
}

fn check_report_error(err: &ReportError, dir: &Path) -> Result<(), TestCaseError> {
    let chain = dfuse::error_chain(err);
    match err {
        ReportError::Records(e) => check_record_error(e, dir),
        ReportError::Io { path, .. } => {
            prop_assert!(
                err.to_string().starts_with(&path.display().to_string()),
                "{}",
                chain
            );
            Ok(())
        }
        ReportError::Duplicate(_) | ReportError::Template(_) => Err(TestCaseError::fail(format!(
            "the report of one damaged folder failed without naming a file: {chain}"
        ))),
    }
}

#[test]
fn the_valid_run_folder_is_read_resumed_and_reported() {
    let dir = copy_of(valid_run());
    assert!(!read_all::<CycleRow>(&dir.path().join(CYCLES_CSV))
        .unwrap()
        .is_empty());
    assert!(!read_all::<StepRow>(&dir.path().join(STEPS_CSV))
        .unwrap()
        .is_empty());
    let out = tempfile::tempdir().unwrap();
    report::write(
        &report::build(&[dir.path().to_path_buf()], &[]).unwrap(),
        out.path(),
    )
    .unwrap();
    resume_point(dir.path(), &[]).unwrap();
    Soak::resume(dir.path()).unwrap();
}

/// The folder's record file `name` with the fields `cells` (row, column, value; rows after the header, each
/// index modulo the count) set, as a CSV writer quotes them: every row still has its columns.
fn set_cells(dir: &Path, name: &str, cells: &[(usize, usize, String)]) {
    let path = dir.join(name);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(&path)
        .unwrap();
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    for (row, column, value) in cells {
        let row = 1 + row % (rows.len() - 1);
        let column = column % rows[row].len();
        rows[row][column] = value.clone();
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    rows.iter().for_each(|r| writer.write_record(r).unwrap());
    std::fs::write(&path, writer.into_inner().unwrap()).unwrap();
}

/// `column` of every row of the folder's cycles.csv set to `value`.
fn set_cycle_column(dir: &Path, column: &str, value: &str) {
    let at = records::CYCLE_COLUMNS
        .iter()
        .position(|c| *c == column)
        .unwrap();
    let rows = read_all::<CycleRow>(&dir.join(CYCLES_CSV)).unwrap().len();
    let cells: Vec<_> = (0..rows).map(|r| (r, at, value.to_string())).collect();
    set_cells(dir, CYCLES_CSV, &cells);
}

/// A numeric column of cycles.csv and a value of its type that no soak writes: the edges of each integer
/// type, and finite floats from the smallest to the largest.
fn extreme_cell() -> impl Strategy<Value = (&'static str, String)> {
    let float = prop_oneof![
        prop::sample::select(vec![f64::MAX, f64::MIN, 1e300, -1e300, 5e-324, -0.0, 0.0]),
        any::<f64>().prop_filter("finite", |x| x.is_finite()),
    ];
    prop_oneof![
        (
            prop::sample::select(vec![
                "time_s",
                "temperature_c",
                "elapsed_ms",
                "sysclk_hz",
                "sysclk_measured_hz",
                "sysclk_measured_uncertainty_hz",
                "usb_clock_hz",
                "usb_clock_error_ppm",
                "hsi_measured_error_ppm",
                "model_hsi_error_ppm",
            ]),
            float.prop_map(|x| format!("{x:e}")),
        ),
        (
            Just("cycle"),
            prop_oneof![Just(u64::MAX), Just(0), any::<u64>()].prop_map(|n| n.to_string())
        ),
        (
            prop::sample::select(vec![
                "attempt",
                "step_retries",
                "detected_hse_hz",
                "true_hse_hz"
            ]),
            prop_oneof![Just(u32::MAX), Just(0), any::<u32>()].prop_map(|n| n.to_string()),
        ),
        (
            prop::sample::select(vec!["pllm", "hsitrim", "hsical"]),
            any::<u8>().prop_map(|n| n.to_string()),
        ),
        (
            Just("hse_error_mhz"),
            prop_oneof![Just(i32::MIN), Just(i32::MAX), any::<i32>()].prop_map(|n| n.to_string()),
        ),
    ]
}

#[test]
fn a_measured_hsi_error_too_large_for_any_bin_is_reported() {
    // Found by the report property test: a hand-edited (or corrupted) HSI error of 1e300 ppm overflowed the
    // histogram bin's i64 and panicked a report reader thread.
    let dir = copy_of(valid_run());
    set_cycle_column(dir.path(), "hsi_measured_error_ppm", "1e300");
    let out = tempfile::tempdir().unwrap();
    let r = report::build(&[dir.path().to_path_buf()], &[]).unwrap();
    report::write(&r, out.path()).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn mutated_records_are_read_or_refused_with_file_and_line(edits in folder_edits()) {
        let dir = mutated_copy(&edits);
        read::<CycleRow>(&dir.path().join(CYCLES_CSV), dir.path())?;
        read::<StepRow>(&dir.path().join(STEPS_CSV), dir.path())?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mutated_run_folders_resume_or_are_refused_with_a_typed_error(edits in folder_edits()) {
        let dir = mutated_copy(&edits);
        let untouched = copy_of(dir.path());
        if let Err(e) = resume_point(dir.path(), &[]) {
            check_record_error(&e, dir.path())?;
        }
        if let Err(e) = Soak::resume(untouched.path()) {
            check_soak_error(&e, untouched.path())?;
        }
    }

    #[test]
    fn mutated_run_folders_are_reported_or_refused_with_a_typed_error(edits in folder_edits()) {
        let dir = mutated_copy(&edits);
        let out = tempfile::tempdir().unwrap();
        match report::build(&[dir.path().to_path_buf()], &[]) {
            Ok(r) => {
                if let Err(e) = report::write(&r, out.path()) {
                    check_report_error(&e, dir.path())?;
                }
            }
            Err(e) => check_report_error(&e, dir.path())?,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Rows with numbers no soak writes, of each column's type: the reader refuses those out of its range,
    /// and the report and the resume point do their arithmetic on the rest without overflowing.
    #[test]
    fn rows_with_extreme_numbers_are_reported_and_resumed(
        cells in prop::collection::vec((any::<usize>(), extreme_cell()), 1..12),
    ) {
        let dir = copy_of(valid_run());
        let column = |name: &str| records::CYCLE_COLUMNS.iter().position(|c| *c == name).unwrap();
        let cells: Vec<_> = cells.into_iter().map(|(row, (name, value))| (row, column(name), value)).collect();
        set_cells(dir.path(), CYCLES_CSV, &cells);
        let out = tempfile::tempdir().unwrap();
        match report::build(&[dir.path().to_path_buf()], &[]) {
            Ok(r) => {
                if let Err(e) = report::write(&r, out.path()) {
                    check_report_error(&e, dir.path())?;
                }
            }
            Err(e) => check_report_error(&e, dir.path())?,
        }
        if let Err(e) = resume_point(dir.path(), &[]) {
            check_record_error(&e, dir.path())?;
        }
    }
}
