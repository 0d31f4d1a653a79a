//! How the diagnosis writes its numbers: p-values with their mantissa, odds ratios with intervals that
//! contain them, rates with their counts, percentages of HSI error.

use crate::format::thousands;

/// A p-value from its log10, keeping the mantissa: "p = 0.0123", "p = 6.1e-13", "p < 1e-300".
pub fn p_text(log10_p: f64) -> String {
    if log10_p >= -2.0 {
        return format!("p = {:.3}", 10f64.powf(log10_p));
    }
    if !log10_p.is_finite() {
        return "p = 0".into();
    }
    let exponent = log10_p.floor();
    let mantissa = 10f64.powf(log10_p - exponent);
    // 9.96 rounds to "10.0": carry into the exponent.
    let (mantissa, exponent) = if mantissa >= 9.95 {
        (1.0, exponent + 1.0)
    } else {
        (mantissa, exponent)
    };
    format!("p = {mantissa:.1}e{exponent:.0}")
}

/// An odds ratio or a bound for people: one decimal below 100, thousands separators up to a million,
/// scientific notation beyond.
pub fn ratio(x: f64) -> String {
    if x.is_infinite() {
        "∞".into()
    } else if x >= 1e6 {
        let e = x.log10().floor();
        format!("{:.1}e{e:.0}", x / 10f64.powf(e))
    } else if x >= 100.0 {
        thousands(x)
    } else if x >= 0.1 || x == 0.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}

/// The odds ratio with its 95 % interval, honest at the edges: with no failure without the factor the
/// ratio is infinite and only the exact lower bound is given.
pub fn odds_text(or: f64, low: f64, high: f64) -> String {
    if or.is_nan() {
        return "no odds ratio (nothing to compare)".into();
    }
    if or.is_infinite() {
        return format!(
            "no failure without it; odds ratio at least {} (exact 95 % lower bound)",
            ratio(low)
        );
    }
    if or == 0.0 {
        return format!(
            "no failure with it; odds ratio at most {} (exact 95 % upper bound)",
            ratio(high)
        );
    }
    format!(
        "odds ratio {} [95 % CI {}–{}]",
        ratio(or),
        ratio(low),
        ratio(high)
    )
}

/// A Mantel–Haenszel odds ratio in words (it has no interval): infinite is said as what it means,
/// `infinite` naming where there was no failure.
pub fn mh_odds(or: Option<f64>, infinite: &str) -> String {
    match or {
        Some(or) if or.is_infinite() => infinite.to_string(),
        Some(or) => format!("Mantel–Haenszel odds ratio {}", ratio(or)),
        None => "no odds ratio".to_string(),
    }
}

/// A Holm-adjusted p-value after "Holm-adjusted": "6.1e-6", "0.012".
pub fn adjusted(log10_p_adjusted: f64) -> String {
    p_text(log10_p_adjusted)
        .replace("p = ", "")
        .replace("p < ", "< ")
}

/// "12 of 340 (3.5 %)".
pub fn of(k: u64, n: u64) -> String {
    if n == 0 {
        return "0 of 0".into();
    }
    format!(
        "{} of {} ({})",
        thousands(k as f64),
        thousands(n as f64),
        rate(k as f64 / n as f64)
    )
}

/// A rate as a percentage with the precision it needs: "25 %", "3.5 %", "0.42 %", "0.012 %".
pub fn rate(r: f64) -> String {
    let p = 100.0 * r;
    if p == 0.0 || p >= 10.0 {
        format!("{p:.0} %")
    } else if p >= 1.0 {
        format!("{p:.1} %")
    } else if p >= 0.1 {
        format!("{p:.2} %")
    } else {
        format!("{p:.3} %")
    }
}

/// A ppm error as a signed percentage: 16000 -> "+1.60 %".
pub fn ppm_pct(ppm: f64) -> String {
    format!("{:+.2} %", ppm / 1e4)
}

/// A signed ppm with separators: "+41,667 ppm".
pub fn ppm(x: f64) -> String {
    let sign = if x >= 0.5 { "+" } else { "" };
    format!("{sign}{} ppm", thousands(x))
}

/// "a, b and c".
pub fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(-12.2147, "p = 6.1e-13")]
    #[case(-4.0, "p = 1.0e-4")]
    #[case(-2.0, "p = 0.010")]
    #[case(-2.757, "p = 1.7e-3")]
    #[case(0.0, "p = 1.000")]
    #[case(-7.0004, "p = 1.0e-7")]
    #[case(-1053.3, "p = 5.0e-1054")]
    fn p_values_keep_their_mantissa(#[case] log10_p: f64, #[case] text: &str) {
        assert_eq!(p_text(log10_p), text);
    }

    #[rstest]
    #[case(4.56, "4.6")]
    #[case(418_114.18, "418,114")]
    #[case(1_063_523_120.83, "1.1e9")]
    #[case(f64::INFINITY, "∞")]
    fn ratios_read_as_numbers(#[case] x: f64, #[case] text: &str) {
        assert_eq!(ratio(x), text);
    }

    #[test]
    fn an_infinite_odds_ratio_gives_its_lower_bound_only() {
        let t = odds_text(f64::INFINITY, 7.577, f64::INFINITY);
        assert_eq!(
            t,
            "no failure without it; odds ratio at least 7.6 (exact 95 % lower bound)"
        );
    }
}
