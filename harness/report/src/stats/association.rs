//! A candidate cause as a 2x2 table: Fisher's exact test, the odds ratio with Woolf's interval, phi; and a
//! failure rate against a baseline's.

use serde::Serialize;

use super::hypergeometric::Hypergeometric;
use super::proportion::{wilson, z_two_sided, Proportion};
use super::{CONFIDENCE, REGRESSION_ALPHA};

/// A 2x2 table: exposed/unexposed x failed/passed (counts of cycles).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Table2x2 {
    pub exposed_failed: u64,
    pub exposed_passed: u64,
    pub unexposed_failed: u64,
    pub unexposed_passed: u64,
}

impl Table2x2 {
    /// The cells as a, b, c, d (rows exposed, unexposed; columns failed, passed).
    pub(super) fn cells(&self) -> [u64; 4] {
        [
            self.exposed_failed,
            self.exposed_passed,
            self.unexposed_failed,
            self.unexposed_passed,
        ]
    }
}

/// How a factor and failure go together, from one 2x2 table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Association {
    pub table: Table2x2,
    /// Fisher's exact test, two-sided, as R's `fisher.test` defines it: the probability, given the margins,
    /// of all tables no more probable than the observed one (with R's 1e-7 relative tolerance). May underflow
    /// to 0 for overwhelming evidence; use `log10_p` then.
    pub p_value: f64,
    /// log10 of `p_value`, computed in log space: finite even when `p_value` underflows (0 when p = 1).
    pub log10_p: f64,
    /// The sample odds ratio ad/bc (not R's conditional maximum-likelihood estimate): +inf when bc = 0 < ad,
    /// 0 when ad = 0 < bc, NaN when a margin is 0. serde_json writes non-finite numbers as null.
    pub odds_ratio: f64,
    /// 95 % interval of the odds ratio: Woolf's (logit), or the exact conditional one (R's `fisher.test`)
    /// when a cell is 0. Always contains `odds_ratio`; `or_high` is infinite when nothing failed without the
    /// factor, `or_low` 0 when nothing failed with it.
    pub or_low: f64,
    pub or_high: f64,
    /// The phi coefficient (Matthews correlation) of exposure and failure, -1..1: 1 when exactly the exposed
    /// cycles fail. 0 when a margin is 0. Ranks causes by strength, unlike p, which grows with the cycle count.
    pub phi: f64,
    /// Failure rate of the exposed cycles.
    pub exposed_rate: Proportion,
    /// Failure rate of the unexposed cycles.
    pub unexposed_rate: Proportion,
    /// The part of all failures that were exposed, 0..1 (0 when none failed).
    pub share_of_failures: f64,
}

/// Fisher's exact test and the effect sizes of a 2x2 table.
pub fn fisher(table: Table2x2) -> Association {
    let [a, b, c, d] = table.cells();
    let hyper = Hypergeometric::of(&table);
    let ln_p = hyper.ln_two_sided(a);
    // Woolf's interval is the usual one; with a zero cell the sample odds ratio is 0 or infinite and a
    // Haldane-corrected Woolf interval would not contain it, so the exact conditional one is given instead.
    let (or_low, or_high) = if table.cells().contains(&0) {
        hyper.odds_ratio_interval(a, 1.0 - CONFIDENCE)
    } else {
        woolf(&table, z_two_sided(CONFIDENCE))
    };
    Association {
        table,
        p_value: ln_p.exp(),
        log10_p: ln_p / std::f64::consts::LN_10,
        odds_ratio: (a as f64 * d as f64) / (b as f64 * c as f64),
        or_low,
        or_high,
        phi: phi(&table),
        exposed_rate: wilson(a, a + b),
        unexposed_rate: wilson(c, c + d),
        share_of_failures: if a + c == 0 {
            0.0
        } else {
            a as f64 / (a + c) as f64
        },
    }
}

/// The Woolf (logit) interval of the odds ratio; no cell may be 0.
fn woolf(table: &Table2x2, z: f64) -> (f64, f64) {
    let [a, b, c, d] = table.cells().map(|x| x as f64);
    let ln_or = a.ln() + d.ln() - b.ln() - c.ln();
    let se = (1.0 / a + 1.0 / b + 1.0 / c + 1.0 / d).sqrt();
    ((ln_or - z * se).exp(), (ln_or + z * se).exp())
}

fn phi(table: &Table2x2) -> f64 {
    let [a, b, c, d] = table.cells().map(|x| x as f64);
    let margins = (a + b) * (c + d) * (a + c) * (b + d);
    if margins == 0.0 {
        return 0.0;
    }
    ((a * d - b * c) / margins.sqrt()).clamp(-1.0, 1.0)
}

/// A failure rate now against a baseline: a 2x2 of (now, baseline) x (failed, passed).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateComparison {
    pub now: Proportion,
    pub baseline: Proportion,
    /// Fisher's exact test, two-sided (as `Association::p_value`): are the rates different?
    pub p_two_sided: f64,
    /// Fisher's exact test, one-sided (R's `alternative = "greater"`): the chance of at least this many
    /// failures now if both runs had the same failure rate.
    pub p_worse: f64,
    /// `p_worse` < 0.05 and the rate now is above the baseline's.
    pub regression: bool,
}

/// Compare `now_failed` of `now_n` cycles with `base_failed` of `base_n`.
///
/// # Panics
/// If a failure count exceeds its cycle count.
pub fn compare_rates(now_failed: u64, now_n: u64, base_failed: u64, base_n: u64) -> RateComparison {
    let (now, baseline) = (wilson(now_failed, now_n), wilson(base_failed, base_n));
    let table = Table2x2 {
        exposed_failed: now_failed,
        exposed_passed: now_n - now_failed,
        unexposed_failed: base_failed,
        unexposed_passed: base_n - base_failed,
    };
    let hyper = Hypergeometric::of(&table);
    let p_worse = hyper.ln_upper(now_failed).exp();
    RateComparison {
        now,
        baseline,
        p_two_sided: hyper.ln_two_sided(now_failed).exp(),
        p_worse,
        regression: p_worse < REGRESSION_ALPHA && now.rate > baseline.rate,
    }
}
