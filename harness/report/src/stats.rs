//! Statistics for the failure report: Wilson intervals for failure rates, Fisher's exact test with odds ratio
//! and phi for a candidate cause, and a failure rate now against a baseline. Pure functions over counts: no
//! I/O, no CSV rows, no knowledge of what a cause is.
//!
//! Fisher's test is our own log-space sum over the hypergeometric support. statrs has `fishers_exact`, but it
//! uses SciPy's 1e-4 tie tolerance rather than R's 1e-7 and sums probabilities in linear space, so its p
//! underflows to 0 with no logarithm to fall back on; no crate we know of gives both for large tables.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};
use statrs::function::factorial::ln_factorial;

/// Confidence of the intervals that `wilson`, `fisher` and `compare_rates` report.
const CONFIDENCE: f64 = 0.95;
/// `compare_rates` calls a rise a regression below this one-sided p.
const REGRESSION_ALPHA: f64 = 0.05;
/// R's `fisher.test`: a table is as extreme as the observed one when its probability is at most the
/// observed probability times `1 + 1e-7`.
const R_REL_ERR: f64 = 1e-7;
/// A tail sum stops once all that is left is below e^-40 (4e-18) of the sum so far.
const LN_NEGLIGIBLE: f64 = -40.0;

/// A proportion k/n with its Wilson score interval (Wilson 1927; the "score" method of Newcombe 1998).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Proportion {
    /// Events, e.g. failed cycles.
    pub k: u64,
    /// Trials, e.g. cycles.
    pub n: u64,
    /// k / n; 0 when n = 0.
    pub rate: f64,
    /// Lower bound of the interval for the true rate; exactly 0 when k = 0.
    pub low: f64,
    /// Upper bound; exactly 1 when k = n (so [0, 1] when n = 0: nothing is known).
    pub high: f64,
}

/// [`wilson_at`] with 95 % confidence.
pub fn wilson(k: u64, n: u64) -> Proportion {
    wilson_at(k, n, CONFIDENCE)
}

/// k/n with its Wilson score interval at `confidence` (two-sided, in (0, 1)).
///
/// # Panics
/// If k > n or `confidence` is outside (0, 1).
pub fn wilson_at(k: u64, n: u64, confidence: f64) -> Proportion {
    assert!(k <= n, "wilson: k = {k} exceeds n = {n}");
    let z = z_two_sided(confidence);
    if n == 0 {
        return Proportion {
            k,
            n,
            rate: 0.0,
            low: 0.0,
            high: 1.0,
        };
    }
    let (nf, rate) = (n as f64, k as f64 / n as f64);
    let z2n = z * z / nf;
    let centre = (rate + z2n / 2.0) / (1.0 + z2n);
    let half = z / (1.0 + z2n) * (rate * (1.0 - rate) / nf + z2n / (4.0 * nf)).sqrt();
    let low = if k == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let high = if k == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Proportion {
        k,
        n,
        rate,
        low,
        high,
    }
}

/// The standard normal quantile z with P(|Z| <= z) = `confidence`.
fn z_two_sided(confidence: f64) -> f64 {
    assert!(
        confidence > 0.0 && confidence < 1.0,
        "confidence {confidence} is not in (0, 1)"
    );
    Normal::standard().inverse_cdf(0.5 + confidence / 2.0)
}

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
    fn cells(&self) -> [u64; 4] {
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
    /// 95 % Woolf (logit) interval of the odds ratio. When any cell is 0, 0.5 is added to every cell for the
    /// interval only (Haldane–Anscombe), so it is finite, and `odds_ratio` may lie outside it.
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
    let ln_p = Hypergeometric::of(&table).ln_two_sided(a);
    let (or_low, or_high) = woolf(&table, z_two_sided(CONFIDENCE));
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

/// The Woolf interval of the odds ratio, Haldane–Anscombe corrected when a cell is 0.
fn woolf(table: &Table2x2, z: f64) -> (f64, f64) {
    let correction = if table.cells().contains(&0) { 0.5 } else { 0.0 };
    let [a, b, c, d] = table.cells().map(|x| x as f64 + correction);
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

/// The distribution of `exposed_failed` given the table's margins, which is what Fisher's test conditions
/// on. Terms are evaluated one by one in log space, only from the tail edges outwards, so a table of a
/// million cycles costs a few thousand terms, not a million.
struct Hypergeometric {
    exposed: f64,
    unexposed: f64,
    failed: f64,
    /// ln of the binomial probability of `failed` in `total` at rate p, the denominator of Loader's formula.
    ln_norm: f64,
    /// failed / total and its complement.
    p: f64,
    q: f64,
    lo: u64,
    hi: u64,
    mode: u64,
}

#[derive(Clone, Copy)]
enum Towards {
    Lo,
    Hi,
}

impl Hypergeometric {
    fn of(table: &Table2x2) -> Self {
        let [a, b, c, d] = table.cells();
        let (exposed, unexposed, failed) = (a + b, c + d, a + c);
        let total = exposed + unexposed;
        let (lo, hi) = (failed.saturating_sub(unexposed), failed.min(exposed));
        let mode =
            (u128::from(failed + 1) * u128::from(exposed + 1) / u128::from(total + 2)) as u64;
        let p = failed as f64 / total.max(1) as f64;
        Hypergeometric {
            exposed: exposed as f64,
            unexposed: unexposed as f64,
            failed: failed as f64,
            ln_norm: ln_binomial_pmf(failed as f64, total as f64, p, 1.0 - p),
            p,
            q: 1.0 - p,
            lo,
            hi,
            mode: mode.clamp(lo, hi),
        }
    }

    /// ln P(X = x), as R's `dhyper` (Loader's binomial decomposition, accurate to a few ulps).
    fn ln_pmf(&self, x: u64) -> f64 {
        let x = x as f64;
        ln_binomial_pmf(x, self.exposed, self.p, self.q)
            + ln_binomial_pmf(self.failed - x, self.unexposed, self.p, self.q)
            - self.ln_norm
    }

    /// ln of R's two-sided p for observing `x`.
    fn ln_two_sided(&self, x: u64) -> f64 {
        if self.lo == self.hi {
            return 0.0;
        }
        let threshold = self.ln_pmf(x) + R_REL_ERR.ln_1p();
        if self.ln_pmf(self.mode) <= threshold {
            return 0.0;
        }
        // The pmf rises up to the mode and falls after it, so each tail is one run ending at an edge.
        let in_tail = |y| self.ln_pmf(y) <= threshold;
        let left_end = partition_point(self.lo, self.mode, in_tail);
        let right_start = partition_point(self.mode + 1, self.hi + 1, |y| !in_tail(y));
        let left = if left_end > self.lo {
            self.ln_tail(left_end - 1, Towards::Lo)
        } else {
            f64::NEG_INFINITY
        };
        let right = if right_start <= self.hi {
            self.ln_tail(right_start, Towards::Hi)
        } else {
            f64::NEG_INFINITY
        };
        clamp_ln_p(ln_add(left, right))
    }

    /// ln P(X >= x).
    fn ln_upper(&self, x: u64) -> f64 {
        if x <= self.lo {
            0.0
        } else if x >= self.mode {
            clamp_ln_p(self.ln_tail(x, Towards::Hi))
        } else {
            ln_one_minus_exp(self.ln_tail(x - 1, Towards::Lo))
        }
    }

    /// ln of the sum of the pmf from `start` (at or past the mode) away from the mode to the edge of the
    /// support. The terms fall ever faster (the pmf is log-concave), so what is left after a term is at
    /// most term * r / (1 - r), r the last ratio; once that is below e^-40 of the sum, stop.
    fn ln_tail(&self, start: u64, towards: Towards) -> f64 {
        let first = self.ln_pmf(start);
        let (mut x, mut prev, mut sum) = (start, first, 1.0_f64);
        while let Some(next) = self.step(x, towards) {
            let term = self.ln_pmf(next);
            sum += (term - first).exp();
            let ln_ratio = term - prev;
            if ln_ratio < 0.0
                && term + ln_ratio - (-ln_ratio.exp_m1()).ln() < first + sum.ln() + LN_NEGLIGIBLE
            {
                break;
            }
            (x, prev) = (next, term);
        }
        first + sum.ln()
    }

    fn step(&self, x: u64, towards: Towards) -> Option<u64> {
        match towards {
            Towards::Lo => (x > self.lo).then(|| x - 1),
            Towards::Hi => (x < self.hi).then(|| x + 1),
        }
    }
}

/// ln of the binomial probability of x successes in n trials (p + q = 1), R's `dbinom_raw` (Loader 2000,
/// "Fast and accurate computation of binomial probabilities"): the Stirling remainders and `bd0` avoid the
/// cancellation of differencing ln-factorials near 10^7, which would cost about 1e-9 of relative accuracy.
fn ln_binomial_pmf(x: f64, n: f64, p: f64, q: f64) -> f64 {
    if p == 0.0 || q == 0.0 {
        let certain = if p == 0.0 { 0.0 } else { n };
        return if x == certain { 0.0 } else { f64::NEG_INFINITY };
    }
    if x == 0.0 || x == n {
        let (p, q) = if x == 0.0 { (p, q) } else { (q, p) };
        return if n == 0.0 {
            0.0
        } else if p < 0.1 {
            -bd0(n, n * q) - n * p
        } else {
            n * q.ln()
        };
    }
    if x < 0.0 || x > n {
        return f64::NEG_INFINITY;
    }
    let lc = stirlerr(n) - stirlerr(x) - stirlerr(n - x) - bd0(x, n * p) - bd0(n - x, n * q);
    let lf = (2.0 * std::f64::consts::PI).ln() + x.ln() + (-x / n).ln_1p();
    lc - 0.5 * lf
}

/// ln(n!) - ln(sqrt(2 pi n) (n/e)^n), the error of Stirling's formula, for integer n >= 1.
fn stirlerr(n: f64) -> f64 {
    const S: [f64; 5] = [
        1.0 / 12.0,
        1.0 / 360.0,
        1.0 / 1260.0,
        1.0 / 1680.0,
        1.0 / 1188.0,
    ];
    if n <= 15.0 {
        let ln_sqrt_2pi = 0.5 * (2.0 * std::f64::consts::PI).ln();
        return ln_factorial(n as u64) - (n + 0.5) * n.ln() + n - ln_sqrt_2pi;
    }
    // R's thresholds: how many terms of the asymptotic series reach full precision.
    let terms = match n {
        n if n > 500.0 => 2,
        n if n > 80.0 => 3,
        n if n > 35.0 => 4,
        _ => 5,
    };
    let nn = n * n;
    S[..terms].iter().rev().fold(0.0, |acc, s| s - acc / nn) / n
}

/// x ln(x / np) + np - x, by a series when x is near np where the plain formula cancels.
fn bd0(x: f64, np: f64) -> f64 {
    if (x - np).abs() >= 0.1 * (x + np) {
        return x * (x / np).ln() + np - x;
    }
    let v = (x - np) / (x + np);
    let mut s = (x - np) * v;
    let mut ej = 2.0 * x * v;
    for j in 1..1000 {
        ej *= v * v;
        let next = s + ej / f64::from(2 * j + 1);
        if next == s {
            break;
        }
        s = next;
    }
    s
}

/// The first y in [lo, hi) for which `pred` is false, given that it holds on a prefix (`hi` if always).
fn partition_point(mut lo: u64, mut hi: u64, pred: impl Fn(u64) -> bool) -> u64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// ln(e^a + e^b).
fn ln_add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// ln(1 - e^a) for a <= 0, without cancellation at either end.
fn ln_one_minus_exp(a: f64) -> f64 {
    if a > -std::f64::consts::LN_2 {
        (-a.exp_m1()).ln()
    } else {
        (-a.exp()).ln_1p()
    }
}

/// A log-probability never above 0, and 0 rather than -0.
fn clamp_ln_p(ln_p: f64) -> f64 {
    ln_p.min(0.0) + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn assert_rel(got: f64, want: f64, rel: f64) {
        assert!(
            ((got - want) / want).abs() <= rel,
            "got {got:e}, want {want:e} (relative {rel:e})"
        );
    }

    fn table(a: u64, b: u64, c: u64, d: u64) -> Table2x2 {
        Table2x2 {
            exposed_failed: a,
            exposed_passed: b,
            unexposed_failed: c,
            unexposed_passed: d,
        }
    }

    // Checked by the formula (z = 1.959964) in 40-digit arithmetic. 81/263 -> 0.2553–0.3662 is the example
    // of Newcombe (1998), Statist. Med. 17:857, for the Wilson score method.
    #[rstest]
    #[case::none_of_ten(0, 10, 0.0, 0.277_532_799_863)]
    #[case::half_of_ten(5, 10, 0.236_593_090_513, 0.763_406_909_487)]
    #[case::newcombe_81_of_263(81, 263, 0.255_288_519_878, 0.366_209_576_983)]
    #[case::all_of_ten(10, 10, 0.722_467_200_137, 1.0)]
    #[case::nothing_known(0, 0, 0.0, 1.0)]
    fn wilson_matches_reference(
        #[case] k: u64,
        #[case] n: u64,
        #[case] low: f64,
        #[case] high: f64,
    ) {
        let w = wilson(k, n);
        assert!(
            (w.low - low).abs() < 1e-11 && (w.high - high).abs() < 1e-11,
            "{w:?}"
        );
    }

    #[test]
    fn wilson_at_widens_with_confidence() {
        let (w90, w99) = (wilson_at(5, 10, 0.90), wilson_at(5, 10, 0.99));
        assert!(w99.low < w90.low && w99.high > w90.high);
    }

    // Two-sided p. Exact rationals in Python (big integers), so p is tested to 1e-10; R's fisher.test
    // examples print the same to four figures: TeaTasting 0.4857, Convictions 0.0005367.
    #[rstest]
    #[case::r_tea_tasting(table(3, 1, 1, 3), 34.0 / 70.0)]
    #[case::r_convictions(table(2, 15, 10, 3), 46_423.0 / 86_493_225.0)]
    #[case::zero_cells(table(10, 0, 0, 10), 2.0 / 184_756.0)]
    #[case::small(table(7, 93, 3, 97), 0.331_129_164_404_39)]
    #[case::thousands(table(123, 877, 98, 902), 0.086_759_344_530_19)]
    #[case::millions(table(1200, 998_800, 1000, 999_000), 2.159_102_792_869_69e-5)]
    #[case::millions_rare(table(300, 999_700, 200, 999_800), 8.917_158_141_067e-6)]
    #[case::symmetric(table(40, 960, 40, 960), 1.0)]
    #[case::symmetric_small(table(2, 2, 2, 2), 1.0)]
    #[case::empty_row(table(0, 0, 5, 7), 1.0)]
    #[case::no_failures(table(0, 10, 0, 20), 1.0)]
    #[case::empty(table(0, 0, 0, 0), 1.0)]
    fn fisher_two_sided_matches_reference(#[case] t: Table2x2, #[case] p: f64) {
        let a = fisher(t);
        assert_rel(a.p_value, p, 1e-10);
        assert_rel(10f64.powf(a.log10_p), p, 1e-9);
    }

    #[test]
    fn tea_tasting_reports_the_sample_odds_ratio_not_rs_conditional_mle() {
        // R prints 6.408309 (the conditional MLE); we report ad/bc = 9.
        let a = fisher(table(3, 1, 1, 3));
        assert_eq!(a.odds_ratio, 9.0);
        assert_rel(
            a.or_low,
            (9f64.ln() - 1.959_963_985 * (8.0f64 / 3.0).sqrt()).exp(),
            1e-9,
        );
        assert_eq!((a.phi, a.share_of_failures), (0.5, 0.75));
        assert_eq!((a.exposed_rate.rate, a.unexposed_rate.rate), (0.75, 0.25));
    }

    #[test]
    fn zero_cells_give_infinite_odds_and_a_corrected_finite_interval() {
        let a = fisher(table(10, 0, 0, 10));
        assert_eq!((a.odds_ratio, a.phi), (f64::INFINITY, 1.0));
        assert!(a.or_low > 1.0 && a.or_high.is_finite());
    }

    #[test]
    fn overwhelming_evidence_keeps_a_finite_log_p() {
        // Exact value from big-integer arithmetic: p = 7.6030418489059107e-666.
        let a = fisher(table(500, 100, 50, 9000));
        assert_eq!(a.p_value, 0.0);
        assert!(
            (a.log10_p - -665.119_012_619_05).abs() < 1e-9,
            "{}",
            a.log10_p
        );
    }

    #[test]
    fn million_count_tables_give_finite_numbers() {
        for t in [
            table(1_000_000, 999_000, 998_000, 1_000_000),
            table(900_000, 100_000, 1000, 999_000),
        ] {
            let a = fisher(t);
            let numbers = [
                a.log10_p,
                a.or_low,
                a.or_high,
                a.phi,
                a.odds_ratio,
                a.share_of_failures,
            ];
            assert!(numbers.iter().all(|x| x.is_finite()), "{a:?}");
            assert!((0.0..=1.0).contains(&a.p_value));
        }
    }

    // One-sided p_worse: R's fisher.test(Convictions, alternative = "less") = 0.0004652 is the same tail seen
    // from the other row; TeaTasting with alternative = "greater" = 0.2429.
    #[rstest]
    #[case::worse(
        50,
        1000,
        20,
        1000,
        1.742_596_766_586_2e-4,
        3.485_193_533_172_4e-4,
        true
    )]
    #[case::better(
        20,
        1000,
        50,
        1000,
        0.999_936_308_011_58,
        3.485_193_533_172_4e-4,
        false
    )]
    #[case::equal(40, 1000, 40, 1000, 0.545_380_581_747_25, 1.0, false)]
    #[case::r_convictions(10, 13, 2, 17, 40_235.0 / 86_493_225.0, 46_423.0 / 86_493_225.0, true)]
    #[case::r_tea_tasting(3, 4, 1, 4, 17.0 / 70.0, 34.0 / 70.0, false)]
    fn compare_rates_matches_reference(
        #[case] now_failed: u64,
        #[case] now_n: u64,
        #[case] base_failed: u64,
        #[case] base_n: u64,
        #[case] p_worse: f64,
        #[case] p_two_sided: f64,
        #[case] regression: bool,
    ) {
        let c = compare_rates(now_failed, now_n, base_failed, base_n);
        assert_rel(c.p_worse, p_worse, 1e-10);
        assert_rel(c.p_two_sided, p_two_sided, 1e-10);
        assert_eq!(c.regression, regression);
    }

    #[test]
    fn no_baseline_failures_and_no_cycles_are_handled() {
        let c = compare_rates(0, 0, 0, 0);
        assert_eq!((c.p_two_sided, c.p_worse, c.regression), (1.0, 1.0, false));
        assert_eq!((c.now.low, c.now.high), (0.0, 1.0));
    }
}
