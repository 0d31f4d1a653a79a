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

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

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
