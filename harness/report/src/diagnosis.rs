//! The diagnosis: every candidate cause as a 2x2 association with failure (Fisher's exact test, odds ratio,
//! phi), ranked by strength; the top one stated in plain words with its numbers, or a plain statement that
//! nothing explains the failures. Candidates: HSE misdetection, temperature, a particular board, the
//! infrastructure (rig, probe, host), serial-number and option-byte anomalies.

use serde::Serialize;

use records::{Counts, HseVerdict, OptionBytesCheck};

use crate::aggregate::Aggregate;
use crate::format::{pct, thousands};
use crate::stats::{fisher, Association, Table2x2};

/// A cause must reach this p-value, and explain at least this many failures, to be named.
const ALPHA: f64 = 0.01;
const MIN_FAILURES: u64 = 3;

/// One candidate cause.
#[derive(Debug, Clone, Serialize)]
pub struct Cause {
    /// Stable id: `hse_misdetection`, `temperature`, `board:<name>`, `infrastructure`, `serial`, `option_bytes`.
    pub id: String,
    pub title: String,
    pub association: Association,
    /// Significant (p < 0.01 with at least 3 failures exposed).
    pub significant: bool,
    /// One sentence with the numbers.
    pub finding: String,
}

fn table(exposed: Counts, all: Counts) -> Table2x2 {
    Table2x2 {
        exposed_failed: exposed.failures,
        exposed_passed: exposed.cycles - exposed.failures,
        unexposed_failed: all.failures - exposed.failures,
        unexposed_passed: (all.cycles - all.failures) - (exposed.cycles - exposed.failures),
    }
}

fn cause(id: String, title: String, exposed: Counts, all: Counts, finding: String) -> Cause {
    let association = fisher(table(exposed, all));
    let significant =
        association.p_value < ALPHA && exposed.failures >= MIN_FAILURES && association.phi > 0.0;
    Cause {
        id,
        title,
        association,
        significant,
        finding,
    }
}

fn p_text(a: &Association) -> String {
    match a.log10_p {
        l if l < -15.0 => "p < 1e-15".into(),
        l if l < -4.0 => format!("p = 1e{:.0}", l.floor()),
        _ => format!("p = {:.4}", a.p_value),
    }
}

fn or_text(a: &Association) -> String {
    let f = |x: f64| {
        if x >= 100.0 {
            thousands(x)
        } else {
            format!("{x:.1}")
        }
    };
    if a.odds_ratio.is_finite() {
        format!(
            "odds ratio {} [95 % CI {}–{}]",
            f(a.odds_ratio),
            f(a.or_low),
            f(a.or_high)
        )
    } else {
        format!(
            "odds ratio ∞, no failure without it [95 % CI from {}]",
            f(a.or_low)
        )
    }
}

/// Every candidate, strongest first (significant ones before the rest).
pub fn causes(agg: &Aggregate, usb_tolerance_ppm: f64) -> Vec<Cause> {
    let all = agg.total;
    let mut out = Vec::new();
    out.extend(hse(agg, all, usb_tolerance_ppm));
    out.extend(temperature(agg, all));
    out.extend(board(agg, all));
    out.extend(infrastructure(agg, all));
    let mut serial_bad = agg.serial.different;
    serial_bad += agg.serial.unreadable;
    if serial_bad.cycles > 0 {
        let f = "cycles whose USB serial number was unreadable or differed from ST's formula for the UID";
        out.push(cause(
            "serial".into(),
            "Serial-number anomalies".into(),
            serial_bad,
            all,
            f.into(),
        ));
    }
    if let Some(&bad) = agg.option_bytes.get(&OptionBytesCheck::Mismatch) {
        let f = "cycles whose option bytes over DFU disagreed with FLASH_OPTCR/OPTCR1";
        out.push(cause(
            "option_bytes".into(),
            "Option-byte anomalies".into(),
            bad,
            all,
            f.into(),
        ));
    }
    out.sort_by(|a, b| {
        (b.significant, b.association.phi)
            .partial_cmp(&(a.significant, a.association.phi))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    out
}

fn hse(agg: &Aggregate, all: Counts, usb_tolerance_ppm: f64) -> Option<Cause> {
    let mis = *agg.verdicts.get(&Some(HseVerdict::Misdetected))?;
    let c = cause(
        "hse_misdetection".into(),
        "HSE misdetected by the bootloader".into(),
        mis,
        all,
        String::new(),
    );
    let mut kinds: Vec<_> = agg
        .misdetections
        .iter()
        .filter(|(_, (n, _))| n.failures > 0)
        .collect();
    kinds.sort_by_key(|(_, (n, _))| std::cmp::Reverse(n.failures));
    let kinds: Vec<String> = kinds
        .iter()
        .map(|((hse, pllm), (n, ppm_sum))| {
            let ppm = ppm_sum / n.cycles.max(1) as f64;
            let sign = if ppm >= 0.0 { "+" } else { "" };
            format!(
                "PLLM={pllm} on a {hse} MHz board, USB at {sign}{} ppm ({} failures)",
                thousands(ppm),
                n.failures
            )
        })
        .collect();
    let a = &c.association;
    let finding = format!(
        "{} of failures happened on boots where the bootloader misdetected the HSE ({}, {}): {}. \
         That is far outside USB full speed's ±{} ppm. This is the HSE misdetection described in AN2606: the \
         bootloader measures HSE against HSI, and an HSI off by more than about 1 % makes it pick the wrong PLL \
         divider. A lower-frequency HSE (8 MHz) or an HSI within 1 % avoids it.",
        pct(a.share_of_failures),
        or_text(a),
        p_text(a),
        if kinds.is_empty() { "none of them failed".to_string() } else { kinds.join("; ") },
        thousands(usb_tolerance_ppm),
    );
    Some(Cause { finding, ..c })
}

fn temperature(agg: &Aggregate, all: Counts) -> Option<Cause> {
    // Only testable when boards ran at several temperatures: otherwise "temperature" is just which board.
    let varied = agg
        .board_temperatures()
        .iter()
        .any(|(_, points)| points.len() > 1);
    if agg.temperature.len() < 2 || !varied {
        return None;
    }
    let temps: Vec<(i64, Counts)> = agg.temperature.iter().map(|(t, c)| (*t, *c)).collect();
    let split = temps[temps.len() / 2].0;
    let hot =
        temps
            .iter()
            .filter(|(t, _)| *t >= split)
            .fold(Counts::default(), |mut acc, (_, c)| {
                acc.cycles += c.cycles;
                acc.failures += c.failures;
                acc
            });
    let mut c = cause(
        "temperature".into(),
        format!("Temperature ≥ {split} °C"),
        hot,
        all,
        String::new(),
    );
    let a = &c.association;
    c.finding = format!(
        "At {split} °C and above the failure rate is {} against {} below ({}, {}).",
        pct(a.exposed_rate.rate),
        pct(a.unexposed_rate.rate),
        or_text(a),
        p_text(a)
    );
    Some(c)
}

fn board(agg: &Aggregate, all: Counts) -> Option<Cause> {
    if agg.boards().len() < 2 {
        return None;
    }
    let boards = agg.boards();
    let candidates = boards.iter().map(|b| {
        let name = &b.name;
        cause(
            format!("board:{name}"),
            format!("Board {name}"),
            b.counts,
            all,
            String::new(),
        )
    });
    let mut best = candidates.max_by(|a, b| {
        a.association
            .phi
            .partial_cmp(&b.association.phi)
            .unwrap_or(std::cmp::Ordering::Equal)
    })?;
    let a = &best.association;
    best.finding = format!(
        "{} fails {} of its cycles against {} on the other boards ({}, {}).",
        best.title,
        pct(a.exposed_rate.rate),
        pct(a.unexposed_rate.rate),
        or_text(a),
        p_text(a)
    );
    Some(best)
}

fn infrastructure(agg: &Aggregate, all: Counts) -> Option<Cause> {
    let infra: u64 = agg.boards().iter().map(|b| b.infrastructure_failures).sum();
    if infra == 0 {
        return None;
    }
    let share = infra as f64 / all.failures.max(1) as f64;
    let exposed = Counts {
        cycles: infra,
        failures: infra,
    };
    let mut c = cause(
        "infrastructure".into(),
        "Rig, probe or host (infrastructure)".into(),
        exposed,
        all,
        String::new(),
    );
    // A failure class, not an exposure: significant when it is most of the failures.
    c.significant = share >= 0.5 && infra >= MIN_FAILURES;
    c.finding = format!(
        "{} of failures are the rig's, the probe's or the host's, not the board's: check cables, hubs and the rig \
         controller before blaming the boards.",
        pct(share)
    );
    Some(c)
}

/// The one-paragraph diagnosis.
pub fn paragraph(agg: &Aggregate, causes: &[Cause]) -> String {
    if agg.total.failures == 0 {
        return format!(
            "No failures in {} cycles: there is no cause to name.",
            agg.total.cycles
        );
    }
    let Some(top) = causes.iter().find(|c| c.significant) else {
        return format!(
            "{} failures in {} cycles, but no factor the harness records explains them: no candidate (HSE detection, \
             temperature, board, infrastructure, serial or option-byte anomalies) is associated with failure at \
             p < 0.01. Look at the drill-down for a pattern the records do not capture.",
            agg.total.failures, agg.total.cycles
        );
    };
    let mut text = top.finding.clone();
    let also: Vec<&Cause> = causes
        .iter()
        .filter(|c| c.significant && c.id != top.id)
        .collect();
    if top.id == "hse_misdetection" && also.iter().any(|c| c.id == "temperature") {
        text.push_str(" Temperature is associated with failure too, as expected if it drives the HSI drift behind the misdetection.");
    }
    if let Some(step) = agg.failed_steps.iter().max_by_key(|(_, n)| **n) {
        text.push_str(&format!(
            " Failures happen most at the {} step ({} of {}).",
            step.0, step.1, agg.total.failures
        ));
    }
    text
}
