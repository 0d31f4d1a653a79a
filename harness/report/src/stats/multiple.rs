//! Multiple-comparison control: when every board and every factor is a candidate, the p-value of the best
//! one must allow for how many were tried. Holm's step-down adjustment (family-wise error) and
//! Benjamini–Hochberg's (false discovery rate), as statsmodels' `multipletests` and R's `p.adjust` give them.

/// Holm-adjusted p-values, in the order of `p`.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let order = ascending(p);
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// Holm's adjustment in log10 space: the same values as [`holm`], finite where a p-value underflows to 0.
pub fn holm_log10(log10_p: &[f64]) -> Vec<f64> {
    let m = log10_p.len();
    let order = ascending(log10_p);
    let mut adjusted = vec![0.0; m];
    let mut running = f64::NEG_INFINITY;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max((log10_p[i] + ((m - rank) as f64).log10()).min(0.0));
        adjusted[i] = running;
    }
    adjusted
}

/// Benjamini–Hochberg-adjusted p-values, in the order of `p`.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let order = ascending(p);
    let mut adjusted = vec![0.0; m];
    let mut running: f64 = 1.0;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min((m as f64 * p[i] / (rank + 1) as f64).min(1.0));
        adjusted[i] = running;
    }
    adjusted
}

/// Indices of `p` from the smallest value up (ties in index order, so the result is deterministic).
fn ascending(p: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    order
}
