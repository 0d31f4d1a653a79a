//! The records as a user's tools meet them: rows written by the recorder read back identical, a torn last
//! line is left out and cut before appending, and a damaged or foreign file is refused with its file, line,
//! column and key — never a panic, a hang or a silently wrong number.

use std::path::{Path, PathBuf};

use records::{
    read_all, CycleRow, ErrorClass, ErrorKind, HseVerdict, OptionBytesCheck, Outcome, RecordError,
    Recorder, Rows, SerialMatch, StepRow, CYCLES_CSV, SCHEMA_VERSION, STEPS_CSV,
};
use rstest::rstest;

fn row(board: &str, cycle: u64) -> CycleRow {
    CycleRow {
        schema: SCHEMA_VERSION,
        started_utc: "2026-12-01T00:00:00.000Z".into(),
        time_s: 0.5 * cycle as f64,
        board: board.into(),
        phase: "p".into(),
        cycle,
        attempt: 1,
        final_attempt: true,
        elapsed_ms: 12.5,
        true_hse_hz: 25_000_000,
        ..CycleRow::default()
    }
}

/// A failed cycle with every optional column filled, and text that needs quoting.
fn full_row() -> CycleRow {
    CycleRow {
        temperature_c: Some(35.0),
        outcome: Outcome::Fail,
        failed_step: "read_option_bytes".into(),
        error_kind: Some(ErrorKind::Io),
        error_class: Some(ErrorClass::Board),
        error_detail: "uploading, \"the option bytes\": lost\non two lines".into(),
        usb_serial: "0001007C3136".into(),
        expected_serial: "0001007C3136".into(),
        serial_match: Some(SerialMatch::Match),
        option_bytes_check: Some(OptionBytesCheck::DfuOnly),
        pllm: Some(24),
        detected_hse_hz: Some(24_000_000),
        hse_verdict: Some(HseVerdict::Misdetected),
        hse_error_mhz: Some(-1),
        sysclk_hz: Some(62.5e6),
        usb_clock_hz: Some(50e6),
        usb_clock_error_ppm: Some(41_666.7),
        usb_in_tolerance: Some(false),
        hsitrim: Some(16),
        hsical: Some(0x6E),
        model_hsi_error_ppm: Some(25_000.0),
        ..row("bench-06", 7)
    }
}

fn folder(rows: &[CycleRow]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut rec = Recorder::open(dir.path()).unwrap();
    rows.iter().for_each(|r| rec.cycle(r).unwrap());
    dir
}

fn cycles(dir: &Path) -> PathBuf {
    dir.join(CYCLES_CSV)
}

#[test]
fn every_column_round_trips_and_appending_keeps_one_header() {
    let dir = folder(&[row("a", 1), full_row()]);
    Recorder::open(dir.path())
        .unwrap()
        .cycle(&row("b", 2))
        .unwrap();
    let back: Vec<CycleRow> = read_all(&cycles(dir.path())).unwrap();
    let one_line = CycleRow {
        error_detail: "uploading, \"the option bytes\": lost on two lines".into(),
        ..full_row()
    };
    assert_eq!(back, vec![row("a", 1), one_line, row("b", 2)]);
    assert_eq!(
        text_lines(dir.path()),
        4,
        "one line per row, header included"
    );
    let text = std::fs::read_to_string(cycles(dir.path())).unwrap();
    assert_eq!(text.matches("schema,started_utc").count(), 1);
}

/// A record file appended to or replaced (an editor's save, a tool's rename) behind the recorder's back is not
/// written to again, and the rows already in it stay as they were.
#[rstest]
#[case::appended(false)]
#[case::replaced(true)]
fn a_record_file_changed_behind_the_recorders_back_is_not_written_to(#[case] replace: bool) {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut rec = Recorder::open(dir.path()).unwrap();
    rec.cycle(&row("a", 1)).unwrap();
    let path = cycles(dir.path());
    let before = std::fs::read_to_string(&path).unwrap();
    if replace {
        let copy = dir.path().join("copy.csv");
        std::fs::write(&copy, &before).unwrap();
        std::fs::rename(&copy, &path).unwrap();
    } else {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"junk\n").unwrap();
    }
    let err = rec.cycle(&row("a", 2)).unwrap_err();
    assert!(matches!(err, RecordError::Changed { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("changed by something other than hil"),
        "{err}"
    );
    let after = std::fs::read_to_string(&path).unwrap();
    let foreign = if replace { "" } else { "junk\n" };
    assert_eq!(
        after,
        format!("{before}{foreign}"),
        "nothing of ours after the change"
    );
}

fn text_lines(dir: &Path) -> usize {
    std::fs::read_to_string(cycles(dir))
        .unwrap()
        .lines()
        .count()
}

#[test]
fn steps_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let step = StepRow {
        schema: SCHEMA_VERSION,
        board: "a".into(),
        step: "flash".into(),
        try_number: 2,
        outcome: Outcome::Fail,
        error_kind: Some(ErrorKind::Verify),
        error_class: Some(ErrorClass::Board),
        detail: "mismatch at 0x08000010".into(),
        ..StepRow::default()
    };
    Recorder::open(dir.path()).unwrap().step(&step).unwrap();
    assert_eq!(
        read_all::<StepRow>(&dir.path().join(STEPS_CSV)).unwrap(),
        vec![step]
    );
}

#[test]
fn a_torn_last_line_is_left_out_and_cut_before_appending() {
    let dir = folder(&[row("a", 1)]);
    let path = cycles(dir.path());
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("2,2026-12-01T00:00:00Z,0.5,b,p,2,1,fal");
    std::fs::write(&path, &text).unwrap();
    assert_eq!(read_all::<CycleRow>(&path).unwrap(), vec![row("a", 1)]);
    Recorder::open(dir.path())
        .unwrap()
        .cycle(&row("c", 3))
        .unwrap();
    assert_eq!(
        read_all::<CycleRow>(&path).unwrap(),
        vec![row("a", 1), row("c", 3)]
    );
}

/// Replace the first data row's field `column` (0-based) with `value`.
fn damage(column: usize, value: &str) -> (tempfile::TempDir, RecordError) {
    let dir = folder(&[row("a", 1), row("a", 2)]);
    let path = cycles(dir.path());
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut fields: Vec<&str> = lines[2].split(',').collect();
    fields[column] = value;
    lines[2] = fields.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = read_all::<CycleRow>(&path).unwrap_err();
    (dir, err)
}

#[rstest]
#[case::infinite_time(2, "inf", "time_s", "not a finite number")]
#[case::huge_time(2, "1e400", "time_s", "not a finite number")]
#[case::nan_elapsed(14, "NaN", "elapsed_ms", "not a finite number")]
#[case::huge_elapsed(14, "1e300", "elapsed_ms", "is not a time from 0 to 1e12")]
#[case::negative_time(2, "-1", "time_s", "is not a time from 0 to 1e12")]
#[case::unknown_kind(11, "hse_misdetected", "error_kind", "is not one of timeout")]
#[case::bad_outcome(9, "maybe", "outcome", "is not one of pass, fail")]
#[case::negative_cycle(5, "-3", "cycle", "is not a cycle number")]
fn a_damaged_field_names_file_line_column_and_key(
    #[case] column: usize,
    #[case] value: &str,
    #[case] key: &str,
    #[case] why: &str,
) {
    let (dir, err) = damage(column, value);
    let text = err.to_string();
    let line = std::fs::read_to_string(cycles(dir.path())).unwrap();
    let third = line.lines().nth(2).unwrap();
    let char_column = third
        .split(',')
        .take(column)
        .map(|f| f.len() + 1)
        .sum::<usize>()
        + 1;
    let at = format!("{}:3:{char_column}: {key}: ", cycles(dir.path()).display());
    assert!(text.starts_with(&at), "{text} (wanted {at})");
    assert!(text.contains(why), "{text}");
}

#[test]
fn another_schema_is_refused_with_its_version() {
    let (_, err) = damage(0, "1");
    assert!(
        err.to_string()
            .contains(":3: schema 1, but this hil reads schema 4"),
        "{err}"
    );
}

#[test]
fn a_foreign_header_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(cycles(dir.path()), "board,cycle\na,1\n").unwrap();
    let err = read_all::<CycleRow>(&cycles(dir.path())).unwrap_err();
    assert!(
        err.to_string()
            .contains(":1: the header is not schema 4's: column 1 is \"board\""),
        "{err}"
    );
}

#[test]
fn an_empty_file_has_no_rows() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(cycles(dir.path()), "").unwrap();
    let mut rows = Rows::<CycleRow>::open(&cycles(dir.path())).unwrap();
    assert!(rows.next_row().unwrap().is_none());
}

#[test]
fn unequal_field_counts_name_the_line() {
    let dir = folder(&[row("a", 1)]);
    let path = cycles(dir.path());
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("2,x,1\n");
    std::fs::write(&path, text).unwrap();
    let err = read_all::<CycleRow>(&path).unwrap_err();
    assert!(
        err.to_string().ends_with(&format!("{}:3", path.display())),
        "{err}"
    );
}

#[test]
fn the_header_is_the_serialised_field_order() {
    let mut w = csv::Writer::from_writer(vec![]);
    w.serialize(row("a", 1)).unwrap();
    let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        records::CYCLE_COLUMNS.join(",")
    );
    let mut w = csv::Writer::from_writer(vec![]);
    w.serialize(StepRow::default()).unwrap();
    let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        records::STEP_COLUMNS.join(",")
    );
}
