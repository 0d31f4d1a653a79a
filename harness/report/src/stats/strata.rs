//! The Cochran–Mantel–Haenszel test: is a candidate associated with failure *within* the strata of a stronger
//! cause (each stratum its own 2x2 table: candidate present or not x failed or passed)? With the pooled
//! Mantel–Haenszel odds ratio. What lets a symptom be explained away by its cause.

use serde::Serialize;

use super::chisq::chi2_1_tail;
use super::hypergeometric::{ln_add, Hypergeometric};
use super::{Table2x2, R_REL_ERR};

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

/// Beyond this many values of the summed first cells, the exact test gives way to the CMH chi-square, whose
/// approximation is good by then (and the convolution would cost the square of it).
pub const EXACT_SUPPORT_LIMIT: u64 = 2000;

/// The exact conditional test of a common odds ratio of 1 across strata (R's `mantelhaen.test(exact =
/// TRUE)`, two-sided as Fisher's: the probability, given every stratum's margins, of a sum of exposed
/// failures no more probable than the observed one). The distribution of the sum is the convolution of the
/// strata's hypergeometric distributions, in log space. Returns (p, log10 p), or None when the sum's
/// support exceeds [`EXACT_SUPPORT_LIMIT`]. With one stratum it is Fisher's exact test.
pub fn exact_conditional(strata: &[Table2x2]) -> Option<(f64, f64)> {
    let mut dist: Vec<f64> = vec![0.0]; // ln P(sum = lo_total + i)
    let mut observed = 0u64;
    let mut lo_total = 0u64;
    for t in strata {
        let h = Hypergeometric::of(t);
        let (lo, hi) = h.support();
        observed += t.exposed_failed;
        lo_total += lo;
        if lo == hi {
            continue;
        }
        if dist.len() as u64 + (hi - lo) > EXACT_SUPPORT_LIMIT {
            return None;
        }
        let pmf: Vec<f64> = (lo..=hi).map(|x| h.ln_pmf(x)).collect();
        let mut next = vec![f64::NEG_INFINITY; dist.len() + pmf.len() - 1];
        for (i, a) in dist.iter().enumerate() {
            if *a == f64::NEG_INFINITY {
                continue;
            }
            for (j, b) in pmf.iter().enumerate() {
                next[i + j] = ln_add(next[i + j], a + b);
            }
        }
        dist = next;
    }
    let at = (observed - lo_total) as usize;
    let threshold = dist[at] + R_REL_ERR.ln_1p();
    let ln_p = dist
        .iter()
        .filter(|&&l| l <= threshold)
        .fold(f64::NEG_INFINITY, |acc, &l| ln_add(acc, l))
        .min(0.0);
    Some((ln_p.exp(), ln_p / std::f64::consts::LN_10))
}
