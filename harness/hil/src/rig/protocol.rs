//! The line protocol as pure functions: filling `{channel}` / `{celsius}` placeholders, compiling the expected
//! reply into an anchored regex, and judging a reply line. No I/O here; the serial backend does that.

use regex::Regex;

/// A placeholder's name and the text it stands for.
pub type Var<'a> = (&'a str, String);

/// `template` with every `{name}` of `vars` replaced by its value.
pub fn render(template: &str, vars: &[Var<'_>]) -> String {
    vars.iter()
        .fold(template.to_string(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

/// The first `{word}` placeholder in `template` that is not in `allowed` (regex counts like `{2}` or `{1,3}`
/// are not placeholders).
pub fn unknown_placeholder(template: &str, allowed: &[&str]) -> Option<String> {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let word = &after[..close];
        let is_name = word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_name && !allowed.contains(&word) {
            return Some(format!("{{{word}}}"));
        }
        rest = &after[close + 1..];
    }
    None
}

/// The expected-reply pattern with placeholders filled in (escaped) and anchored to the whole line.
pub fn reply_regex(expect: &str, vars: &[Var<'_>]) -> Result<Regex, regex::Error> {
    let escaped: Vec<Var<'_>> = vars
        .iter()
        .map(|(name, value)| (*name, regex::escape(value)))
        .collect();
    Regex::new(&format!("^(?:{})$", render(expect, &escaped)))
}

/// An exec command's expected-output pattern with placeholders filled in (escaped), searched anywhere in its
/// stdout; `^` and `$` match at line ends, `\n` or `\r\n` (a Windows-built tool's, a curl'd HTTP reply's).
pub fn output_regex(expect: &str, vars: &[Var<'_>]) -> Result<Regex, regex::Error> {
    let escaped: Vec<Var<'_>> = vars
        .iter()
        .map(|(name, value)| (*name, regex::escape(value)))
        .collect();
    Regex::new(&format!("(?mR){}", render(expect, &escaped)))
}

/// Why a reply line is not the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyMismatch {
    /// The line does not match the pattern.
    NoMatch,
    /// It matched, but capture group 1 is not a number.
    NotANumber(String),
}

/// Judges one reply line (without its line ending): `Ok(Some(x))` when capture group 1 holds a number,
/// `Ok(None)` when the pattern has no group 1.
pub fn check_reply(pattern: &Regex, line: &str) -> Result<Option<f64>, ReplyMismatch> {
    let captures = pattern.captures(line).ok_or(ReplyMismatch::NoMatch)?;
    match captures.get(1) {
        None => Ok(None),
        Some(m) => m
            .as_str()
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| ReplyMismatch::NotANumber(m.as_str().to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("ON {channel}", None)]
    #[case(r"T{channel}=(\d{1,3})", None)]
    #[case("ON {chanel}", Some("{chanel}"))]
    #[case("SOUR:TEMP {celsius}", Some("{celsius}"))]
    fn placeholders(#[case] template: &str, #[case] unknown: Option<&str>) {
        assert_eq!(
            unknown_placeholder(template, &["channel"]).as_deref(),
            unknown
        );
    }

    #[rstest]
    #[case("OK {channel}", "OK 3", Ok(None))]
    #[case("OK {channel}", "OK 3 extra", Err(ReplyMismatch::NoMatch))]
    #[case("OK {channel}", "OK 31", Err(ReplyMismatch::NoMatch))]
    #[case(r"T{channel}=(-?[0-9.]+)", "T3=24.5", Ok(Some(24.5)))]
    #[case(r"T{channel}=(-?[0-9.]+)", "T3=-1.25", Ok(Some(-1.25)))]
    #[case(r"T{channel}=(\S+)", "T3=abc", Err(ReplyMismatch::NotANumber("abc".into())))]
    fn replies(
        #[case] expect: &str,
        #[case] line: &str,
        #[case] want: Result<Option<f64>, ReplyMismatch>,
    ) {
        let re = reply_regex(expect, &[("channel", "3".to_string())]).unwrap();
        assert_eq!(check_reply(&re, line), want);
    }

    /// `^…$` in an exec command's expected output holds at line ends whether the tool ends lines with LF or CRLF.
    #[rstest]
    #[case("sent\nOK\n")]
    #[case("sent\r\nOK\r\n")]
    fn output_line_anchors_hold_for_lf_and_crlf(#[case] stdout: &str) {
        let re = output_regex("^OK$", &[]).unwrap();
        assert!(re.is_match(stdout), "{stdout:?}");
        assert!(!output_regex("^sent OK$", &[]).unwrap().is_match(stdout));
    }

    /// The expected replies of the shipped bench rig, and patterns a user may write.
    fn pattern() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            prop::sample::select(vec![
                "OK PWR {channel} ON",
                "OK RST {channel}",
                r"TEMP {channel} (-?[0-9]+(?:\.[0-9]+)?)",
                "1",
                r"([0-9.]+)",
                r"T{channel}=(\S+)",
                r"(.*)",
                r"(\d{1,3})?",
            ])
            .prop_map(str::to_string),
            "[ -~]{0,24}",
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// A reply line of any text (what a garbled or foreign controller sends) is judged, never a panic;
        /// a pattern that does not compile is a regex error, and a placeholder check never panics.
        #[test]
        fn any_reply_line_is_judged(
            expect in pattern(),
            line in proptest::prelude::any::<String>(),
            number in "-?[0-9]{0,400}(\\.[0-9]{0,400})?(e-?[0-9]{1,4})?",
            channel in proptest::prelude::any::<u16>(),
        ) {
            let _ = unknown_placeholder(&expect, &["channel", "celsius"]);
            let _ = unknown_placeholder(&line, &["channel"]);
            let vars = [("channel", channel.to_string()), ("celsius", line.clone())];
            let _ = render(&expect, &vars);
            if let Ok(re) = reply_regex(&expect, &vars) {
                for reply in [line.clone(), format!("TEMP {channel} {number}"), number.clone()] {
                    if let Ok(Some(x)) = check_reply(&re, &reply) {
                        proptest::prop_assert!(x.is_finite(), "{reply:?} read as {x}");
                    }
                }
            }
        }
    }

    #[test]
    fn renders_every_placeholder() {
        let vars = [
            ("channel", "7".to_string()),
            ("celsius", "25.0".to_string()),
        ];
        assert_eq!(
            render("SET {channel} {celsius} {channel}", &vars),
            "SET 7 25.0 7"
        );
    }
}
