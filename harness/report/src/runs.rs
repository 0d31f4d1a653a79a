//! The runs of a report apart: how boards of different rigs or hosts are named, each run judged by its own
//! manifest's thresholds (the report passes when every run does, whatever the order they were given in),
//! the per-run and per run × board rows, the trend chart and the baseline's warnings.

use std::collections::BTreeSet;

use records::{Counts, Manifest};

use crate::aggregate::Aggregate;
use crate::build::point;
use crate::charts::{self, RatePoint};
use crate::model::{RunBoard, Threshold};
use crate::stats::wilson;

/// Each run judged, and what follows for the report.
#[derive(Debug, Clone, Default)]
pub struct Verdicts {
    /// Per run (in the order given): what its boards' names end with, if anything.
    pub suffixes: Vec<Option<String>>,
    /// Per run: its thresholds met.
    pub met: Vec<bool>,
    /// Every run's thresholds, runs in the order given.
    pub thresholds: Vec<Threshold>,
    /// Boards (as named in the report) with failures in a run that missed a threshold that counts them:
    /// the run's failure rate, or the board's own limit.
    pub implicated: BTreeSet<String>,
}

/// Per run: the suffix of its boards' names. None for every run when all come from one rig on one host,
/// or when `same_boards`; else `@host` (`@rig` when they share a host, `@host/rig` when both vary).
pub fn suffixes(manifests: &[Manifest], same_boards: bool) -> Vec<Option<String>> {
    let benches: BTreeSet<(&str, &str)> = manifests
        .iter()
        .map(|m| (m.host.as_str(), m.rig.as_str()))
        .collect();
    if same_boards || benches.len() < 2 {
        return vec![None; manifests.len()];
    }
    let hosts: BTreeSet<&str> = benches.iter().map(|b| b.0).collect();
    manifests
        .iter()
        .map(|m| {
            Some(match hosts.len() {
                1 => format!("@{}", m.rig),
                n if n == benches.len() => format!("@{}", m.host),
                _ => format!("@{}/{}", m.host, m.rig),
            })
        })
        .collect()
}

/// Run `i`'s boards, by name, with their counts.
fn boards_of(agg: &Aggregate, i: usize) -> Vec<(String, Counts)> {
    let mut v: Vec<(String, Counts)> = agg
        .run(i)
        .boards
        .iter()
        .map(|(&b, &c)| (agg.board_at(b).name.clone(), c))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Judge every run by its own manifest's thresholds.
pub fn judge_runs(
    agg: &Aggregate,
    manifests: &[Manifest],
    folders: &[String],
    suffixes: Vec<Option<String>>,
) -> Verdicts {
    let mut v = Verdicts {
        suffixes,
        ..Verdicts::default()
    };
    let several = manifests.len() > 1;
    for (i, m) in manifests.iter().enumerate() {
        let boards = boards_of(agg, i);
        let j = records::judge(&m.thresholds, boards.iter().map(|(n, c)| (n.as_str(), *c)));
        let total = agg.run(i).counts;
        v.met.push(j.met());
        let failing = || boards.iter().filter(|b| b.1.failures > 0);
        let mut checks = j.checks.into_iter();
        if let Some(c) = checks.next() {
            if !c.met {
                v.implicated.extend(failing().map(|b| b.0.clone()));
            }
            v.thresholds.push(Threshold {
                run: folders[i].clone(),
                name: named(several, &folders[i], &c.name),
                board: None,
                met: c.met,
                sentence: c.sentence,
                max_failure_rate_fraction: Some(m.thresholds.max_failure_rate),
                failure_rate_fraction: Some(total.rate()),
                max_failures: None,
                failures: total.failures,
                cycles: total.cycles,
                limit_text: c.limit,
                value_text: c.value,
            });
        }
        for (c, (board, counts)) in checks.zip(&boards) {
            if !c.met {
                v.implicated.insert(board.clone());
            }
            v.thresholds.push(Threshold {
                run: folders[i].clone(),
                name: named(several, &folders[i], &c.name),
                board: Some(board.clone()),
                met: c.met,
                sentence: c.sentence,
                max_failure_rate_fraction: None,
                failure_rate_fraction: None,
                max_failures: m.thresholds.max_failures_per_board,
                failures: counts.failures,
                cycles: counts.cycles,
                limit_text: c.limit,
                value_text: c.value,
            });
        }
    }
    v
}

fn named(several: bool, folder: &str, name: &str) -> String {
    match several {
        true => format!("{folder}: {name}"),
        false => name.to_string(),
    }
}

/// Run indices in start order (ties in the order given).
pub fn start_order(manifests: &[Manifest]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..manifests.len()).collect();
    order.sort_by(|&a, &b| manifests[a].started_utc.cmp(&manifests[b].started_utc));
    order
}

/// Each board of each run, runs in start order; empty for one run.
pub fn run_boards(agg: &Aggregate, order: &[usize], folders: &[String]) -> Vec<RunBoard> {
    if order.len() < 2 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for &i in order {
        out.extend(boards_of(agg, i).into_iter().map(|(board, c)| RunBoard {
            run: folders[i].clone(),
            board,
            cycles: c.cycles,
            failures: c.failures,
            rate: wilson(c.failures, c.cycles),
        }));
    }
    out
}

/// The trend chart: each board's failure rate per run, runs in start order; empty for one run.
pub fn trend_chart(
    agg: &Aggregate,
    manifests: &[Manifest],
    order: &[usize],
    folders: &[String],
) -> String {
    if order.len() < 2 {
        return String::new();
    }
    let mut series: Vec<(String, Vec<RatePoint>)> = agg
        .boards()
        .iter()
        .map(|b| (b.name.clone(), Vec::new()))
        .collect();
    for (x, &i) in order.iter().enumerate() {
        for (board, c) in boards_of(agg, i) {
            if let Some(s) = series.iter_mut().find(|s| s.0 == board) {
                s.1.push(point(c, x as f64));
            }
        }
    }
    charts::rate_per_run(&start_labels(manifests, order, folders), &series)
}

/// Each run's x label: its start date (`11-30`), with the time when two runs share a day (`11-30 02:00`),
/// or its folder when the start cannot be read.
fn start_labels(manifests: &[Manifest], order: &[usize], folders: &[String]) -> Vec<String> {
    let start = |i: usize| {
        manifests[i]
            .started_utc
            .get(5..16)
            .map(|s| s.replace('T', " "))
    };
    let days: BTreeSet<Option<String>> = order
        .iter()
        .map(|&i| start(i).map(|s| s[..5].to_string()))
        .collect();
    let with_time = days.len() < order.len();
    order
        .iter()
        .map(|&i| match start(i) {
            Some(s) if with_time => s,
            Some(s) => s[..5].to_string(),
            None => folders[i].clone(),
        })
        .collect()
}

/// A manifest's field, as text.
type Field = fn(&Manifest) -> &str;

/// Why a comparison with `baseline` may mislead: it ran another scenario or on another rig or host.
pub fn baseline_warnings(runs: &[Manifest], baseline: &[Manifest]) -> Vec<String> {
    let set = |ms: &[Manifest], f: Field| -> BTreeSet<String> {
        ms.iter().map(|m| f(m).to_string()).collect()
    };
    let mut out = Vec::new();
    if baseline.is_empty() {
        return out;
    }
    let fields: [(&str, Field); 3] = [
        ("scenario", |m| &m.scenario),
        ("rig", |m| &m.rig),
        ("host", |m| &m.host),
    ];
    for (what, f) in fields {
        let (now, before) = (set(runs, f), set(baseline, f));
        if now != before {
            out.push(format!(
                "the baseline ran {what} {} but this report {what} {}: the comparison may reflect the \
                 difference, not a regression",
                join(&before),
                join(&now)
            ));
        }
    }
    out
}

fn join(s: &BTreeSet<String>) -> String {
    s.iter().cloned().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use records::{RunStatus, Thresholds};
    use rstest::rstest;

    fn manifest(host: &str, rig: &str, started_utc: &str) -> Manifest {
        Manifest {
            schema: records::MANIFEST_SCHEMA,
            harness_version: "0".into(),
            scenario: "s".into(),
            scenario_file: "s.toml".into(),
            rig: rig.into(),
            rig_file: "r.toml".into(),
            boards: vec![],
            seed: 1,
            host: host.into(),
            thresholds: Thresholds::default(),
            usb_tolerance_ppm: 2500.0,
            started_utc: started_utc.into(),
            ended_utc: None,
            status: RunStatus::Finished,
            stop_reason: None,
            resumed: 0,
            phases_not_run: Vec::new(),
            instruments: Vec::new(),
        }
    }

    #[rstest]
    #[case::one_bench(&[("a", "r"), ("a", "r")], false, &[None, None])]
    #[case::two_hosts(&[("a", "r"), ("b", "r")], false, &[Some("@a"), Some("@b")])]
    #[case::two_rigs_one_host(&[("a", "r"), ("a", "q")], false, &[Some("@r"), Some("@q")])]
    #[case::both_vary(&[("a", "r"), ("a", "q"), ("b", "r")], false, &[Some("@a/r"), Some("@a/q"), Some("@b/r")])]
    #[case::same_boards(&[("a", "r"), ("b", "r")], true, &[None, None])]
    fn boards_are_kept_apart_by_bench(
        #[case] benches: &[(&str, &str)],
        #[case] same_boards: bool,
        #[case] expected: &[Option<&str>],
    ) {
        let ms: Vec<Manifest> = benches
            .iter()
            .map(|(h, r)| manifest(h, r, "2026-11-01T02:00:00Z"))
            .collect();
        let got = suffixes(&ms, same_boards);
        let got: Vec<Option<&str>> = got.iter().map(|s| s.as_deref()).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn runs_are_ordered_and_labelled_by_their_start() {
        let ms = [
            manifest("a", "r", "2026-11-02T02:00:00Z"),
            manifest("a", "r", "2026-11-01T02:00:00Z"),
        ];
        let order = start_order(&ms);
        assert_eq!(order, [1, 0]);
        let folders = ["x".to_string(), "y".to_string()];
        assert_eq!(start_labels(&ms, &order, &folders), ["11-01", "11-02"]);
        let same_day = [
            manifest("a", "r", "2026-11-01T02:00:00Z"),
            manifest("b", "r", "2026-11-01T03:30:00Z"),
        ];
        assert_eq!(
            start_labels(&same_day, &[0, 1], &folders),
            ["11-01 02:00", "11-01 03:30"]
        );
    }

    #[test]
    fn a_baseline_of_another_rig_warns() {
        let now = [manifest("a", "r", "t")];
        assert!(baseline_warnings(&now, &[manifest("a", "r", "t")]).is_empty());
        let w = baseline_warnings(&now, &[manifest("a", "q", "t")]);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].starts_with("the baseline ran rig q but this report rig r"),
            "{}",
            w[0]
        );
    }
}
