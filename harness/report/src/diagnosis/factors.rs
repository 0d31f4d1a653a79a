//! Temperature beyond the clocks, and every other recorded column: "what differs in the failing cycles".
//!
//! Each value of each generic factor ([`crate::evidence::COLUMNS`] says which column is which) is tested
//! against the rest within the strata of (board × clock state), so what a board or its clocks already
//! explain cannot be found again as a factor; a board-level property (its HSICAL, its HSE) has no variation
//! within a board and is left to the board's own test. Values with fewer than [`MIN_FAILURES`] failures are
//! not tested: they could never be named, so leaving them out of the Holm family only avoids diluting it
//! (Tarone's argument for discrete tests).

use std::collections::BTreeMap;

use super::context::{table, within, Context};
use super::wording::{adjusted, list, mh_odds, of, p_text, rate};
use super::{Cause, Kind, Link, Test, MIN_FAILURES};
use crate::evidence::{ClockState, Factor, Tally};
use crate::stats::{cochran_armitage_within, Table2x2};

/// Boots whose clocks do not explain a failure: in spec, or not read.
fn clean(c: ClockState) -> bool {
    matches!(c, ClockState::InSpec | ClockState::NotRead)
}

/// Board failures per °C among boots whose clocks were in spec (or not read).
fn temperature_levels(ctx: &Context) -> BTreeMap<i64, Tally> {
    let mut levels: BTreeMap<i64, Tally> = BTreeMap::new();
    for (&(_, c, t), n) in &ctx.cells {
        if let (Some(t), true) = (t, clean(c)) {
            *levels.entry(t).or_default() += *n;
        }
    }
    levels
}

/// The Cochran–Armitage trend of failure across temperatures among boots the clocks do not explain.
pub fn temperature_test(ctx: &Context) -> Option<Test> {
    if !ctx.temperature_varies() {
        return None;
    }
    let levels = temperature_levels(ctx);
    if levels.len() < 2 {
        return None;
    }
    let failures: u64 = levels.values().map(|t| t.board_failures).sum();
    let cycles: u64 = levels.values().map(|t| t.judged()).sum();
    if failures < MIN_FAILURES {
        return None;
    }
    // Within each board: a board that fails and happens to run hotter is the board, not the temperature.
    let mut per_board: BTreeMap<usize, BTreeMap<i64, Tally>> = BTreeMap::new();
    for (&(b, c, t), n) in &ctx.cells {
        if let (Some(t), true) = (t, clean(c)) {
            *per_board.entry(b).or_default().entry(t).or_default() += *n;
        }
    }
    let strata: Vec<(Vec<u64>, Vec<u64>, Vec<f64>)> = per_board
        .values()
        .map(|levels| {
            (
                levels.values().map(|t| t.board_failures).collect(),
                levels.values().map(|t| t.judged()).collect(),
                levels.keys().map(|&t| t as f64).collect(),
            )
        })
        .collect();
    let trend = cochran_armitage_within(&strata);
    let excess = temperature_excess(ctx, &std::collections::BTreeSet::new());
    Some(Test {
        id: "temperature".into(),
        title: "Temperature, with the clocks in spec".into(),
        boards: Vec::new(),
        method: "Cochran–Armitage trend across the temperatures within each board, boots with in-spec clocks"
            .into(),
        exposed_failures: failures,
        exposed_cycles: cycles,
        unexposed_failures: 0,
        unexposed_cycles: 0,
        odds_ratio: None,
        or_low: None,
        or_high: None,
        p_value: trend.p_value,
        log10_p: trend.log10_p,
        p_adjusted: 1.0,
        log10_p_adjusted: 0.0,
        direction: trend.direction,
        excess_failures: excess,
        significant: false,
    })
}

/// The failures temperature accounts for: on each board (but those in `leave_out`), its in-spec failures
/// beyond its rate at its best temperature.
pub fn temperature_excess(ctx: &Context, leave_out: &std::collections::BTreeSet<usize>) -> f64 {
    let mut per_board: BTreeMap<usize, BTreeMap<i64, Tally>> = BTreeMap::new();
    for (&(b, c, t), n) in &ctx.cells {
        if let (Some(t), true, false) = (t, clean(c), leave_out.contains(&b)) {
            *per_board.entry(b).or_default().entry(t).or_default() += *n;
        }
    }
    per_board
        .values()
        .map(|levels| {
            let best = levels
                .values()
                .filter(|t| t.judged() > 0)
                .map(|t| t.board_failures as f64 / t.judged() as f64)
                .fold(f64::INFINITY, f64::min);
            if !best.is_finite() {
                return 0.0;
            }
            levels
                .values()
                .map(|t| (t.board_failures as f64 - t.judged() as f64 * best).max(0.0))
                .sum::<f64>()
        })
        .sum()
}

/// Temperature accounts only for what the boards named for their own causes do not.
pub fn apportion_temperature(
    ctx: &Context,
    findings: &mut [Cause],
    named: &std::collections::BTreeSet<usize>,
) {
    for c in findings.iter_mut().filter(|c| c.id == "temperature") {
        c.failures = temperature_excess(ctx, named).round() as u64;
        if c.failures < MIN_FAILURES {
            c.kind = Kind::Anomaly;
        }
    }
}

/// The temperature cause, when its trend is named.
pub fn temperature_finding<'t>(
    ctx: &Context,
    tested: &dyn Fn(&str) -> Option<&'t Test>,
) -> Option<Cause> {
    let t = tested("temperature")?;
    if !t.significant {
        return None;
    }
    let levels = temperature_levels(ctx);
    let at = |(c, n): (&i64, &Tally)| {
        format!(
            "{} at {c} °C",
            rate(n.board_failures as f64 / n.judged().max(1) as f64)
        )
    };
    let (first, last) = (levels.iter().next()?, levels.iter().next_back()?);
    let (dir, from, to) = if t.direction > 0 {
        ("hotter", at(first), at(last))
    } else {
        ("colder", at(last), at(first))
    };
    let mut boards: Vec<usize> = Vec::new();
    for (&(b, c, temp), n) in &ctx.cells {
        if temp.is_some() && clean(c) && n.board_failures > 0 {
            boards.push(b);
        }
    }
    Some(Cause {
        id: "temperature".into(),
        kind: Kind::Cause,
        link: Link::Temperature,
        title: format!("Temperature: failures rise as it gets {dir}"),
        boards: ctx.names(boards),
        cycles: t.exposed_cycles,
        failures: t.exposed_failures,
        direction: Some(dir.into()),
        finding: format!(
            "Failures rise as it gets {dir}, on boots whose clocks were in spec (so not through the HSE \
             detection): from {from} to {to} (Cochran–Armitage trend, {}, Holm-adjusted {}).",
            p_text(t.log10_p),
            adjusted(t.log10_p_adjusted)
        ),
        remedy: format!(
            "Look for what else changes with temperature on the {dir} side: connectors, the supply, the cable."
        ),
        summary: String::new(),
        symptoms: Vec::new(),
        test: Some(t.clone()),
    })
}

/// A value of a factor for people.
fn value_text(ctx: &Context, f: Factor, v: &str) -> String {
    match f {
        Factor::Run => v
            .parse::<usize>()
            .ok()
            .and_then(|i| ctx.runs.get(i))
            .cloned()
            .unwrap_or_else(|| v.to_string()),
        _ => v.to_string(),
    }
}

/// Every value of every generic factor against the rest, within (board × clock state).
pub fn tests(ctx: &Context) -> Vec<Test> {
    let mut out = Vec::new();
    if ctx.total.board_failures == 0 {
        return out;
    }
    for (f, values) in ctx.ev.factors() {
        if values.too_many || values.values.len() < 2 {
            continue;
        }
        for (vi, v) in values.values.iter().enumerate() {
            let mut strata: Vec<Table2x2> = Vec::new();
            let mut exposed_total = Tally::default();
            for (&(b, c, t), &all) in &ctx.cells {
                let exposed = ctx.ev.factor_cell(f, vi, &(b, c, t));
                exposed_total += exposed;
                strata.push(table(exposed, all));
            }
            if exposed_total.board_failures < MIN_FAILURES {
                continue;
            }
            let informative = strata.iter().any(|t| {
                t.exposed_failed + t.exposed_passed > 0
                    && t.unexposed_failed + t.unexposed_passed > 0
            });
            if !informative {
                continue;
            }
            let (cmh, how) = within(&strata);
            let shown = value_text(ctx, f, v);
            let boards: Vec<usize> = ctx
                .cells
                .keys()
                .filter(|cell| ctx.ev.factor_cell(f, vi, cell).board_failures > 0)
                .map(|(b, _, _)| *b)
                .collect();
            out.push(Test::stratified(
                format!("factor:{}={shown}", column(f)),
                format!("{} = {shown}", f.name()),
                ctx.names(boards),
                format!("{how} within board × clock state × temperature"),
                (exposed_total.board_failures, exposed_total.judged()),
                (
                    ctx.total.board_failures - exposed_total.board_failures,
                    ctx.total.judged() - exposed_total.judged(),
                ),
                &cmh,
            ));
        }
    }
    out
}

/// The cycles.csv column a factor comes from.
fn column(f: Factor) -> &'static str {
    crate::evidence::COLUMNS
        .iter()
        .find(|(_, r)| *r == crate::evidence::Role::Generic(f))
        .map_or("run", |(c, _)| c)
}

/// The named factor values, one cause per column. Values of different columns that pick out exactly the
/// same cycles (a phase that is the whole of one run) are one finding, under the first column.
pub fn findings(tests: &[Test]) -> Vec<Cause> {
    let mut by_column: BTreeMap<String, Vec<&Test>> = BTreeMap::new();
    // Same excess and same p within the strata: the same cycles where it counts, whatever the raw counts.
    let mut seen: Vec<(i64, i64)> = Vec::new();
    let mut significant: Vec<&Test> = tests.iter().filter(|t| t.significant).collect();
    significant.sort_by(|a, b| a.id.cmp(&b.id));
    for t in significant {
        let key = (
            t.excess_failures.round() as i64,
            (t.log10_p * 1000.0).round() as i64,
        );
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        if let Some(rest) = t.id.strip_prefix("factor:") {
            let col = rest.split('=').next().unwrap_or(rest).to_string();
            by_column.entry(col).or_default().push(t);
        }
    }
    by_column
        .into_iter()
        .map(|(col, ts)| {
            let parts: Vec<String> = ts
                .iter()
                .map(|t| {
                    let odds = mh_odds(
                        t.odds_ratio,
                        "no failure without it in the same board and clock state",
                    );
                    format!(
                        "{}: {} failed against {} otherwise, {} more failures than the boards and their clocks \
                         predict ({odds}, {}, Holm-adjusted {})",
                        t.title,
                        of(t.exposed_failures, t.exposed_cycles),
                        of(t.unexposed_failures, t.unexposed_cycles),
                        t.excess_failures.round(),
                        p_text(t.log10_p),
                        adjusted(t.log10_p_adjusted)
                    )
                })
                .collect();
            let mut boards: Vec<String> = ts.iter().flat_map(|t| t.boards.clone()).collect();
            boards.sort();
            boards.dedup();
            Cause {
                id: format!("factor:{col}"),
                kind: Kind::Cause,
                link: Link::Factor,
                title: format!("Recorded column {col}"),
                boards,
                cycles: ts.iter().map(|t| t.exposed_cycles).sum(),
                failures: ts.iter().map(|t| t.excess_failures.max(0.0).round() as u64).sum(),
                direction: None,
                finding: format!(
                    "A recorded factor nobody named differs in the failing cycles — {}.",
                    list(&parts)
                ),
                remedy: format!("Find out what changes with {col} on the rig."),
                summary: String::new(),
                symptoms: Vec::new(),
                test: ts.first().map(|t| (*t).clone()),
            }
        })
        .collect()
}
