//! The diagnosis, reasoned as a reliability engineer would, along the causal chain the harness records:
//! clock state → link errors → failed transfers → failed steps.
//!
//! 1. **Clock state** first ([`clocks`]): boots whose HSE the bootloader misdetected, boots whose USB clock
//!    is out of tolerance although the HSE was detected right (other PLL factors), and boots where the
//!    bootloader did not configure the clocks at all. Each is a defect against the specification by itself,
//!    so it is reported even without a failure (an anomaly) and even when it is on every boot (no contrast
//!    needed); when failures go with it (Fisher's exact test against the other boots), it is a cause. What
//!    drives it (a temperature trend) and what follows from it (unreadable serials, failed option-byte
//!    reads on those boots) are stated with it as its driver and its symptoms.
//! 2. **Temperature** ([`factors`]): a Cochran–Armitage trend across the temperature levels among boots whose
//!    clocks were in spec, in either direction, so a temperature effect the clocks do not explain is found.
//! 3. **Boards and their links** ([`boards`]): every board against the others *within the clock states*
//!    (Cochran–Mantel–Haenszel), so a board is named only when it fails beyond what its clocks explain; with
//!    transfer errors it is its USB link (cable, hub port), with its own errors the board (a ROM or layout
//!    difference, read protection). Failures on in-spec boots spread over the boards alike are named as a
//!    common cause, not pinned on one board.
//! 4. **Every other recorded column** ([`factors`]): each value against the rest within (board × clock
//!    state), as "what differs in the failing cycles" views do, so a factor nobody anticipated is found.
//! 5. **Infrastructure** ([`boards`]): failures of the rig, probe or host, never counted against a board.
//! 6. **Observations** ([`symptoms`]): serial numbers and option bytes, as symptoms of a cause or as
//!    anomalies of their own (a consistent serial variant is benign; non-factory or inconsistent option
//!    bytes, read protection, boot addresses against the specification).
//!
//! Every contrast (clock states, temperature, every board, every factor value) is one family under Holm's
//! adjustment; a contrast is named at adjusted p < [`ALPHA`] with at least [`MIN_FAILURES`] failures it
//! accounts for. Causes are ranked by the failures they account for, ties by their place in the chain and
//! then by name — never by the order they were tested in.

pub(crate) mod bands;
mod boards;
mod clocks;
mod context;
mod factors;
mod symptoms;
#[cfg(test)]
mod tests;
pub mod wording;

use serde::Serialize;

use crate::aggregate::Aggregate;
use crate::stats::holm_log10;
use context::Context;

/// A contrast is named when its Holm-adjusted p-value is below this...
pub const ALPHA: f64 = 0.01;
/// ...and it accounts for at least this many failures.
pub const MIN_FAILURES: u64 = 3;

/// Whether a finding explains failures or is a defect found without (or beside) them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Cause,
    Anomaly,
}

/// Where a finding sits in the causal chain; ranks ties by meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    Clock,
    Temperature,
    Board,
    Factor,
    Infrastructure,
    Observation,
}

/// One tested contrast: a row of the candidates table.
#[derive(Debug, Clone, Serialize)]
pub struct Test {
    pub id: String,
    pub title: String,
    pub boards: Vec<String>,
    /// How it was tested, in words.
    pub method: String,
    pub exposed_failures: u64,
    pub exposed_cycles: u64,
    pub unexposed_failures: u64,
    pub unexposed_cycles: u64,
    /// Pooled or Mantel–Haenszel odds ratio with its interval (null when there is none; the string "inf"
    /// when it is infinite, as when no cycle failed without it).
    #[serde(serialize_with = "finite_or_inf")]
    pub odds_ratio: Option<f64>,
    #[serde(serialize_with = "finite_or_inf")]
    pub or_low: Option<f64>,
    #[serde(serialize_with = "finite_or_inf")]
    pub or_high: Option<f64>,
    pub p_value: f64,
    pub log10_p: f64,
    /// Holm-adjusted over every contrast of the diagnosis.
    pub p_adjusted: f64,
    pub log10_p_adjusted: f64,
    /// +1 more failures with it (or rising with the level), -1 fewer (falling).
    pub direction: i8,
    /// Failures beyond what the strata predict (the exposed failures for an unstratified test).
    pub excess_failures: f64,
    /// Named: adjusted p < ALPHA, direction +1 (or any direction for a trend), enough failures.
    pub significant: bool,
}

/// A number as JSON: itself when finite, "inf" when +∞ ("-inf" when −∞), null when absent or NaN.
fn finite_or_inf<S: serde::Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(v) if v.is_finite() => s.serialize_f64(*v),
        Some(v) if *v == f64::INFINITY => s.serialize_str("inf"),
        Some(v) if *v == f64::NEG_INFINITY => s.serialize_str("-inf"),
        _ => s.serialize_none(),
    }
}

impl Test {
    /// A contrast tested within strata (a board, a factor value), before the Holm adjustment decides it.
    #[allow(clippy::too_many_arguments)]
    fn stratified(
        id: String,
        title: String,
        boards: Vec<String>,
        method: String,
        exposed: (u64, u64),
        unexposed: (u64, u64),
        cmh: &crate::stats::Stratified,
    ) -> Test {
        Test {
            id,
            title,
            boards,
            method,
            exposed_failures: exposed.0,
            exposed_cycles: exposed.1,
            unexposed_failures: unexposed.0,
            unexposed_cycles: unexposed.1,
            odds_ratio: (!cmh.odds_ratio.is_nan()).then_some(cmh.odds_ratio),
            or_low: None,
            or_high: None,
            p_value: cmh.p_value,
            log10_p: cmh.log10_p,
            p_adjusted: 1.0,
            log10_p_adjusted: 0.0,
            direction: if cmh.excess_failures > 0.0 { 1 } else { -1 },
            excess_failures: cmh.excess_failures,
            significant: false,
        }
    }

    fn decide(&mut self, p_adjusted_log10: f64, trend: bool) {
        self.log10_p_adjusted = p_adjusted_log10;
        self.p_adjusted = 10f64.powf(p_adjusted_log10);
        let direction_ok = trend || self.direction > 0;
        self.significant = p_adjusted_log10 < ALPHA.log10()
            && direction_ok
            && self.excess_failures.abs() >= MIN_FAILURES as f64;
    }
}

/// A named finding: a cause of failures or an anomaly, with its boards, numbers and what to do.
#[derive(Debug, Clone, Serialize)]
pub struct Cause {
    /// Stable id: `hse_misdetection`, `pll_factors`, `bootloader_not_running`, `hse_out_of_range`,
    /// `temperature`, `link`, `board`, `shared_cause`, `rdp`, `factor:<column>`, `infrastructure`, `serial_variant`,
    /// `serial_varies`, `serial_intermittent`, `option_bytes_mismatch`, `option_bytes_not_factory`,
    /// `boot_address`.
    pub id: String,
    pub kind: Kind,
    pub link: Link,
    pub title: String,
    /// The boards it affects, by name.
    pub boards: Vec<String>,
    /// Cycles with it, and the failures it accounts for.
    pub cycles: u64,
    pub failures: u64,
    /// Rising or falling, when it has a direction: "hotter", "colder", ...
    pub direction: Option<String>,
    /// What the data says, every number from the data.
    pub finding: String,
    /// The finding in one sentence, for the headline paragraph (the finding itself when that is short).
    pub summary: String,
    /// What to do about it.
    pub remedy: String,
    /// What follows from it, explained away.
    pub symptoms: Vec<String>,
    /// The contrast behind it, when there is one.
    pub test: Option<Test>,
}

impl Cause {
    /// What the headline paragraph says of it.
    pub fn headline(&self) -> &str {
        if self.summary.is_empty() {
            &self.finding
        } else {
            &self.summary
        }
    }
}

/// The diagnosis: the paragraph, the named findings strongest first, every contrast tested.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub paragraph: String,
    pub findings: Vec<Cause>,
    pub candidates: Vec<Test>,
}

/// Diagnose the aggregate. `runs` names each run folder by its index (for the run factor).
pub fn diagnose(agg: &Aggregate, usb_tolerance_ppm: f64, runs: &[String]) -> Diagnosis {
    let ctx = Context::new(agg, usb_tolerance_ppm, runs);
    let mut tests: Vec<(Test, bool)> = Vec::new();
    tests.extend(clocks::tests(&ctx).into_iter().map(|t| (t, false)));
    tests.extend(factors::temperature_test(&ctx).map(|t| (t, true)));
    tests.extend(boards::tests(&ctx).into_iter().map(|t| (t, false)));
    tests.extend(factors::tests(&ctx).into_iter().map(|t| (t, false)));
    let adjusted = holm_log10(&tests.iter().map(|(t, _)| t.log10_p).collect::<Vec<_>>());
    for ((t, trend), adj) in tests.iter_mut().zip(adjusted) {
        t.decide(adj, *trend);
    }
    let tests: Vec<Test> = tests.into_iter().map(|(t, _)| t).collect();
    let tested = |id: &str| tests.iter().find(|t| t.id == id);

    let mut findings = Vec::new();
    findings.extend(clocks::findings(&ctx, &tested));
    findings.extend(factors::temperature_finding(&ctx, &tested));
    let named_boards = boards::findings(&ctx, &tested, &mut findings);
    clocks::apportion(&ctx, &mut findings, &named_boards);
    factors::apportion_temperature(&ctx, &mut findings, &named_boards);
    findings.extend(factors::findings(&tests));
    findings.extend(boards::infrastructure(&ctx));
    symptoms::attach(&ctx, &mut findings, &named_boards);
    findings.sort_by(|a, b| {
        (
            a.kind,
            std::cmp::Reverse(a.failures),
            a.link,
            &a.id,
            &a.boards,
        )
            .cmp(&(
                b.kind,
                std::cmp::Reverse(b.failures),
                b.link,
                &b.id,
                &b.boards,
            ))
    });
    let mut candidates = tests;
    candidates.sort_by(|a, b| {
        (!a.significant, a.log10_p_adjusted, &a.id)
            .partial_cmp(&(!b.significant, b.log10_p_adjusted, &b.id))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Diagnosis {
        paragraph: paragraph(&ctx, &findings),
        findings,
        candidates,
    }
}

/// The headline paragraph: every cause with its boards, then the anomalies, then where failures happen.
fn paragraph(ctx: &Context, findings: &[Cause]) -> String {
    let total = ctx.agg.total;
    let causes: Vec<&Cause> = findings.iter().filter(|c| c.kind == Kind::Cause).collect();
    let anomalies: Vec<&Cause> = findings
        .iter()
        .filter(|c| c.kind == Kind::Anomaly)
        .collect();
    let mut text = if total.failures == 0 {
        format!(
            "No failures in {} cycles.",
            crate::format::thousands(total.cycles as f64)
        )
    } else {
        match causes.len() {
            0 => format!(
                "{} failed cycles of {}, but no factor the harness records explains them: no clock state, \
                 temperature, board, link, recorded column or rig failure is associated with failure at \
                 Holm-adjusted p < {ALPHA} with at least {MIN_FAILURES} failures. Look at the drill-down for \
                 a pattern the records do not capture.",
                total.failures, total.cycles
            ),
            1 => format!(
                "{} {} in {} cycles, one cause:",
                total.failures,
                if total.failures == 1 { "failure" } else { "failures" },
                total.cycles
            ),
            n => format!(
                "{} failures in {} cycles, {n} causes, strongest first:",
                total.failures, total.cycles
            ),
        }
    };
    for (i, c) in causes.iter().enumerate() {
        let number = if causes.len() > 1 {
            format!("({}) ", i + 1)
        } else {
            String::new()
        };
        text.push_str(&format!(" {number}{}", c.headline()));
        if !c.symptoms.is_empty() {
            text.push_str(&format!(" Symptoms of it: {}.", c.symptoms.join("; ")));
        }
    }
    if !anomalies.is_empty() {
        let lead = if total.failures == 0 || causes.is_empty() {
            " Anomalies found:"
        } else {
            " Also found, beside the failures:"
        };
        text.push_str(lead);
        for a in &anomalies {
            text.push_str(&format!(" {}", a.headline()));
        }
    } else if total.failures == 0 {
        text.push_str(" No anomaly either: nothing to name.");
    }
    // Where the boards fail (the rig's failures are its own finding).
    let mut steps: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for e in &ctx.ev.boards {
        for (s, n) in &e.failed_steps {
            *steps.entry(s.as_str()).or_default() += n;
        }
    }
    if let Some((step, n)) = steps
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
    {
        text.push_str(&format!(
            " The boards' failures happen most at the {step} step ({n} of {}).",
            ctx.total.board_failures
        ));
    }
    text
}
