//! Failure rates with their Wilson score intervals.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use super::CONFIDENCE;

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
pub(super) fn z_two_sided(confidence: f64) -> f64 {
    assert!(
        confidence > 0.0 && confidence < 1.0,
        "confidence {confidence} is not in (0, 1)"
    );
    Normal::standard().inverse_cdf(0.5 + confidence / 2.0)
}
