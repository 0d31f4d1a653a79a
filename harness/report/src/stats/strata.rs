//! The Cochran–Mantel–Haenszel test: is a candidate associated with failure *within* the strata of a stronger
//! cause (each stratum its own 2x2 table: candidate present or not x failed or passed)? With the pooled
//! Mantel–Haenszel odds ratio. What lets a symptom be explained away by its cause.

use serde::Serialize;

use super::chisq::chi2_1_tail;
use super::Table2x2;

/// The CMH test over strata, with the continuity correction (as statsmodels' `StratifiedTable.test_null_odds`
/// with `correction=True` and R's `mantelhaen.test` by default).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stratified {
    pub statistic: f64,
    pub p_value: f64,
    /// log10 of the p-value, finite when `p_value` underflows to 0.
    pub log10_p: f64,
    /// The Mantel–Haenszel pooled odds ratio (infinite when no stratum has a discordant pair against it).
    pub odds_ratio: f64,
    /// Exposed failures beyond what the strata's margins predict: the direction (> 0: more failures with it).
    pub excess_failures: f64,
}

/// CMH over `strata`; strata of fewer than two cycles carry no information and are left out.
pub fn cochran_mantel_haenszel(strata: &[Table2x2]) -> Stratified {
    let (mut observed, mut expected, mut variance) = (0.0, 0.0, 0.0);
    let (mut or_num, mut or_den) = (0.0, 0.0);
    for t in strata {
        let [a, b, c, d] = t.cells().map(|x| x as f64);
        let n = a + b + c + d;
        if n < 2.0 {
            continue;
        }
        observed += a;
        expected += (a + b) * (a + c) / n;
        variance += (a + b) * (c + d) * (a + c) * (b + d) / (n * n * (n - 1.0));
        or_num += a * d / n;
        or_den += b * c / n;
    }
    let excess = observed - expected;
    let statistic = if variance > 0.0 {
        (excess.abs() - 0.5).max(0.0).powi(2) / variance
    } else {
        0.0
    };
    let (p_value, log10_p) = chi2_1_tail(statistic);
    Stratified {
        statistic,
        p_value,
        log10_p,
        odds_ratio: match (or_num, or_den) {
            (0.0, 0.0) => f64::NAN,
            (_, 0.0) => f64::INFINITY,
            (n, d) => n / d,
        },
        excess_failures: excess,
    }
}
