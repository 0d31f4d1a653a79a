//! Where a killed run stopped, from its records alone: per board and phase, the cycles finished, the time
//! spent and the next attempt of an unfinished cycle; per board, where its virtual clock had got to. Step
//! rows of a cycle attempt that never finished are dropped, so the resumed attempt is recorded once.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use super::{PhaseProgress, ProgressMap};
use crate::records::{read_rows, CycleRow, RecordError, StepRow, CYCLES_CSV, STEPS_CSV};

/// A run's position, for `--resume`; [`ResumePoint::default`] is a new run.
#[derive(Debug, Default)]
pub struct ResumePoint {
    progress: ProgressMap,
    offsets: HashMap<String, Duration>,
    rows: Vec<CycleRow>,
}

impl ResumePoint {
    /// The position after `rows` (cycles.csv, in file order).
    pub fn from_rows(rows: Vec<CycleRow>) -> Self {
        let mut progress: ProgressMap = HashMap::new();
        let mut offsets: HashMap<String, Duration> = HashMap::new();
        for r in &rows {
            let p = progress
                .entry((r.board.clone(), r.phase.clone()))
                .or_default();
            let took = Duration::from_secs_f64(r.elapsed_ms.max(0.0) / 1e3);
            p.elapsed += took;
            if r.final_attempt {
                p.cycles_done = p.cycles_done.max(r.cycle);
                p.next_attempt = 1;
            } else {
                p.next_attempt = r.attempt + 1;
            }
            let end = Duration::from_secs_f64(r.time_s.max(0.0)) + took;
            let o = offsets.entry(r.board.clone()).or_default();
            *o = (*o).max(end);
        }
        Self {
            progress,
            offsets,
            rows,
        }
    }

    /// Where `board` is in `phase`.
    pub fn progress(&self, board: &str, phase: &str) -> PhaseProgress {
        self.progress
            .get(&(board.to_string(), phase.to_string()))
            .copied()
            .unwrap_or_default()
    }

    /// Where `board`'s clock had got to (virtual boards continue from there).
    pub fn clock_offset(&self, board: &str) -> Duration {
        self.offsets.get(board).copied().unwrap_or_default()
    }

    /// Cycles already recorded, with the index of their board in `names`.
    pub fn rows<'a>(
        &'a self,
        names: &'a [String],
    ) -> impl Iterator<Item = (usize, &'a CycleRow)> + 'a {
        self.rows
            .iter()
            .filter_map(|r| Some((names.iter().position(|n| *n == r.board)?, r)))
    }
}

/// Read the run folder `dir` and drop its unfinished step rows (rewriting steps.csv atomically).
pub fn resume_point(dir: &Path) -> Result<ResumePoint, RecordError> {
    let cycles: Vec<CycleRow> = read_rows(&dir.join(CYCLES_CSV))?;
    let steps_path = dir.join(STEPS_CSV);
    let steps: Vec<StepRow> = read_rows(&steps_path)?;
    let key = |b: &str, p: &str, c: u64, a: u32| (b.to_string(), p.to_string(), c, a);
    let done: std::collections::HashSet<_> = cycles
        .iter()
        .map(|r| key(&r.board, &r.phase, r.cycle, r.attempt))
        .collect();
    let kept: Vec<&StepRow> = steps
        .iter()
        .filter(|s| done.contains(&key(&s.board, &s.phase, s.cycle, s.attempt)))
        .collect();
    if kept.len() != steps.len() {
        rewrite(&steps_path, &kept)?;
    }
    Ok(ResumePoint::from_rows(cycles))
}

fn rewrite(path: &Path, rows: &[&StepRow]) -> Result<(), RecordError> {
    let tmp = path.with_extension("csv.tmp");
    let csv_err = |source| RecordError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::Writer::from_path(&tmp).map_err(csv_err)?;
    for r in rows {
        w.serialize(r).map_err(csv_err)?;
    }
    w.flush().map_err(|source| RecordError::Io {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, path).map_err(|source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    })
}
