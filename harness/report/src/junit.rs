//! junit.xml for CI systems: one test suite per board, one test case per board and phase (failed when any
//! of its cycles failed, with the first failures' details), and a suite for the pass thresholds.

use std::fmt::Write;

use quick_xml::escape::escape;

use crate::model::Report;

/// Failures detailed per test case.
const DETAILS: usize = 10;

pub fn render(r: &Report) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    // Totals over every test case: one per board and phase, one per threshold.
    let tests = r.board_phases.len() + r.thresholds.len();
    let failures = r.board_phases.iter().filter(|p| p.failures > 0).count()
        + r.thresholds.iter().filter(|t| !t.met).count();
    let _ = writeln!(
        x,
        "<testsuites name=\"hil soak\" tests=\"{tests}\" failures=\"{failures}\">"
    );
    for b in &r.boards {
        suite(&mut x, r, &b.row.name);
    }
    thresholds(&mut x, r);
    x.push_str("</testsuites>\n");
    x
}

fn suite(x: &mut String, r: &Report, board: &str) {
    let cases: Vec<(&str, u64, u64)> = phases_of(r, board);
    let failed = cases.iter().filter(|c| c.2 > 0).count();
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">",
        escape(board),
        cases.len()
    );
    for (phase, cycles, fails) in cases {
        let name = format!("{board} / {phase}");
        let _ = write!(
            x,
            "    <testcase classname=\"{}\" name=\"{}\"",
            escape(board),
            escape(&name)
        );
        if fails == 0 {
            let _ = writeln!(x, "/>");
            continue;
        }
        let message = format!("{fails} of {cycles} cycles failed");
        let _ = writeln!(
            x,
            ">\n      <failure message=\"{}\" type=\"soak\">{}</failure>\n    </testcase>",
            escape(&message),
            escape(details(r, board, phase))
        );
    }
    x.push_str("  </testsuite>\n");
}

/// (phase, cycles, failures) of `board`, in phase order.
fn phases_of<'a>(r: &'a Report, board: &str) -> Vec<(&'a str, u64, u64)> {
    r.board_phases
        .iter()
        .filter(|p| p.board == board)
        .map(|p| (p.phase.as_str(), p.cycles, p.failures))
        .collect()
}

fn details(r: &Report, board: &str, phase: &str) -> String {
    let mut s = String::new();
    let kept = r
        .drilldown
        .iter()
        .filter(|f| f.cycle.board == board && f.cycle.phase == phase)
        .take(DETAILS);
    for f in kept {
        let c = &f.cycle;
        let _ = writeln!(
            s,
            "cycle {} attempt {}: {} failed [{}] {}; PLLM {} USB {} ppm",
            c.cycle,
            c.attempt,
            c.failed_step,
            c.error_kind.map_or("", |k| k.name()),
            c.error_detail,
            c.pllm.map_or("-".into(), |m| m.to_string()),
            c.usb_clock_error_ppm
                .map_or("-".into(), |p| format!("{p:+.0}"))
        );
    }
    s
}

fn thresholds(x: &mut String, r: &Report) {
    let failed = r.thresholds.iter().filter(|t| !t.met).count();
    let _ = writeln!(
        x,
        "  <testsuite name=\"thresholds\" tests=\"{}\" failures=\"{failed}\">",
        r.thresholds.len()
    );
    for t in &r.thresholds {
        let _ = write!(
            x,
            "    <testcase classname=\"thresholds\" name=\"{}\"",
            escape(&t.name)
        );
        if t.met {
            let _ = writeln!(x, "/>");
        } else {
            let m = &t.sentence;
            let _ = writeln!(
                x,
                ">\n      <failure message=\"{}\" type=\"threshold\"/>\n    </testcase>",
                escape(m)
            );
        }
    }
    x.push_str("  </testsuite>\n");
}
