//! The drill-down: the earliest failing cycles (by run, then time on the run's clock, board, cycle and
//! attempt — whatever order the parallel workers wrote them in) and their step rows. Choosing them is a
//! bounded heap over cycles.csv; their steps come from one pass over steps.csv that stops as soon as every
//! chosen cycle's steps are complete, since a board's step rows are written in its own order.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::path::Path;

use records::{CycleRow, RecordError, Rows, StepRow, STEPS_CSV};

/// Failing cycles kept whole for the drill-down.
pub const DRILLDOWN: usize = 50;

/// A failing cycle of run number `run`, ordered by when it happened.
#[derive(Debug, Clone)]
pub struct Kept {
    pub run: usize,
    pub cycle: CycleRow,
}

impl Kept {
    fn key(&self) -> (usize, f64, &str, u64, u32) {
        let c = &self.cycle;
        (self.run, c.time_s, c.board.as_str(), c.cycle, c.attempt)
    }
}

fn order(a: (usize, f64, &str, u64, u32), b: (usize, f64, &str, u64, u32)) -> Ordering {
    a.0.cmp(&b.0)
        .then(a.1.total_cmp(&b.1))
        .then(a.2.cmp(b.2))
        .then(a.3.cmp(&b.3))
        .then(a.4.cmp(&b.4))
}

impl PartialEq for Kept {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Kept {}
impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Kept {
    fn cmp(&self, other: &Self) -> Ordering {
        order(self.key(), other.key())
    }
}

/// The earliest [`DRILLDOWN`] failing cycles seen so far (the latest of them on top of the heap).
#[derive(Debug, Default)]
pub struct Earliest(BinaryHeap<Kept>);

impl Earliest {
    /// Consider the failing cycle `row` of run `run`; clones it only when it is kept.
    pub fn offer(&mut self, run: usize, row: &CycleRow) {
        let key = (run, row.time_s, row.board.as_str(), row.cycle, row.attempt);
        if self.0.len() == DRILLDOWN {
            match self.0.peek() {
                Some(latest) if order(key, latest.key()) == Ordering::Less => {
                    self.0.pop();
                }
                _ => return,
            }
        }
        self.0.push(Kept {
            run,
            cycle: row.clone(),
        });
    }

    /// Keep the earliest of both.
    pub fn absorb(&mut self, other: Earliest) {
        for k in other.0 {
            self.offer(k.run, &k.cycle);
        }
    }

    /// The kept cycles, earliest first.
    pub fn sorted(&self) -> Vec<Kept> {
        self.0.clone().into_sorted_vec()
    }
}

/// (board, phase, cycle, attempt) of a cycle attempt.
type AttemptKey = (String, String, u64, u32);

/// The step rows of `wanted` cycles of one run folder, in file order, each list beside its cycle.
pub fn steps_of(dir: &Path, wanted: &[&CycleRow]) -> Result<Vec<Vec<StepRow>>, RecordError> {
    let mut out = vec![Vec::new(); wanted.len()];
    if wanted.is_empty() {
        return Ok(out);
    }
    let index: HashMap<AttemptKey, usize> = wanted
        .iter()
        .enumerate()
        .map(|(i, c)| ((c.board.clone(), c.phase.clone(), c.cycle, c.attempt), i))
        .collect();
    let cycles: Vec<String> = wanted.iter().map(|c| c.cycle.to_string()).collect();
    // Per board: the wanted attempt whose rows are being read, if any.
    let mut reading: HashMap<String, usize> = HashMap::new();
    let mut done = vec![false; wanted.len()];
    let mut rows = Rows::<StepRow>::open(&dir.join(STEPS_CSV))?;
    while done.iter().any(|d| !d) {
        let watched = &reading;
        let relevant = |r: &records::ByteRecord| {
            // Only rows of a wanted cycle number, or of a board whose wanted attempt is being read, matter.
            let cycle = r.get(5).unwrap_or_default();
            let board = std::str::from_utf8(r.get(3).unwrap_or_default()).unwrap_or("");
            cycles.iter().any(|c| c.as_bytes() == cycle) || watched.contains_key(board)
        };
        let Some(s) = rows.next_row_where(relevant)? else {
            break;
        };
        let hit = index
            .get(&(s.board.clone(), s.phase.clone(), s.cycle, s.attempt))
            .copied();
        match reading.get(&s.board).copied() {
            Some(i) if Some(i) != hit => {
                done[i] = true;
                reading.remove(&s.board);
            }
            _ => {}
        }
        if let Some(i) = hit.filter(|&i| !done[i]) {
            out[i].push(s.clone());
            reading.insert(s.board.clone(), i);
        }
    }
    Ok(out)
}
