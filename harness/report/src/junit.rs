//! junit.xml for CI systems. A test case is one board in one phase, judged by the runs' thresholds: it fails
//! only when it has failures and its board has failures in a run that missed a threshold (the run's failure
//! rate, or the board's own limit); failures within the thresholds are listed in its `<system-out>`. A suite
//! for the thresholds has one case per threshold of every run, and with a baseline a suite has one case for
//! the comparison (failed on a regression only with `--fail-on-regression`). So junit.xml has a failed case
//! exactly when the exit code is 1. Must not judge anything itself: the verdicts come with the [`Report`].

use std::fmt::Write;

use quick_xml::escape::escape;

use crate::model::{BoardPhase, Report};

/// Failures detailed per test case (the report keeps the first 3 of each board and phase).
const DETAILS: usize = 3;

pub fn render(r: &Report) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let baseline = usize::from(r.baseline.is_some());
    let tests = r.board_phases.len() + r.thresholds.len() + baseline;
    let failures = r.board_phases.iter().filter(|p| p.failed).count()
        + r.thresholds.iter().filter(|t| !t.met).count()
        + usize::from(regression_fails(r));
    let time: f64 = r.board_phases.iter().map(|p| p.elapsed_s).sum();
    let _ = writeln!(
        x,
        "<testsuites name=\"hil soak\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">"
    );
    for b in &r.boards {
        suite(&mut x, r, &b.row.name, &b.runs);
    }
    thresholds(&mut x, r, time);
    if r.baseline.is_some() {
        baseline_suite(&mut x, r);
    }
    x.push_str("</testsuites>\n");
    x
}

/// A regression that fails the report.
fn regression_fails(r: &Report) -> bool {
    r.fail_on_regression && r.baseline.as_ref().is_some_and(|b| b.regression)
}

/// The hosts of runs `runs` (indices into `r.runs`), and the earliest start as JUnit's timestamp
/// (ISO 8601 without a zone: the XSD's pattern).
fn where_when(r: &Report, runs: &[usize]) -> (String, String) {
    let mut hosts: Vec<&str> = runs.iter().map(|&i| r.runs[i].host.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    let start = runs
        .iter()
        .map(|&i| r.runs[i].started_utc.as_str())
        .min()
        .unwrap_or("");
    let stamp: String = start.trim_end_matches('Z').chars().take(19).collect();
    (hosts.join(","), stamp)
}

fn suite(x: &mut String, r: &Report, board: &str, runs: &[usize]) {
    let cases: Vec<&BoardPhase> = r.board_phases.iter().filter(|p| p.board == board).collect();
    let failed = cases.iter().filter(|c| c.failed).count();
    let time: f64 = cases.iter().map(|c| c.elapsed_s).sum();
    let (host, stamp) = where_when(r, runs);
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" time=\"{time:.3}\" \
         timestamp=\"{}\" hostname=\"{}\">",
        escape(board),
        cases.len(),
        escape(&stamp),
        escape(&host)
    );
    for c in cases {
        case(x, c);
    }
    x.push_str("  </testsuite>\n");
}

fn case(x: &mut String, c: &BoardPhase) {
    let name = format!("{} / {}", c.board, c.phase);
    let _ = write!(
        x,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
        escape(&c.board),
        escape(&name),
        c.elapsed_s
    );
    if c.failures == 0 {
        let _ = writeln!(x, "/>");
        return;
    }
    let counted = format!("{} of {} cycles failed", c.failures, c.cycles);
    if c.failed {
        let _ = writeln!(
            x,
            ">\n      <failure message=\"{}\" type=\"threshold\">{}</failure>\n    </testcase>",
            escape(format!("{counted}; a threshold is missed")),
            escape(details(c))
        );
    } else {
        let _ = writeln!(
            x,
            ">\n      <system-out>{}</system-out>\n    </testcase>",
            escape(format!("{counted}, within the thresholds\n{}", details(c)))
        );
    }
}

fn or_dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}

fn details(c: &BoardPhase) -> String {
    let mut s = String::new();
    for f in c.first_failures.iter().take(DETAILS) {
        let _ = writeln!(
            s,
            "run {} cycle {} attempt {}: {} failed [{}] {}; HSE {}, PLLM {}, SYSCLK {} Hz, USB {} ppm, {} °C",
            f.run,
            f.cycle,
            f.attempt,
            f.failed_step,
            f.error_kind.as_deref().unwrap_or(""),
            f.error_detail,
            f.hse_verdict.as_deref().unwrap_or("not read"),
            or_dash(f.pllm),
            or_dash(f.sysclk_hz.map(|h| format!("{h:.0}"))),
            or_dash(f.usb_clock_error_ppm.map(|p| format!("{p:+.0}"))),
            or_dash(f.temperature_c)
        );
    }
    if c.failures as usize > c.first_failures.len().min(DETAILS) {
        let _ = writeln!(
            s,
            "(first {} of {} shown)",
            c.first_failures.len().min(DETAILS),
            c.failures
        );
    }
    s
}

fn thresholds(x: &mut String, r: &Report, time: f64) {
    let failed = r.thresholds.iter().filter(|t| !t.met).count();
    let all: Vec<usize> = (0..r.runs.len()).collect();
    let (host, stamp) = where_when(r, &all);
    let _ = writeln!(
        x,
        "  <testsuite name=\"thresholds\" tests=\"{}\" failures=\"{failed}\" errors=\"0\" skipped=\"0\" \
         time=\"{time:.3}\" timestamp=\"{}\" hostname=\"{}\">",
        r.thresholds.len(),
        escape(&stamp),
        escape(&host)
    );
    for t in &r.thresholds {
        let _ = write!(
            x,
            "    <testcase classname=\"thresholds\" name=\"{}\" time=\"0\"",
            escape(&t.name)
        );
        if t.met {
            let _ = writeln!(
                x,
                ">\n      <system-out>{}</system-out>\n    </testcase>",
                escape(&t.sentence)
            );
        } else {
            let _ = writeln!(
                x,
                ">\n      <failure message=\"{}\" type=\"threshold\"/>\n    </testcase>",
                escape(&t.sentence)
            );
        }
    }
    x.push_str("  </testsuite>\n");
}

fn baseline_suite(x: &mut String, r: &Report) {
    let Some(b) = &r.baseline else { return };
    let fails = regression_fails(r);
    let all: Vec<usize> = (0..r.runs.len()).collect();
    let (host, stamp) = where_when(r, &all);
    let _ = writeln!(
        x,
        "  <testsuite name=\"baseline\" tests=\"1\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"0\" \
         timestamp=\"{}\" hostname=\"{}\">",
        u8::from(fails),
        escape(&stamp),
        escape(&host)
    );
    let sentence = format!(
        "failure rate {:.2} % ({} of {}) against the baseline's {:.2} % ({} of {}): {} (one-sided Fisher p = {:.4})",
        100.0 * b.now.rate,
        b.now.k,
        b.now.n,
        100.0 * b.baseline.rate,
        b.baseline.k,
        b.baseline.n,
        if b.regression { "REGRESSION" } else { "no regression" },
        b.p_worse
    );
    let mut out = sentence.clone();
    if b.regression && !fails {
        out.push_str(" (not failing: --fail-on-regression not given)");
    }
    for w in &r.warnings {
        let _ = write!(out, "\nwarning: {w}");
    }
    let _ = write!(
        x,
        "    <testcase classname=\"baseline\" name=\"failure rate against the baseline\" time=\"0\">"
    );
    if fails {
        let _ = write!(
            x,
            "\n      <failure message=\"{}\" type=\"regression\"/>",
            escape(&sentence)
        );
    }
    let _ = writeln!(
        x,
        "\n      <system-out>{}</system-out>\n    </testcase>",
        escape(&out)
    );
    x.push_str("  </testsuite>\n");
}
