//! The hypergeometric distribution of a 2x2 table's first cell in log space, with R's tolerance for ties:
//! what Fisher's exact test sums.

use statrs::function::factorial::ln_factorial;

use super::association::Table2x2;
use super::{LN_NEGLIGIBLE, R_REL_ERR};

/// The distribution of `exposed_failed` given the table's margins, which is what Fisher's test conditions
/// on. Terms are evaluated one by one in log space, only from the tail edges outwards, so a table of a
/// million cycles costs a few thousand terms, not a million.
pub(super) struct Hypergeometric {
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
    pub(super) fn of(table: &Table2x2) -> Self {
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
    pub(super) fn ln_pmf(&self, x: u64) -> f64 {
        let x = x as f64;
        ln_binomial_pmf(x, self.exposed, self.p, self.q)
            + ln_binomial_pmf(self.failed - x, self.unexposed, self.p, self.q)
            - self.ln_norm
    }

    /// ln of R's two-sided p for observing `x`.
    pub(super) fn ln_two_sided(&self, x: u64) -> f64 {
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
    pub(super) fn ln_upper(&self, x: u64) -> f64 {
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
pub(super) fn ln_binomial_pmf(x: f64, n: f64, p: f64, q: f64) -> f64 {
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
pub(super) fn stirlerr(n: f64) -> f64 {
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
pub(super) fn bd0(x: f64, np: f64) -> f64 {
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
pub(super) fn partition_point(mut lo: u64, mut hi: u64, pred: impl Fn(u64) -> bool) -> u64 {
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
pub(super) fn ln_add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// ln(1 - e^a) for a <= 0, without cancellation at either end.
pub(super) fn ln_one_minus_exp(a: f64) -> f64 {
    if a > -std::f64::consts::LN_2 {
        (-a.exp_m1()).ln()
    } else {
        (-a.exp()).ln_1p()
    }
}

/// A log-probability never above 0, and 0 rather than -0.
pub(super) fn clamp_ln_p(ln_p: f64) -> f64 {
    ln_p.min(0.0) + 0.0
}

impl Hypergeometric {
    /// The support: the least and greatest first cell the margins allow.
    pub(super) fn support(&self) -> (u64, u64) {
        (self.lo, self.hi)
    }

    /// The exact conditional confidence interval of the odds ratio at `alpha` (two-sided), as R's
    /// `fisher.test` and scipy's `odds_ratio(kind="conditional")` give it: the odds ratios psi at which the
    /// observed first cell `x` sits on an alpha/2 tail of Fisher's noncentral hypergeometric distribution.
    /// 0 when `x` is the least value the margins allow, infinite when it is the greatest, so the interval
    /// always contains the sample odds ratio, zero cells included.
    pub(super) fn odds_ratio_interval(&self, x: u64, alpha: f64) -> (f64, f64) {
        if self.lo == self.hi {
            return (0.0, f64::INFINITY);
        }
        // ln of the central pmf over the support, the weights' common part; terms below e^-40 of the
        // largest change nothing at any psi that matters here and are kept anyway (the support is at most
        // the failure count, so this is cheap).
        let ln_pmf: Vec<f64> = (self.lo..=self.hi).map(|y| self.ln_pmf(y)).collect();
        let at = (x - self.lo) as usize;
        let target = (alpha / 2.0).ln();
        // ln P(X >= x) (upper) or ln P(X <= x) under odds ratio e^ln_psi.
        let tail = |ln_psi: f64, upper: bool| {
            let w: Vec<f64> = ln_pmf
                .iter()
                .enumerate()
                .map(|(i, l)| l + (self.lo + i as u64) as f64 * ln_psi)
                .collect();
            let all = ln_sum(&w);
            let part = if upper {
                ln_sum(&w[at..])
            } else {
                ln_sum(&w[..=at])
            };
            part - all
        };
        let solve = |upper: bool| {
            // P(X >= x) rises with psi, P(X <= x) falls: bisect ln psi on a range wide enough for any count.
            let (mut lo, mut hi) = (-200.0_f64, 200.0_f64);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                let above = tail(mid, upper) > target;
                if above == upper {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            (0.5 * (lo + hi)).exp()
        };
        let low = if x == self.lo { 0.0 } else { solve(true) };
        let high = if x == self.hi {
            f64::INFINITY
        } else {
            solve(false)
        };
        (low, high)
    }
}

/// ln of the sum of e^w.
fn ln_sum(w: &[f64]) -> f64 {
    let max = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    max + w.iter().map(|l| (l - max).exp()).sum::<f64>().ln()
}
