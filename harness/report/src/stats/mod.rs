//! Statistics for the failure report: Wilson intervals for failure rates, Fisher's exact test with odds ratio
//! and phi for a candidate cause, a failure rate now against a baseline, and the tests a diagnosis that
//! explains symptoms away needs: Cochran–Mantel–Haenszel within strata, the Cochran–Armitage trend, and Holm and
//! Benjamini–Hochberg adjustment across candidates. Pure functions over counts: no
//! I/O, no CSV rows, no knowledge of what a cause is.
//!
//! Fisher's test is our own log-space sum over the hypergeometric support. statrs has `fishers_exact`, but it
//! uses SciPy's 1e-4 tie tolerance rather than R's 1e-7 and sums probabilities in linear space, so its p
//! underflows to 0 with no logarithm to fall back on; no crate we know of gives both for large tables.

mod association;
mod chisq;
mod hypergeometric;
mod multiple;
mod proportion;
mod strata;
#[cfg(test)]
mod tests;
mod trend;

pub use association::{compare_rates, fisher, Association, RateComparison, Table2x2};
pub use multiple::{benjamini_hochberg, holm, holm_log10};
pub use proportion::{wilson, wilson_at, Proportion};
pub use strata::{cochran_mantel_haenszel, exact_conditional, Stratified, EXACT_SUPPORT_LIMIT};
pub use trend::{cochran_armitage, cochran_armitage_within, Trend};

/// Confidence of the intervals that `wilson`, `fisher` and `compare_rates` report.
pub(super) const CONFIDENCE: f64 = 0.95;
/// `compare_rates` calls a rise a regression below this one-sided p.
pub(super) const REGRESSION_ALPHA: f64 = 0.05;
/// R's `fisher.test`: a table is as extreme as the observed one when its probability is at most the
/// observed probability times `1 + 1e-7`.
pub(super) const R_REL_ERR: f64 = 1e-7;
/// A tail sum stops once all that is left is below e^-40 (4e-18) of the sum so far.
pub(super) const LN_NEGLIGIBLE: f64 = -40.0;
