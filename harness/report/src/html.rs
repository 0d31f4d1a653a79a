//! report.html: the report rendered through a minijinja template (report.html.j2) into one self-contained
//! file — inline CSS and SVG, no scripts, no network — that opens from a file share or a CI artifact.
//! Numbers are written here, by the same functions the diagnosis uses, so the page and its sentences agree.

use minijinja::{context, Environment, Value};

use crate::diagnosis::wording;
use crate::format::thousands;
use crate::model::{Report, ReportError};

const TEMPLATE: &str = include_str!("report.html.j2");

/// The minus of an exponent ("1.2e-7") as a non-breaking hyphen (U+2011), so a number never wraps inside.
pub(crate) fn unbreakable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut prev = [' ', ' '];
    for c in text.chars() {
        if c == '-' && prev[1] == 'e' && prev[0].is_ascii_digit() {
            out.push('\u{2011}');
        } else {
            out.push(c);
        }
        prev = [prev[1], c];
    }
    out
}

fn filters(env: &mut Environment<'_>) {
    // One rule for every rate on the page: the diagnosis's ("25 %", "3.5 %", "0.42 %").
    env.add_filter("pct", wording::rate);
    env.add_filter("num", |x: f64| unbreakable(&wording::ratio(x)));
    env.add_filter("p", |p: f64| unbreakable(&wording::p_text(p.log10())));
    env.add_filter("ptext", |log10: f64| unbreakable(&wording::p_text(log10)));
    // An odds ratio: a number, none, or "inf" (how summary.json writes an infinite one).
    env.add_filter("ratio", |x: Value| {
        match (x.as_str(), f64::try_from(x.clone())) {
            (Some("inf"), _) => unbreakable(&wording::ratio(f64::INFINITY)),
            (_, Ok(v)) if !x.is_none() => unbreakable(&wording::ratio(v)),
            _ => "—".to_string(),
        }
    });
    env.add_filter("rate_of", wording::of);
    env.add_filter("nb", |s: String| unbreakable(&s));
    env.add_filter("count", |x: f64| thousands(x));
    env.add_filter("hz", |x: Option<f64>| {
        x.map_or("—".to_string(), |x| format!("{} Hz", thousands(x)))
    });
    env.add_filter("ppm", |x: Option<f64>| {
        x.map_or("—".to_string(), wording::ppm)
    });
    env.add_filter("ppm_pct", |x: f64| {
        format!("{} ({})", wording::ppm_pct(x), wording::ppm(x))
    });
    env.add_filter("hex", |x: Option<u8>| {
        x.map_or("—".to_string(), |x| format!("0x{x:02X}"))
    });
    env.add_filter("mhz", |x: f64| {
        let t = format!("{x:.3}");
        format!("{} MHz", t.trim_end_matches('0').trim_end_matches('.'))
    });
    env.add_filter("ms", |x: f64| format!("{x:.1} ms"));
    env.add_filter("clock", crate::format::run_clock);
}

pub fn render(r: &Report) -> Result<String, ReportError> {
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(ReportError::Template)?;
    filters(&mut env);
    let svg = |s: &String| Value::from_safe_string(s.clone());
    let charts = context! {
        boards => svg(&r.charts.boards),
        timeline => svg(&r.charts.timeline),
        temperature => svg(&r.charts.temperature),
        usb_scatter => svg(&r.charts.usb_scatter),
        mechanism => svg(&r.charts.mechanism),
        pllm => svg(&r.charts.pllm),
        trend => svg(&r.charts.trend),
    };
    let tmpl = env
        .get_template("report.html")
        .map_err(ReportError::Template)?;
    tmpl.render(context! { r => Value::from_serialize(r), charts => charts })
        .map_err(ReportError::Template)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_do_not_break_at_their_minus() {
        assert_eq!(unbreakable("p = 4.7e-1054"), "p = 4.7e\u{2011}1054");
        assert_eq!(unbreakable("bench-01, e-mail"), "bench-01, e-mail");
        assert_eq!(unbreakable("-2.0 … +1.5 %"), "-2.0 … +1.5 %");
    }
}
