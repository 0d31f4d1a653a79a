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
