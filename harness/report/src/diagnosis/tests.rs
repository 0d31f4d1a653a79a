//! The diagnosis on synthetic records, where the truth is known exactly: what it names and what it must not.

use records::{CycleRow, ErrorClass, ErrorKind, HseVerdict, Outcome, SerialMatch};

use super::{diagnose, Diagnosis, Kind};
use crate::aggregate::Aggregate;

/// A passing, in-spec cycle of `board` in `phase`.
fn row(board: &str, phase: &str, cycle: u64, temp: f64) -> CycleRow {
    CycleRow {
        schema: records::SCHEMA_VERSION,
        started_utc: "2026-12-02T01:00:00.000Z".into(),
        board: board.into(),
        phase: phase.into(),
        cycle,
        attempt: 1,
        final_attempt: true,
        temperature_c: Some(temp),
        outcome: Outcome::Pass,
        usb_serial: format!("SER-{board}"),
        expected_serial: format!("SER-{board}"),
        serial_match: Some(SerialMatch::Match),
        pllm: Some(25),
        detected_hse_hz: Some(25_000_000),
        true_hse_hz: 25_000_000,
        hse_verdict: Some(HseVerdict::Correct),
        sysclk_hz: Some(60e6),
        usb_clock_hz: Some(48e6),
        usb_clock_error_ppm: Some(0.0),
        usb_in_tolerance: Some(true),
        hsitrim: Some(16),
        hsical: Some(0x70),
        model_hsi_error_ppm: Some(1000.0),
        ..CycleRow::default()
    }
}

fn fail(mut r: CycleRow, kind: ErrorKind) -> CycleRow {
    r.outcome = Outcome::Fail;
    r.failed_step = "read_option_bytes".into();
    r.error_kind = Some(kind);
    r.error_class = Some(kind.class());
    r.error_detail = format!("{kind} planted");
    r
}

fn misdetect(mut r: CycleRow) -> CycleRow {
    r.pllm = Some(24);
    r.detected_hse_hz = Some(24_000_000);
    r.hse_verdict = Some(HseVerdict::Misdetected);
    r.usb_clock_hz = Some(50e6);
    r.usb_clock_error_ppm = Some(41_667.0);
    r.usb_in_tolerance = Some(false);
    r.model_hsi_error_ppm = Some(21_000.0);
    r
}

fn run(rows: &[CycleRow]) -> Diagnosis {
    let mut agg = Aggregate::new(2500.0);
    for r in rows {
        agg.add(0, r);
    }
    diagnose(&agg, 2500.0, &["run (host)".to_string()])
}

fn named(d: &Diagnosis) -> Vec<(Kind, String, Vec<String>)> {
    let mut v: Vec<_> = d
        .findings
        .iter()
        .map(|c| (c.kind, c.id.clone(), c.boards.clone()))
        .collect();
    v.sort();
    v
}

fn boards(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("b{i:02}")).collect()
}

#[test]
fn two_causes_on_two_boards_are_both_named_each_on_its_board() {
    let mut rows = Vec::new();
    for b in boards(6) {
        for c in 1..=100 {
            let mut r = row(&b, "room", c, 25.0);
            if b == "b02" && c % 3 == 0 {
                r = fail(misdetect(r), ErrorKind::Io);
            }
            if b == "b05" && c % 8 == 0 {
                r = fail(r, ErrorKind::Io);
            }
            rows.push(r);
        }
    }
    let d = run(&rows);
    assert_eq!(
        named(&d),
        vec![
            (Kind::Cause, "hse_misdetection".into(), vec!["b02".into()]),
            (Kind::Cause, "link".into(), vec!["b05".into()]),
        ],
        "{}",
        d.paragraph
    );
    assert!(d.paragraph.contains("2 causes"), "{}", d.paragraph);
}

#[test]
fn a_board_failing_only_on_its_misdetected_boots_is_not_a_cause_of_its_own() {
    let mut rows = Vec::new();
    for b in boards(5) {
        for c in 1..=200 {
            let mut r = row(&b, "room", c, 25.0);
            if b == "b03" && c % 2 == 0 {
                r = misdetect(r);
                if c % 4 == 0 {
                    r = fail(r, ErrorKind::Io);
                }
            }
            rows.push(r);
        }
    }
    let d = run(&rows);
    assert_eq!(
        named(&d),
        vec![(Kind::Cause, "hse_misdetection".into(), vec!["b03".into()])],
        "{}",
        d.paragraph
    );
    let board = d.candidates.iter().find(|t| t.id == "board:b03").unwrap();
    assert!(!board.significant, "{board:?}");
}

#[test]
fn an_unanticipated_factor_is_found_beyond_the_boards_and_their_clocks() {
    // Every board fails in phase "b" only, clocks in spec: the phase is the factor, no board is.
    let mut rows = Vec::new();
    for b in boards(8) {
        for (p, phase) in ["a", "b"].iter().enumerate() {
            for c in 1..=50 {
                let mut r = row(&b, phase, c, 25.0);
                if p == 1 && c % 10 == 0 {
                    r = fail(r, ErrorKind::Timeout);
                }
                rows.push(r);
            }
        }
    }
    let d = run(&rows);
    let ids: Vec<String> = d.findings.iter().map(|c| c.id.clone()).collect();
    assert!(ids.contains(&"factor:phase".to_string()), "{}", d.paragraph);
    assert!(
        !ids.iter().any(|i| i == "board" || i == "rdp"),
        "no board is named: {}",
        d.paragraph
    );
}

#[test]
fn a_temperature_trend_on_in_spec_boots_is_named_with_its_direction() {
    let mut rows = Vec::new();
    for b in boards(4) {
        for (t, rate) in [(-10.0, 6), (0.0, 12), (10.0, 40), (25.0, 1000)] {
            for c in 1..=60u64 {
                let mut r = row(&b, &format!("{t}C"), c, t);
                if c % rate == 0 {
                    r = fail(r, ErrorKind::Io);
                }
                rows.push(r);
            }
        }
    }
    let d = run(&rows);
    let t = d.findings.iter().find(|c| c.id == "temperature").unwrap();
    assert_eq!(t.direction.as_deref(), Some("colder"), "{}", t.finding);
    assert!(t.finding.contains("Failures rise as it gets colder"));
}

#[test]
fn identical_boards_failing_alike_name_a_shared_cause_and_no_single_board() {
    let mut rows = Vec::new();
    for (i, b) in boards(10).iter().enumerate() {
        for c in 1..=100u64 {
            let mut r = row(b, "room", c, 25.0);
            if (c + i as u64 * 7).is_multiple_of(50) {
                r = fail(r, ErrorKind::Io);
            }
            rows.push(r);
        }
    }
    let d = run(&rows);
    assert_eq!(named(&d).len(), 1, "{}", d.paragraph);
    assert_eq!(d.findings[0].id, "shared_cause");
    assert_eq!(d.findings[0].boards.len(), 10);
}

#[test]
fn anomalies_without_failures_reach_the_headline() {
    let mut rows = Vec::new();
    for b in boards(4) {
        for c in 1..=40u64 {
            let mut r = row(&b, "room", c, 25.0);
            if b == "b02" {
                r.serial_match = Some(SerialMatch::Mismatch);
                r.usb_serial = "VARIANT-B02".into();
            }
            if b == "b03" && c % 4 == 0 {
                r.serial_match = Some(SerialMatch::Unreadable);
                r.usb_serial.clear();
            }
            if b == "b04" {
                r.option_bytes_check = Some(records::OptionBytesCheck::Mismatch);
            }
            rows.push(r);
        }
    }
    let d = run(&rows);
    assert_eq!(
        named(&d),
        vec![
            (
                Kind::Anomaly,
                "option_bytes_mismatch".into(),
                vec!["b04".into()]
            ),
            (
                Kind::Anomaly,
                "serial_intermittent".into(),
                vec!["b03".into()]
            ),
            (Kind::Anomaly, "serial_variant".into(), vec!["b02".into()]),
        ]
    );
    assert!(d
        .paragraph
        .starts_with("No failures in 160 cycles. Anomalies found:"));
    assert!(
        d.candidates.is_empty(),
        "no failures: no contrast, no odds ratio"
    );
}

#[test]
fn a_usb_clock_out_of_tolerance_on_every_boot_is_named_for_what_it_is() {
    let mut rows = Vec::new();
    for b in boards(8) {
        for c in 1..=30u64 {
            let mut r = row(&b, "room", c, 25.0);
            r.usb_clock_error_ppm = Some(8_333.0);
            r.usb_in_tolerance = Some(false);
            r.sysclk_hz = Some(60.5e6);
            if c % 5 == 0 {
                r = fail(r, ErrorKind::Io);
            }
            rows.push(r);
        }
    }
    let d = run(&rows);
    assert_eq!(named(&d).len(), 1, "{}", d.paragraph);
    let c = &d.findings[0];
    assert_eq!((c.kind, c.id.as_str()), (Kind::Cause, "pll_factors"));
    assert!(
        c.finding.contains("on every boot (240 of 240)"),
        "{}",
        c.finding
    );
}

#[test]
fn infrastructure_failures_are_the_rigs_and_never_a_boards() {
    let mut rows = Vec::new();
    for b in boards(4) {
        for c in 1..=50u64 {
            let mut r = row(&b, "room", c, 25.0);
            if b == "b01" && c % 5 == 0 {
                r = fail(r, ErrorKind::RigTimeout);
                assert_eq!(r.error_class, Some(ErrorClass::Infrastructure));
            }
            rows.push(r);
        }
    }
    let d = run(&rows);
    assert_eq!(
        named(&d),
        vec![(Kind::Cause, "infrastructure".into(), vec!["b01".into()])],
        "{}",
        d.paragraph
    );
}

#[test]
fn ties_are_broken_by_meaning_not_by_the_order_of_the_records() {
    let mut rows = Vec::new();
    for b in boards(6) {
        for c in 1..=60u64 {
            let mut r = row(&b, "room", c, 25.0);
            if (b == "b02" || b == "b05") && c % 6 == 0 {
                r = fail(r, ErrorKind::Io);
            }
            rows.push(r);
        }
    }
    let forward = run(&rows);
    rows.reverse();
    let backward = run(&rows);
    let ids = |d: &Diagnosis| {
        d.findings
            .iter()
            .map(|c| (c.id.clone(), c.boards.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&forward), ids(&backward));
    assert_eq!(forward.paragraph, backward.paragraph);
}

#[test]
fn a_file_read_in_two_chunks_gives_the_diagnosis_of_one_pass() {
    let mut rows = Vec::new();
    for b in boards(6) {
        for (p, phase) in ["a", "b", "c"].iter().enumerate() {
            for c in 1..=40u64 {
                let mut r = row(&b, phase, c, 20.0 + p as f64 * 5.0);
                if b == "b04" && c % 3 == 0 {
                    r = fail(misdetect(r), ErrorKind::Io);
                }
                if p == 2 && c % 9 == 0 {
                    r = fail(r, ErrorKind::Timeout);
                }
                rows.push(r);
            }
        }
    }
    let whole = run(&rows);
    let (first, second) = rows.split_at(rows.len() / 3);
    let mut a = Aggregate::new(2500.0);
    first.iter().for_each(|r| a.add(0, r));
    let mut b = Aggregate::new(2500.0);
    // The second chunk meets the boards in another order.
    second.iter().rev().for_each(|r| b.add(0, r));
    let merged = diagnose(&a.append(b), 2500.0, &["run (host)".to_string()]);
    assert_eq!(named(&merged), named(&whole));
    assert_eq!(merged.paragraph, whole.paragraph);
    // The same tests with the same p-values, up to the order floating-point sums were taken in.
    assert_eq!(merged.candidates.len(), whole.candidates.len());
    for (m, w) in merged.candidates.iter().zip(&whole.candidates) {
        assert_eq!(m.id, w.id);
        assert!(
            (m.log10_p - w.log10_p).abs() < 1e-9,
            "{} {} {}",
            m.id,
            m.log10_p,
            w.log10_p
        );
    }
}

#[test]
fn a_board_that_fails_and_runs_hotter_is_the_board_not_the_temperature() {
    let mut rows = Vec::new();
    for b in boards(4) {
        for (phase, hot) in [("a", false), ("b", true)] {
            for c in 1..=50u64 {
                let t = if b == "b01" && hot { 50.0 } else { 25.0 };
                let mut r = row(&b, phase, c, t);
                let fails = b == "b01" && (if hot { c % 4 != 0 } else { c % 3 != 0 });
                if fails {
                    r = fail(r, ErrorKind::Io);
                }
                rows.push(r);
            }
        }
    }
    let d = run(&rows);
    assert_eq!(
        named(&d),
        vec![(Kind::Cause, "link".into(), vec!["b01".into()])],
        "{}",
        d.paragraph
    );
}

#[test]
fn a_few_failures_on_one_board_of_many_are_unexplained_not_a_shared_cause() {
    let mut rows = Vec::new();
    for b in boards(8) {
        for c in 1..=30u64 {
            let mut r = row(&b, "room", c, 25.0);
            if b == "b07" && c % 10 == 0 {
                r = fail(r, ErrorKind::Io);
            }
            rows.push(r);
        }
    }
    let d = run(&rows);
    assert!(named(&d).is_empty(), "{}", d.paragraph);
    assert!(d
        .paragraph
        .contains("no factor the harness records explains them"));
}

#[test]
fn a_lossy_board_among_boards_misclocked_on_every_boot_keeps_its_own_failures() {
    let mut rows = Vec::new();
    for b in boards(6) {
        for c in 1..=60u64 {
            let mut r = row(&b, "room", c, 25.0);
            r.usb_clock_error_ppm = Some(4_166.0);
            r.usb_in_tolerance = Some(false);
            let fails = if b == "b03" { c % 2 == 0 } else { c % 30 == 0 };
            if fails {
                r = fail(r, ErrorKind::Io);
            }
            rows.push(r);
        }
    }
    let d = run(&rows);
    let link = d
        .findings
        .iter()
        .find(|c| c.id == "link")
        .expect("b03's link");
    assert_eq!(link.boards, vec!["b03".to_string()]);
    assert!(link.finding.contains("30 of 60"), "{}", link.finding);
    let pll = d.findings.iter().find(|c| c.id == "pll_factors").unwrap();
    // 10 failures on the other boards plus b03's 2 expected at their rate: the findings add up.
    assert_eq!(
        link.failures + pll.failures,
        40,
        "{} + {}",
        link.failures,
        pll.failures
    );
    assert_eq!(pll.failures, 12);
}

#[test]
fn boards_drifting_opposite_ways_are_two_trends_not_one() {
    let mut rows = Vec::new();
    for b in boards(3) {
        for t in [-10.0, 5.0, 25.0, 40.0] {
            for c in 1..=40u64 {
                let mut r = row(&b, &format!("{t}C"), c, t);
                let mis =
                    (b == "b01" && t < 0.0 && c % 2 == 0) || (b == "b02" && t > 30.0 && c % 2 == 0);
                if mis {
                    r = fail(misdetect(r), ErrorKind::Io);
                }
                rows.push(r);
            }
        }
    }
    let d = run(&rows);
    let c = d
        .findings
        .iter()
        .find(|c| c.id == "hse_misdetection")
        .unwrap();
    assert_eq!(
        c.direction.as_deref(),
        Some("hotter on some boards, colder on others")
    );
    assert!(
        c.finding.contains("rises as it gets hotter on b02") && c.finding.contains("colder on b01"),
        "{}",
        c.finding
    );
}

#[test]
fn a_stall_is_a_handshake_of_the_board_not_a_cable_fault() {
    let mut rows = Vec::new();
    for b in boards(4) {
        for c in 1..=40u64 {
            let mut r = row(&b, "room", c, 25.0);
            if b == "b02" && c % 4 == 0 {
                r = fail(r, ErrorKind::Stall);
            }
            rows.push(r);
        }
    }
    let d = run(&rows);
    assert_eq!(
        named(&d),
        vec![(Kind::Cause, "board".into(), vec!["b02".into()])],
        "{}",
        d.paragraph
    );
}

#[test]
fn failures_a_temperature_trend_explains_are_not_named_again_as_phase_or_shared_cause() {
    let mut rows = Vec::new();
    for b in boards(4) {
        for (phase, t) in [("cool", 20.0), ("warm", 30.0), ("hot", 40.0)] {
            for c in 1..=40u64 {
                let mut r = row(&b, phase, c, t);
                let every = if t > 35.0 {
                    3
                } else if t > 25.0 {
                    12
                } else {
                    1000
                };
                if c % every == 0 {
                    r = fail(r, ErrorKind::Io);
                }
                rows.push(r);
            }
        }
    }
    let d = run(&rows);
    let ids: Vec<&str> = d.findings.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["temperature"], "{}", d.paragraph);
    assert_eq!(d.findings[0].direction.as_deref(), Some("hotter"));
}
