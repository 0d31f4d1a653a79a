//! How the report writes numbers for people, in one place so the page, the diagnosis and the charts agree.

/// A number rounded to a whole, with thousands separators: 41667 -> "41,667".
pub fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 && digits != "0" {
        format!("-{out}")
    } else {
        out
    }
}

/// The unit a span of `span_s` seconds on the run's clock reads best in, and its length in seconds:
/// seconds up to two minutes, minutes up to two hours, hours beyond.
pub fn time_unit(span_s: f64) -> (&'static str, f64) {
    if span_s < 120.0 {
        ("s", 1.0)
    } else if span_s < 7200.0 {
        ("min", 60.0)
    } else {
        ("h", 3600.0)
    }
}

/// A time on the run's clock in the unit its size reads best in: "4.2 s", "12.5 min", "3.41 h".
pub fn run_clock(t_s: f64) -> String {
    let (unit, len) = time_unit(t_s);
    let v = t_s / len;
    let decimals = if unit == "h" { 2 } else { 1 };
    format!("{v:.decimals$} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(4.24, "4.2 s")]
    #[case(600.0, "10.0 min")]
    #[case(12_300.0, "3.42 h")]
    fn run_clock_picks_its_unit(#[case] t: f64, #[case] text: &str) {
        assert_eq!(run_clock(t), text);
    }

    #[rstest]
    #[case(0.0, "0")]
    #[case(999.0, "999")]
    #[case(41_666.7, "41,667")]
    #[case(-2_500.0, "-2,500")]
    #[case(-0.2, "0")]
    #[case(1_063_523_120.8, "1,063,523,121")]
    fn thousands_are_grouped(#[case] x: f64, #[case] text: &str) {
        assert_eq!(thousands(x), text);
    }
}
