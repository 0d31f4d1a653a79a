//! The Cochran–Armitage test for a trend in failure rate across ordered levels (temperatures): does the rate
//! rise or fall with the level, in either direction and not only between the extremes? The statistic is R's
//! `prop.trend.test` (no continuity correction), with its sign kept as the direction.

use serde::Serialize;

use super::chisq::chi2_1_tail;

/// A trend across levels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    /// Chi-square with one degree of freedom.
    pub statistic: f64,
    pub p_value: f64,
    pub log10_p: f64,
    /// +1 when failures rise with the score, -1 when they fall, 0 when flat.
    pub direction: i8,
}

/// The trend of `failures[i]` out of `cycles[i]` against `scores[i]` (e.g. °C).
pub fn cochran_armitage(failures: &[u64], cycles: &[u64], scores: &[f64]) -> Trend {
    let n_total: f64 = cycles.iter().map(|&n| n as f64).sum();
    let x_total: f64 = failures.iter().map(|&x| x as f64).sum();
    let flat = Trend {
        statistic: 0.0,
        p_value: 1.0,
        log10_p: 0.0,
        direction: 0,
    };
    if n_total == 0.0 || x_total == 0.0 || x_total == n_total {
        return flat;
    }
    let p = x_total / n_total;
    let mean_score = cycles
        .iter()
        .zip(scores)
        .map(|(&n, s)| n as f64 * s)
        .sum::<f64>()
        / n_total;
    let levels = failures.iter().zip(cycles).zip(scores);
    let t: f64 = levels
        .clone()
        .map(|((&x, _), s)| x as f64 * (s - mean_score))
        .sum();
    let spread: f64 = levels
        .map(|((_, &n), s)| n as f64 * (s - mean_score).powi(2))
        .sum();
    let variance = p * (1.0 - p) * spread;
    if variance <= 0.0 {
        return flat;
    }
    let statistic = t * t / variance;
    let (p_value, log10_p) = chi2_1_tail(statistic);
    Trend {
        statistic,
        p_value,
        log10_p,
        direction: if t > 0.0 {
            1
        } else if t < 0.0 {
            -1
        } else {
            0
        },
    }
}

/// The Cochran–Armitage trend within strata (boards, runs), combined as Mantel's extension does: each
/// stratum's score statistic about its own mean score, summed, over the summed variances, so a trend that
/// is only which stratum ran at which level is not a trend. One stratum gives [`cochran_armitage`]. Each
/// stratum is (failures, cycles, scores) per level.
pub fn cochran_armitage_within(strata: &[(Vec<u64>, Vec<u64>, Vec<f64>)]) -> Trend {
    let (mut t_sum, mut v_sum) = (0.0, 0.0);
    for (failures, cycles, scores) in strata {
        let n: f64 = cycles.iter().map(|&n| n as f64).sum();
        let x: f64 = failures.iter().map(|&x| x as f64).sum();
        if n == 0.0 || x == 0.0 || x == n {
            continue;
        }
        let p = x / n;
        let mean = cycles
            .iter()
            .zip(scores)
            .map(|(&c, s)| c as f64 * s)
            .sum::<f64>()
            / n;
        t_sum += failures
            .iter()
            .zip(scores)
            .map(|(&f, s)| f as f64 * (s - mean))
            .sum::<f64>();
        v_sum += p
            * (1.0 - p)
            * cycles
                .iter()
                .zip(scores)
                .map(|(&c, s)| c as f64 * (s - mean).powi(2))
                .sum::<f64>();
    }
    if v_sum <= 0.0 {
        return Trend {
            statistic: 0.0,
            p_value: 1.0,
            log10_p: 0.0,
            direction: 0,
        };
    }
    let statistic = t_sum * t_sum / v_sum;
    let (p_value, log10_p) = chi2_1_tail(statistic);
    Trend {
        statistic,
        p_value,
        log10_p,
        direction: if t_sum > 0.0 {
            1
        } else if t_sum < 0.0 {
            -1
        } else {
            0
        },
    }
}
