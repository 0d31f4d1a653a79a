//! What every part of the diagnosis reads: the aggregate, its evidence, and the sums of the evidence's
//! cells the tests are built from.

use std::collections::BTreeMap;

use crate::aggregate::Aggregate;
use crate::evidence::{BoardEvidence, ClockState, Evidence, Tally};
use crate::stats::{cochran_mantel_haenszel, exact_conditional, Stratified, Table2x2};

/// A contrast within strata: the Mantel–Haenszel odds ratio and excess, and the p-value of the exact
/// conditional test where the counts are small enough, else of the CMH chi-square (good by then). Returns the
/// test's name with it.
pub fn within(strata: &[Table2x2]) -> (Stratified, &'static str) {
    let mut cmh = cochran_mantel_haenszel(strata);
    match exact_conditional(strata) {
        Some((p, log10)) => {
            cmh.p_value = p;
            cmh.log10_p = log10;
            (cmh, "exact conditional test")
        }
        None => (cmh, "Cochran–Mantel–Haenszel"),
    }
}

pub struct Context<'a> {
    pub agg: &'a Aggregate,
    pub ev: &'a Evidence,
    pub tolerance_ppm: f64,
    pub runs: &'a [String],
    /// Interned board indices sorted by board name.
    pub order: Vec<usize>,
    /// (board, clock state) -> cycles, over all temperatures.
    pub board_clock: BTreeMap<(usize, ClockState), Tally>,
    /// Clock state -> cycles, over all boards.
    pub clock: BTreeMap<ClockState, Tally>,
    /// The evidence's cells in a fixed order, so sums of floating-point terms over them are the same on
    /// every run.
    pub cells: BTreeMap<(usize, ClockState, Option<i64>), Tally>,
    pub total: Tally,
}

impl<'a> Context<'a> {
    pub fn new(agg: &'a Aggregate, tolerance_ppm: f64, runs: &'a [String]) -> Self {
        let ev = &agg.evidence;
        let mut board_clock: BTreeMap<(usize, ClockState), Tally> = BTreeMap::new();
        let mut clock: BTreeMap<ClockState, Tally> = BTreeMap::new();
        let mut total = Tally::default();
        for (&(b, c, _), t) in ev.cells() {
            *board_clock.entry((b, c)).or_default() += *t;
            *clock.entry(c).or_default() += *t;
            total += *t;
        }
        Context {
            agg,
            ev,
            tolerance_ppm,
            runs,
            order: agg.board_indices(),
            board_clock,
            clock,
            cells: ev.cells().map(|(k, v)| (*k, *v)).collect(),
            total,
        }
    }

    pub fn name(&self, board: usize) -> &str {
        &self.agg.board_at(board).name
    }

    pub fn board(&self, board: usize) -> &BoardEvidence {
        &self.ev.boards[board]
    }

    /// Names of `boards`, sorted.
    pub fn names(&self, boards: impl IntoIterator<Item = usize>) -> Vec<String> {
        let mut v: Vec<String> = boards
            .into_iter()
            .map(|b| self.name(b).to_string())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// A board's cycles in one clock state.
    pub fn at(&self, board: usize, clock: ClockState) -> Tally {
        self.board_clock
            .get(&(board, clock))
            .copied()
            .unwrap_or_default()
    }

    /// A board's cycles over every clock state.
    pub fn of_board(&self, board: usize) -> Tally {
        let mut t = Tally::default();
        for ((b, _), x) in self.board_clock.range((board, ClockState::Misdetected)..) {
            if *b != board {
                break;
            }
            t += *x;
        }
        t
    }

    /// Whether some board ran at more than one temperature (otherwise temperature is just which board).
    pub fn temperature_varies(&self) -> bool {
        let mut seen: BTreeMap<usize, Option<i64>> = BTreeMap::new();
        for &(b, _, t) in self.cells.keys() {
            let Some(t) = t else { continue };
            match seen.get(&b) {
                Some(Some(prev)) if *prev != t => return true,
                _ => {
                    seen.insert(b, Some(t));
                }
            }
        }
        false
    }
}

/// A 2x2 of board failures among judged cycles (infrastructure failures left out): exposed against the rest.
pub fn table(exposed: Tally, all: Tally) -> Table2x2 {
    let judged = |t: Tally| t.judged();
    let ef = exposed.board_failures;
    let ep = judged(exposed) - ef;
    let af = all.board_failures;
    let ap = judged(all) - af;
    Table2x2 {
        exposed_failed: ef,
        exposed_passed: ep,
        unexposed_failed: af - ef,
        unexposed_passed: ap - ep,
    }
}
