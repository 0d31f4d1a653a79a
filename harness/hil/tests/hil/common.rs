//! What the hil test files share: scratch folders, and a finished run cut short as a kill would leave it.

use std::path::{Path, PathBuf};

use hil::runner::StopSignal;
use hil::soak::Soak;
use records::{read_all, CycleRow, StepRow, CYCLES_CSV, STEPS_CSV};

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

/// A copy of the finished run `run` whose cycles.csv keeps only its first `keep` rows (steps.csv is kept
/// whole, so it holds the step rows of attempts the cut cycles.csv never finished; exec/ too, so the tools'
/// files of those attempts are there, as a kill leaves them), resumed to the end. Returns the resumed run's
/// folder.
pub fn cut_and_resume(run: &Path, keep: usize) -> PathBuf {
    let copy = scratch("resumed").join(run.file_name().unwrap());
    copy_tree(run, &copy);
    let text = std::fs::read_to_string(run.join(CYCLES_CSV)).unwrap();
    let cut: String = text
        .lines()
        .take(keep + 1)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(copy.join(CYCLES_CSV), cut).unwrap();
    let (dir, _) = Soak::resume(&copy)
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, dest).unwrap();
        }
    }
}

/// A run's cycle and step rows in a stable order with the wall-clock column blanked (workers run in
/// parallel, a resumed run appends): what must be equal between two runs that recorded the same thing.
pub fn records(run: &Path) -> (Vec<CycleRow>, Vec<StepRow>) {
    let mut cycles: Vec<CycleRow> = read_all(&run.join(CYCLES_CSV)).unwrap();
    cycles.sort_by(|a, b| {
        (&a.board, &a.phase, a.cycle, a.attempt).cmp(&(&b.board, &b.phase, b.cycle, b.attempt))
    });
    cycles.iter_mut().for_each(|r| r.started_utc.clear());
    let mut steps: Vec<StepRow> = read_all(&run.join(STEPS_CSV)).unwrap();
    steps.sort_by(|a, b| {
        let key = |s: &StepRow| {
            (
                s.board.clone(),
                s.phase.clone(),
                s.cycle,
                s.attempt,
                s.index,
            )
        };
        (key(a), a.try_number).cmp(&(key(b), b.try_number))
    });
    steps.iter_mut().for_each(|r| r.started_utc.clear());
    (cycles, steps)
}

/// Asserts that two runs recorded the same rows, naming the first row that differs (not the whole file).
pub fn assert_same_records(got: &Path, expected: &Path) {
    let ((gc, gs), (ec, es)) = (records(got), records(expected));
    for (i, (g, e)) in gc.iter().zip(&ec).enumerate() {
        assert_eq!(g, e, "cycles.csv row {i} differs");
    }
    assert_eq!(gc.len(), ec.len(), "cycles.csv rows");
    for (i, (g, e)) in gs.iter().zip(&es).enumerate() {
        assert_eq!(g, e, "steps.csv row {i} differs");
    }
    assert_eq!(gs.len(), es.len(), "steps.csv rows");
}
