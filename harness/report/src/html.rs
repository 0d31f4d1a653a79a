//! report.html: the report rendered through a minijinja template (report.html.j2) into one self-contained
//! file — inline CSS and SVG, no scripts, no network — that opens from a file share or a CI artifact.

use minijinja::{context, Environment, Value};

use crate::model::{Report, ReportError};

const TEMPLATE: &str = include_str!("report.html.j2");

pub fn render(r: &Report) -> Result<String, ReportError> {
    let mut env = Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(ReportError::Template)?;
    env.add_filter("pct", |x: f64| format!("{:.1} %", 100.0 * x));
    env.add_filter("num", |x: f64| {
        if x.is_finite() {
            format!("{x:.2}")
        } else {
            "∞".to_string()
        }
    });
    env.add_filter("p", |p: f64, log10: f64| {
        if p >= 1e-4 {
            format!("{p:.4}")
        } else {
            format!("1e{:.0}", log10.floor())
        }
    });
    env.add_filter("ptext", |log10: f64| {
        crate::diagnosis::wording::p_text(log10)
    });
    // An odds ratio: a number, none, or "inf" (how summary.json writes an infinite one).
    env.add_filter("ratio", |x: Value| {
        match (x.as_str(), f64::try_from(x.clone())) {
            (Some("inf"), _) => crate::diagnosis::wording::ratio(f64::INFINITY),
            (_, Ok(v)) if !x.is_none() => crate::diagnosis::wording::ratio(v),
            _ => "—".to_string(),
        }
    });
    env.add_filter("rate_of", |k: u64, n: u64| {
        crate::diagnosis::wording::of(k, n)
    });
    let charts = context! {
        boards => Value::from_safe_string(r.charts.boards.clone()),
        timeline => Value::from_safe_string(r.charts.timeline.clone()),
        temperature => Value::from_safe_string(r.charts.temperature.clone()),
        usb_scatter => Value::from_safe_string(r.charts.usb_scatter.clone()),
        trend => Value::from_safe_string(r.charts.trend.clone()),
    };
    let tmpl = env
        .get_template("report.html")
        .map_err(ReportError::Template)?;
    tmpl.render(context! { r => Value::from_serialize(r), charts => charts })
        .map_err(ReportError::Template)
}
