//! The diagnosis against a shipped corpus of planted causes (fixtures/diagnosis/): each case has its own
//! boards, rig and scenario, and an expect.toml written before it was first run. Each case's soak runs in
//! process and its report must name exactly what the expectation says — the causes and anomalies with
//! their boards (and direction, where given) — and nothing else.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use hil::runner::StopSignal;
use hil::soak::Soak;
use rstest::rstest;
use serde::Deserialize;

use crate::common::scratch;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    named: Vec<Named>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
struct Named {
    kind: String,
    id: String,
    boards: Vec<String>,
    #[serde(default)]
    direction: Option<String>,
}

/// Soak a scenario into a scratch folder and build its report from the records.
fn soak_and_report(scenario: &Path, name: &str) -> report::Report {
    let reports = scratch(name);
    let (dir, _) = Soak::start(scenario, &reports)
        .unwrap_or_else(|e| panic!("{}: {e}", scenario.display()))
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    report::build(&[dir], &[]).unwrap()
}

/// What a report names, as the expectation files spell it.
fn named(r: &report::Report) -> Vec<Named> {
    r.causes
        .iter()
        .map(|c| Named {
            kind: serde_json::to_value(c.kind)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string(),
            id: c.id.clone(),
            boards: c.boards.clone(),
            direction: c.direction.clone(),
        })
        .collect()
}

#[rstest]
fn the_planted_causes_are_named_on_their_boards_and_nothing_else(
    #[files("../../fixtures/diagnosis/*/scenario.toml")] scenario: PathBuf,
) {
    let case = scenario.parent().unwrap();
    let name = case.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(case.join("expect.toml")).unwrap();
    let expect: Expect = toml::from_str(&text).unwrap();
    let r = soak_and_report(&scenario, &format!("diagnosis-{name}"));
    let got = named(&r);
    // A direction is checked where the expectation gives one.
    let comparable: BTreeSet<Named> = got
        .iter()
        .map(|g| {
            let wants_direction = expect
                .named
                .iter()
                .any(|e| e.id == g.id && e.direction.is_some());
            Named {
                direction: if wants_direction {
                    g.direction.clone()
                } else {
                    None
                },
                ..g.clone()
            }
        })
        .collect();
    let want: BTreeSet<Named> = expect.named.iter().cloned().collect();
    assert_eq!(
        comparable, want,
        "{name}: the report named something else.\nDiagnosis: {}",
        r.diagnosis
    );
    // Strongest first: every cause before every anomaly.
    let kinds: Vec<&str> = got.iter().map(|n| n.kind.as_str()).collect();
    let mut sorted = kinds.clone();
    sorted.sort_by_key(|k| *k != "cause");
    assert_eq!(kinds, sorted, "{name}: causes come first");
    if r.total.failures == 0 {
        assert!(
            r.candidates.is_empty(),
            "{name}: a run without failures tests no contrast (no odds ratio to show)"
        );
    }
}
