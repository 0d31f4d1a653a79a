//! The tail of a chi-square with one degree of freedom, with its logarithm kept when the p-value itself
//! underflows: what the stratified and trend tests report.

use statrs::distribution::{ContinuousCDF, Normal};

/// p and log10 p of a chi-square statistic with one degree of freedom (P[X >= chi2]).
pub(super) fn chi2_1_tail(chi2: f64) -> (f64, f64) {
    if chi2.is_nan() || chi2 <= 0.0 {
        return (1.0, 0.0);
    }
    let z = chi2.sqrt();
    let normal = Normal::standard();
    let p = 2.0 * normal.cdf(-z);
    if p > 1e-300 {
        return (p, p.log10());
    }
    // Mills' ratio: ln Φ(-z) = -z²/2 - ln z - ln √(2π) + ln(1 - 1/z² + 3/z⁴) for large z.
    let z2 = z * z;
    let ln_tail = -z2 / 2.0 - z.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
        + (1.0 - 1.0 / z2 + 3.0 / (z2 * z2)).ln();
    let ln_p = std::f64::consts::LN_2 + ln_tail;
    (0.0, ln_p / std::f64::consts::LN_10)
}
