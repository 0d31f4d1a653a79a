//! Soaks on virtual rigs that fail as real ones do: controller timeouts, garbled replies, stuck relays and
//! probe dropouts recorded as infrastructure failures at about the rate the rig file asks for, retried by
//! `retry.on = "rig"`, absent at rate 0, and recorded the same by a resumed run; and a chamber that lags its
//! set-point, whose lagging temperature is what the records hold.

use std::path::{Path, PathBuf};

use hil::runner::StopSignal;
use hil::soak::Soak;
use records::{read_all, CycleRow, ErrorClass, ErrorKind, StepRow, CYCLES_CSV, STEPS_CSV};
use rstest::rstest;

use crate::common::{assert_same_records, cut_and_resume, scratch};

/// A virtual rig file in `dir` with the bench boards `boards` (by number) and `extra` TOML after them.
fn rig(dir: &Path, boards: &[u32], extra: &str) -> PathBuf {
    let fixtures = std::fs::canonicalize(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/boards"),
    )
    .unwrap();
    let mut text = String::from("name = \"flaky\"\n");
    for n in boards {
        let hse = if *n >= 8 {
            "24_000_000\nhse_kind = \"crystal\""
        } else {
            "25_000_000\nhse_kind = \"oscillator\""
        };
        let file = fixtures.join(format!("bench-{n:02}.toml"));
        text += &format!(
            "[[boards]]\nname = \"bench-{n:02}\"\nhse_hz = {hse}\nboard_file = {:?}\nseed = {n}\n",
            file.display().to_string()
        );
    }
    let path = dir.join("rig.toml");
    std::fs::write(&path, text + extra).unwrap();
    path
}

/// A soak of `body` (a scenario without its `rig` line) on the rig `extra` describes, finished.
fn soak(name: &str, boards: &[u32], extra: &str, body: &str) -> PathBuf {
    let dir = scratch(&format!("rig_faults-{name}"));
    let rig = rig(&dir, boards, extra);
    let scenario = dir.join("scenario.toml");
    std::fs::write(
        &scenario,
        format!("rig = {:?}\n{body}", rig.display().to_string()),
    )
    .unwrap();
    let (run, _) = Soak::start(&scenario, &dir.join("reports"))
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    run
}

fn cycles(run: &Path) -> Vec<CycleRow> {
    read_all(&run.join(CYCLES_CSV)).unwrap()
}

fn steps(run: &Path) -> Vec<StepRow> {
    read_all(&run.join(STEPS_CSV)).unwrap()
}

/// Every command the soak sent the controller, from its step rows: one per BOOT0 step try, two per
/// power cycle try (off, on) unless the first one failed.
fn commands(steps: &[StepRow], power_only: bool) -> usize {
    let first_failed =
        |s: &StepRow| s.detail.contains("power_off") || s.detail.contains("switch off");
    steps
        .iter()
        .map(|s| match s.step.as_str() {
            "boot0" if !power_only => 1,
            "power_cycle" if s.outcome == records::Outcome::Fail && first_failed(s) => 1,
            "power_cycle" => 2,
            _ => 0,
        })
        .sum()
}

/// A healthy board's cycle: every controller command a cycle can send, and a clock read.
fn cycles_of(n: u64) -> String {
    format!(
        r#"
name = "faults"
seed = 11
[pass]
max_failure_rate = 1.0
[[phases]]
name = "p"
cycles = {n}
[[steps]]
kind = "boot0"
level = "high"
[[steps]]
kind = "power_cycle"
off_ms = 50
[[steps]]
kind = "wait_enumeration"
[[steps]]
kind = "read_clocks"
"#
    )
}

#[rstest]
#[case::timeout("timeout_rate", ErrorKind::RigTimeout)]
#[case::garbled("garbled_rate", ErrorKind::RigGarbled)]
#[case::relay_stuck("relay_stuck_rate", ErrorKind::RigIo)]
#[case::probe_dropout("probe_dropout_rate", ErrorKind::Probe)]
fn each_fault_rate_fails_its_kind_of_step_at_about_that_rate(
    #[case] key: &str,
    #[case] kind: ErrorKind,
) {
    const RATE: f64 = 0.1;
    let run = soak(
        key,
        &[1],
        &format!("[faults]\n{key} = {RATE}\n"),
        &cycles_of(300),
    );
    let (cycles, steps) = (cycles(&run), steps(&run));
    let failed: Vec<_> = cycles.iter().filter(|r| r.failed()).collect();
    assert!(!failed.is_empty());
    for r in &failed {
        assert_eq!(
            r.error_kind,
            Some(kind),
            "the healthy board fails only by the rig: {r:?}"
        );
        assert_eq!(r.error_class, Some(ErrorClass::Infrastructure), "{r:?}");
    }
    let faulted: Vec<_> = steps
        .iter()
        .filter(|s| s.error_kind == Some(kind))
        .collect();
    assert!(faulted
        .iter()
        .all(|s| s.error_class == Some(ErrorClass::Infrastructure)));
    let chances = match kind {
        ErrorKind::Probe => steps.iter().filter(|s| s.step == "read_clocks").count(),
        ErrorKind::RigIo => commands(&steps, true),
        _ => commands(&steps, false),
    };
    let rate = faulted.len() as f64 / chances as f64;
    // 300 chances at the fewest (one clock read a cycle): the rate's standard deviation is 0.017 there.
    assert!(
        (rate - RATE).abs() < 0.05,
        "{} of {chances} = {rate:.3}, asked {RATE}",
        faulted.len()
    );
}

#[test]
fn a_stuck_relay_is_a_rig_failure_at_the_power_step_not_a_board_failure_later() {
    let run = soak(
        "stuck",
        &[1],
        "[faults]\nrelay_stuck_rate = 0.3\n",
        &cycles_of(60),
    );
    let cycles = cycles(&run);
    let stuck: Vec<_> = cycles
        .iter()
        .filter(|r| r.error_kind == Some(ErrorKind::RigIo))
        .collect();
    assert!(!stuck.is_empty());
    for r in &stuck {
        assert_eq!(r.failed_step, "power_cycle", "{r:?}");
        assert!(
            r.error_detail
                .contains("relay stuck: channel 1 did not switch"),
            "{r:?}"
        );
    }
    assert!(
        cycles
            .iter()
            .all(|r| r.error_class != Some(ErrorClass::Board)),
        "a board that was not power-cycled is not blamed"
    );
}

#[test]
fn zero_rates_record_exactly_what_a_rig_without_faults_records() {
    let body = cycles_of(30).replace("seed = 11", "seed = 3");
    let boards = [5, 6, 9];
    let plain = soak("plain", &boards, "", &body);
    let zero = "[faults]\ntimeout_rate = 0\ngarbled_rate = 0\nrelay_stuck_rate = 0\n\
                probe_dropout_rate = 0\n[chamber]\ntime_constant_s = 0\n";
    let zeroed = soak("zero", &boards, zero, &body);
    assert!(cycles(&zeroed)
        .iter()
        .all(|r| r.error_class != Some(ErrorClass::Infrastructure)));
    assert!(
        cycles(&zeroed).iter().any(|r| r.failed()),
        "the drifting boards still fail, as their own draws say"
    );
    assert_same_records(&zeroed, &plain);
}

const RETRY_ON_RIG: &str = "[retry]\ncycle_attempts = 3\non = \"rig\"\n";

#[test]
fn rig_failures_are_retried_and_board_failures_are_not() {
    let body = cycles_of(100).replace("seed = 11", "seed = 2") + RETRY_ON_RIG;
    let run = soak("retry", &[6], "[faults]\ntimeout_rate = 0.15\n", &body);
    let rows = cycles(&run);
    let decided = rows.iter().filter(|r| r.final_attempt).count();
    assert_eq!(decided, 100, "each cycle decided once");
    let retried: Vec<_> = rows.iter().filter(|r| !r.final_attempt).collect();
    assert!(!retried.is_empty(), "some rig failures were retried");
    for r in &retried {
        assert_eq!(r.error_class, Some(ErrorClass::Infrastructure), "{r:?}");
    }
    let board: Vec<_> = rows
        .iter()
        .filter(|r| r.error_class == Some(ErrorClass::Board))
        .collect();
    assert!(!board.is_empty(), "the drifting board fails by itself too");
    assert!(
        board.iter().all(|r| r.final_attempt),
        "board failures are not retried"
    );
    let rig_final = rows
        .iter()
        .filter(|r| r.final_attempt && r.error_class == Some(ErrorClass::Infrastructure))
        .count();
    assert!(
        rig_final < retried.len(),
        "retries pass more often than not: {rig_final} rig failures stand of {} retried",
        retried.len()
    );
    assert!(rows
        .iter()
        .filter(|r| r.final_attempt && r.error_class == Some(ErrorClass::Infrastructure))
        .all(|r| r.attempt == 3));
}

#[rstest]
#[case::early(5)]
#[case::mid_retries(23)]
#[case::second_phase(41)]
fn a_resumed_run_with_rig_faults_records_what_an_uninterrupted_one_records(#[case] keep: usize) {
    let body = cycles_of(12).replace("seed = 11", "seed = 4")
        + RETRY_ON_RIG
        + "[[phases]]\nname = \"hot\"\ncycles = 12\ntemperature_c = 35\nsettle_s = 20\n";
    let faults = "[faults]\ntimeout_rate = 0.1\ngarbled_rate = 0.05\nrelay_stuck_rate = 0.05\n\
                  probe_dropout_rate = 0.1\n[chamber]\ntime_constant_s = 30\n";
    let whole = soak(&format!("resume-{keep}"), &[1, 6], faults, &body);
    let rows = cycles(&whole);
    assert!(
        rows.iter().any(|r| !r.final_attempt),
        "the run has retries to resume among"
    );
    assert!(rows.len() > keep);
    let resumed = cut_and_resume(&whole, keep);
    assert_same_records(&resumed, &whole);
}

#[test]
fn a_run_resumed_just_before_a_failed_power_off_reads_the_board_the_run_left_on() {
    let body = cycles_of(40).replace("seed = 11", "seed = 8");
    let faults = "[faults]\ntimeout_rate = 0.1\nrelay_stuck_rate = 0.1\n";
    let whole = soak("resume-power-off", &[5, 6], faults, &body);
    // cycles.csv in file order: cut just before an attempt whose power-off did not happen and whose clock
    // read saw the boot the attempts before it left, which only a faithful resume still has.
    let rows = cycles(&whole);
    let power_off_failed = |r: &CycleRow| {
        r.error_detail.contains("power_off") || r.error_detail.contains("switch off")
    };
    let at = rows
        .iter()
        .position(|r| power_off_failed(r) && r.hse_verdict.is_some())
        .expect("a power-off failed with the board left on");
    let resumed = cut_and_resume(&whole, at);
    assert_same_records(&resumed, &whole);
}

#[test]
fn a_lagging_chamber_records_temperatures_that_approach_the_set_point() {
    const TAU_S: f64 = 5.0;
    let body = cycles_of(10).replace("seed = 11", "seed = 6").replace(
        "name = \"p\"\ncycles = 10",
        "name = \"cold\"\ncycles = 10\ntemperature_c = 15",
    ) + "[[phases]]\nname = \"hot\"\ncycles = 250\ntemperature_c = 35\n";
    let run = soak(
        "lag",
        &[1],
        &format!("[chamber]\ntime_constant_s = {TAU_S}\n"),
        &body,
    );
    let rows = cycles(&run);
    let temps = |phase: &str| -> Vec<f64> {
        let rows = rows.iter().filter(|r| r.phase == phase);
        rows.map(|r| r.temperature_c.unwrap()).collect()
    };
    let (cold, warm) = (temps("cold"), temps("hot"));
    assert_eq!(
        cold[0], 25.0,
        "right after the set-point the die still has the board file's 25 °C"
    );
    assert!(cold.windows(2).all(|w| w[0] > w[1]), "cooling: {cold:?}");
    assert!(
        warm[0] < *cold.last().unwrap(),
        "still cooling at the next set-point: {warm:?}"
    );
    assert!(
        warm.windows(2).all(|w| w[0] < w[1]),
        "then warming all along: {warm:?}"
    );
    let hot: Vec<_> = rows.iter().filter(|r| r.phase == "hot").collect();
    let (t0, from) = (hot[0].time_s, warm[0]);
    for r in &hot {
        let expected = 35.0 + (from - 35.0) * (-(r.time_s - t0) / TAU_S).exp();
        assert!(
            (r.temperature_c.unwrap() - expected).abs() < 1e-6,
            "first order: {r:?}"
        );
    }
    let last = warm.last().unwrap();
    assert!(
        hot.last().unwrap().time_s - t0 > 4.0 * TAU_S,
        "the phase runs long enough"
    );
    assert!(
        (35.0 - last).abs() < 0.1 && *last < 35.0,
        "close to the set-point: {last}"
    );
}

#[test]
fn the_shipped_flaky_rig_shows_rig_failures_in_ten_cycles_a_board() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let rig = std::fs::canonicalize(repo.join("fixtures/rigs/flaky-virtual.toml")).unwrap();
    let quick = std::fs::read_to_string(repo.join("scenarios/quick.toml")).unwrap();
    let body = quick
        .replace(
            "\"../fixtures/rigs/virtual-bench.toml\"",
            &format!("{:?}", rig.display().to_string()),
        )
        .replace("cycles = 20", "cycles = 10");
    let dir = scratch("rig_faults-shipped");
    std::fs::write(dir.join("scenario.toml"), body).unwrap();
    let (run, summary) = Soak::start(&dir.join("scenario.toml"), &dir.join("reports"))
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    assert_eq!(summary.cycles(), 100);
    let rows = cycles(&run);
    let rig_kinds: std::collections::BTreeSet<_> = rows
        .iter()
        .filter(|r| r.error_class == Some(ErrorClass::Infrastructure))
        .map(|r| r.error_kind.unwrap())
        .collect();
    assert!(
        rig_kinds.len() >= 2,
        "several kinds of rig failure: {rig_kinds:?}"
    );
    let rig_like = [
        ErrorKind::RigTimeout,
        ErrorKind::RigGarbled,
        ErrorKind::RigIo,
        ErrorKind::Probe,
    ];
    assert!(
        rig_kinds.iter().all(|k| rig_like.contains(k)),
        "{rig_kinds:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.error_class == Some(ErrorClass::Board)),
        "the bench's bad boards still fail by themselves"
    );
}
