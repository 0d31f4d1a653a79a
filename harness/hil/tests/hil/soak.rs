//! Soaks on the virtual bench, end to end through the run folder: the records a user opens, fault
//! injection recorded and classified, stop rules, and resume refusing changed inputs.

use std::path::{Path, PathBuf};

use hil::runner::StopSignal;
use hil::soak::Soak;
use records::{
    read_all, CycleRow, ErrorClass, HseVerdict, Manifest, RunStatus, StepRow, CYCLES_CSV, STEPS_CSV,
};
use rstest::rstest;
use vboard::Fault;

fn rig() -> String {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rigs/virtual-bench.toml");
    std::fs::canonicalize(p).unwrap().display().to_string()
}

/// A fresh directory with `scenario.toml` holding `body` (the rig line is added) and a reports folder.
fn setup(name: &str, body: &str) -> (PathBuf, PathBuf) {
    let dir = crate::common::scratch(&format!("soak-{name}"));
    let scenario = dir.join("scenario.toml");
    std::fs::write(&scenario, format!("rig = {:?}\n{body}", rig())).unwrap();
    (scenario, dir.join("reports"))
}

fn cycles(run: &Path) -> Vec<CycleRow> {
    read_all(&run.join(CYCLES_CSV)).unwrap()
}

/// Rows in a stable order with the wall-clock column blanked (workers run in parallel).
fn stable(mut rows: Vec<CycleRow>) -> Vec<CycleRow> {
    rows.sort_by(|a, b| {
        (&a.board, &a.phase, a.cycle, a.attempt).cmp(&(&b.board, &b.phase, b.cycle, b.attempt))
    });
    rows.iter_mut()
        .for_each(|r| r.started_utc = "<wall clock>".into());
    rows
}

const SEEDED: &str = r#"
name = "seeded"
boards = ["bench-01", "bench-05", "bench-06"]
seed = 7
[pass]
max_failure_rate = 1.0
[[phases]]
name = "cool"
cycles = 4
temperature_c = 22
[[phases]]
name = "hot"
cycles = 4
temperature_c = 34
[[steps]]
kind = "power_cycle"
off_ms = 100
[[steps]]
kind = "wait_enumeration"
[[steps]]
kind = "dfu_connect"
[[steps]]
kind = "read_option_bytes"
[[steps]]
kind = "read_clocks"
[[steps]]
kind = "flash"
image = { generate = 4096, seed = 3 }
verify = true
[[steps]]
kind = "leave"
"#;

#[test]
fn a_seeded_virtual_soak_records_the_same_cycles_every_time() {
    let run = |name| {
        let (scenario, reports) = setup(name, SEEDED);
        let (dir, summary) = Soak::start(&scenario, &reports)
            .unwrap()
            .run(&StopSignal::new(), |_| {})
            .unwrap();
        assert_eq!(summary.cycles(), 3 * 8);
        assert_eq!(Manifest::read(&dir).unwrap().status, RunStatus::Finished);
        stable(cycles(&dir))
    };
    let first = run("seeded-a");
    assert_eq!(first, run("seeded-b"), "same seed, same records");
    let mut text = Vec::new();
    let mut w = csv::Writer::from_writer(&mut text);
    first.iter().for_each(|r| w.serialize(r).unwrap());
    drop(w);
    insta::assert_snapshot!("seeded_cycles_csv", String::from_utf8(text).unwrap());
}

#[test]
fn failures_line_up_with_a_misdetected_hse_and_the_healthy_board_is_clean() {
    let (scenario, reports) = setup("lineup", &SEEDED.replace("cycles = 4", "cycles = 15"));
    let (dir, _) = Soak::start(&scenario, &reports)
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    let rows = cycles(&dir);
    assert!(rows
        .iter()
        .filter(|r| r.board == "bench-01")
        .all(|r| !r.failed()));
    let failed: Vec<_> = rows.iter().filter(|r| r.failed()).collect();
    assert!(!failed.is_empty(), "the drifting boards fail sometimes");
    for r in &failed {
        assert_eq!(
            r.hse_verdict,
            Some(HseVerdict::Misdetected),
            "every failure has its clock snapshot: {r:?}"
        );
        assert_eq!(r.pllm, Some(24), "PLLM 24 on a 25 MHz board: {r:?}");
        assert!(r.usb_clock_error_ppm.unwrap() > 40_000.0);
        assert_eq!(r.error_class, Some(ErrorClass::Board));
    }
    assert!(
        failed.iter().any(|r| r.failed_step == "read_option_bytes"),
        "the seed's symptom shows up"
    );
    let steps: Vec<StepRow> = read_all(&dir.join(STEPS_CSV)).unwrap();
    assert!(steps
        .iter()
        .any(|s| s.step == "read_clocks" && s.dfu_requests == 0));
    assert!(steps
        .iter()
        .filter(|s| s.step == "flash")
        .all(|s| s.dfu_requests > 0 || s.outcome == records::Outcome::Fail));
}

const ONE_BOARD: &str = r#"
name = "faults"
boards = ["bench-01"]
[pass]
max_failure_rate = 1.0
[[phases]]
name = "p"
cycles = 3
[[steps]]
kind = "power_cycle"
[[steps]]
kind = "wait_enumeration"
[[steps]]
kind = "dfu_connect"
[[steps]]
kind = "read_option_bytes"
[[steps]]
kind = "flash"
image = { generate = 8192 }
verify = true
"#;

/// The same cycle without a power cycle: faults that a new boot clears (stuck busy) stay armed.
fn no_power_cycle(body: &str) -> String {
    body.replace("[[steps]]\nkind = \"power_cycle\"\n", "")
}

#[rstest]
#[case::stall(Fault::StallOnRequest(30), "stall")]
#[case::no_response(Fault::NoResponseOnRequest(30), "timeout")]
#[case::disconnect(Fault::DisconnectAfter(30), "disconnected")]
#[case::corrupt_status(Fault::CorruptStatus(3), "protocol")]
#[case::stuck_busy(Fault::StuckBusy { poll_timeout_ms: 0 }, "stuck")]
#[case::re_enumerate(Fault::ReEnumerate(27), "disconnected")]
fn an_injected_fault_is_recorded_and_classified(#[case] fault: Fault, #[case] kind: &str) {
    let name = format!("fault-{kind}-{fault:?}").replace([' ', '{', '}', ':', '(', ')'], "");
    let (scenario, reports) = setup(&name, &no_power_cycle(ONE_BOARD));
    let soak = Soak::start(&scenario, &reports).unwrap();
    let (dir, summary) = soak
        .run_with(&StopSignal::new(), &|_, b| b.lock().inject(fault), |_| {})
        .unwrap();
    assert_eq!(summary.cycles(), 3, "the run goes on after the fault");
    let rows = cycles(&dir);
    let failed: Vec<_> = rows.iter().filter(|r| r.failed()).collect();
    assert!(!failed.is_empty(), "{rows:#?}");
    assert_eq!(
        failed[0].error_kind.map(|k| k.name()),
        Some(kind),
        "{:?}",
        failed[0]
    );
    assert_eq!(failed[0].error_class, Some(ErrorClass::Board));
    assert!(!failed[0].error_detail.is_empty());
}

#[test]
fn a_board_that_keeps_failing_stops_and_the_others_go_on() {
    let body = no_power_cycle(ONE_BOARD)
        .replace(
            r#"boards = ["bench-01"]"#,
            r#"boards = ["bench-01", "bench-02"]"#,
        )
        .replace("cycles = 3", "cycles = 6")
        + "[stop]\nmax_consecutive_failures = 2\n";
    let (scenario, reports) = setup("consecutive", &body);
    let stuck = |name: &str, b: &hil::transport::VirtualBoard| {
        if name == "bench-01" {
            b.lock().inject(Fault::StuckBusy { poll_timeout_ms: 0 })
        }
    };
    let (dir, summary) = Soak::start(&scenario, &reports)
        .unwrap()
        .run_with(&StopSignal::new(), &stuck, |_| {})
        .unwrap();
    let rows = cycles(&dir);
    assert_eq!(rows.iter().filter(|r| r.board == "bench-01").count(), 2);
    assert_eq!(rows.iter().filter(|r| r.board == "bench-02").count(), 6);
    assert!(summary.boards[0]
        .stopped
        .as_deref()
        .unwrap()
        .contains("2 consecutive"));
}

#[test]
fn max_failures_stops_the_whole_run() {
    let (scenario, reports) = setup(
        "max-failures",
        &(no_power_cycle(ONE_BOARD).replace("cycles = 3", "cycles = 50")
            + "[stop]\nmax_failures = 3\n"),
    );
    let stuck = |_: &str, b: &hil::transport::VirtualBoard| {
        b.lock().inject(Fault::StuckBusy { poll_timeout_ms: 0 })
    };
    let (dir, summary) = Soak::start(&scenario, &reports)
        .unwrap()
        .run_with(&StopSignal::new(), &stuck, |_| {})
        .unwrap();
    assert_eq!(summary.status, RunStatus::Stopped);
    assert!(cycles(&dir).len() < 50);
    assert_eq!(Manifest::read(&dir).unwrap().status, RunStatus::Stopped);
}

#[test]
fn whole_cycle_retries_are_recorded_not_hidden() {
    let body = ONE_BOARD.replace("cycles = 3", "cycles = 2")
        + "[retry]\ncycle_attempts = 2\non = \"any\"\n";
    let (scenario, reports) = setup("retries", &body);
    let stall_once =
        |_: &str, b: &hil::transport::VirtualBoard| b.lock().inject(Fault::StallOnRequest(30));
    let (dir, summary) = Soak::start(&scenario, &reports)
        .unwrap()
        .run_with(&StopSignal::new(), &stall_once, |_| {})
        .unwrap();
    let rows = cycles(&dir);
    assert_eq!(
        rows.len(),
        3,
        "cycle 1 twice (fail, retry), cycle 2 once: {rows:#?}"
    );
    assert_eq!(
        (
            rows[0].attempt,
            rows[0].final_attempt,
            rows[0].outcome.name()
        ),
        (1, false, "fail")
    );
    assert_eq!(
        (
            rows[1].attempt,
            rows[1].final_attempt,
            rows[1].outcome.name()
        ),
        (2, true, "pass")
    );
    assert_eq!((summary.cycles(), summary.failures()), (2, 0));
}

#[test]
fn resume_refuses_a_scenario_changed_since_the_run_started() {
    let (scenario, reports) = setup("changed", ONE_BOARD);
    let (dir, _) = Soak::start(&scenario, &reports)
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    std::fs::write(
        &scenario,
        std::fs::read_to_string(&scenario)
            .unwrap()
            .replace("cycles = 3", "cycles = 4"),
    )
    .unwrap();
    let err = Soak::resume(&dir).err().expect("refused");
    assert!(
        err.to_string().contains("changed since the run started"),
        "{err}"
    );
}

#[rstest]
#[case::first_phase(3)]
#[case::between_phases(8)]
#[case::second_phase(13)]
fn a_resumed_run_records_what_an_uninterrupted_one_records(#[case] keep: usize) {
    let body = SEEDED
        .replace(
            "cycles = 4\ntemperature_c = 22",
            "cycles = 4\ntemperature_c = 22\nsettle_s = 30",
        )
        .replace(
            "cycles = 4\ntemperature_c = 34",
            "cycles = 4\ntemperature_c = 34\nsettle_s = 60",
        )
        .replace(
            r#"["bench-01", "bench-05", "bench-06"]"#,
            r#"["bench-05", "bench-06"]"#,
        );
    let (scenario, reports) = setup(&format!("resume-{keep}"), &body);
    let (whole, _) = Soak::start(&scenario, &reports)
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    let resumed = crate::common::cut_and_resume(&whole, keep);
    assert_eq!(
        Manifest::read(&resumed).unwrap().resumed,
        1,
        "the copy was resumed"
    );
    crate::common::assert_same_records(&resumed, &whole);
}

#[test]
fn a_resumed_run_goes_on_with_each_board_as_the_run_left_it() {
    // No power cycle: what a cycle leaves behind is what the next one finds (here the boot after leaving DFU
    // for an image that is not executable: the chip resets, drawing a new HSI error in that cycle), so a
    // resumed run must find it too.
    let body = no_power_cycle(ONE_BOARD)
        .replace("cycles = 3", "cycles = 6")
        .replace(
            "verify = true\n",
            "verify = true\n[[steps]]\nkind = \"leave\"\n",
        );
    let (scenario, reports) = setup("resume-state", &body);
    let (whole, _) = Soak::start(&scenario, &reports)
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    let resumed = crate::common::cut_and_resume(&whole, 3);
    crate::common::assert_same_records(&resumed, &whole);
}

#[rstest]
#[case::board_file("board.toml", "board file")]
#[case::image("app.bin", "image")]
fn resume_refuses_a_board_file_or_image_changed_since_the_run_started(
    #[case] edited: &str,
    #[case] what: &str,
) {
    let dir = crate::common::scratch(&format!("soak-inputs-{what}"));
    std::fs::write(dir.join("board.toml"), "name = \"b\"\n").unwrap();
    std::fs::write(dir.join("app.bin"), vec![0x5A; 4096]).unwrap();
    std::fs::write(
        dir.join("rig.toml"),
        "name = \"r\"\n[[boards]]\nname = \"b\"\nhse_hz = 25_000_000\nhse_kind = \"oscillator\"\nboard_file = \"board.toml\"\n",
    )
    .unwrap();
    let scenario = dir.join("scenario.toml");
    std::fs::write(
        &scenario,
        "name = \"inputs\"\nrig = \"rig.toml\"\n[[phases]]\nname = \"p\"\ncycles = 2\n[[steps]]\nkind = \"power_cycle\"\n\
         [[steps]]\nkind = \"wait_enumeration\"\n[[steps]]\nkind = \"dfu_connect\"\n[[steps]]\nkind = \"flash\"\n\
         image = { path = \"app.bin\" }\n",
    )
    .unwrap();
    let (run, _) = Soak::start(&scenario, &dir.join("reports"))
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    // Unchanged inputs resume (there is nothing left to run, but the folder is accepted).
    Soak::resume(&run).expect("unchanged inputs resume");
    let path = dir.join(edited);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"\n# edited\n");
    std::fs::write(&path, bytes).unwrap();
    let err = Soak::resume(&run).err().expect("refused");
    let text = err.to_string();
    assert!(
        text.contains(&format!("the {what} {}", path.display()))
            && text.contains("changed since the run started"),
        "{text}"
    );
}

#[test]
fn max_duration_stops_the_run_and_names_the_phases_it_never_started() {
    let body = SEEDED.replace(
        "cycles = 4\ntemperature_c = 22",
        "cycles = 100000\ntemperature_c = 22",
    ) + "[stop]\nmax_duration_s = 20\n";
    let (scenario, reports) = setup("max-duration", &body);
    let (dir, summary) = Soak::start(&scenario, &reports)
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    assert_eq!(summary.status, RunStatus::Stopped);
    let manifest = Manifest::read(&dir).unwrap();
    assert_eq!(manifest.status, RunStatus::Stopped);
    let reason = manifest.stop_reason.clone().unwrap_or_default();
    assert!(reason.contains("max_duration = 20 s"), "{reason}");
    assert_eq!(manifest.phases_not_run, ["hot"]);
    assert!(cycles(&dir).iter().all(|r| r.phase == "cool"));
    // A folder written before the field reads as "every phase ran".
    let path = dir.join(records::MANIFEST_JSON);
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json.as_object_mut().unwrap().remove("phases_not_run");
    std::fs::write(&path, json.to_string()).unwrap();
    assert!(Manifest::read(&dir).unwrap().phases_not_run.is_empty());
}

#[test]
fn the_max_failures_stop_reason_gives_the_true_count_across_parallel_boards() {
    let body = no_power_cycle(ONE_BOARD)
        .replace(r#"boards = ["bench-01"]"#, r#"boards = "all""#)
        .replace("cycles = 3", "cycles = 50")
        + "[stop]\nmax_failures = 5\n";
    let (scenario, reports) = setup("max-failures-parallel", &body);
    let stuck = |_: &str, b: &hil::transport::VirtualBoard| {
        b.lock().inject(Fault::StuckBusy { poll_timeout_ms: 0 })
    };
    let (dir, _) = Soak::start(&scenario, &reports)
        .unwrap()
        .run_with(&StopSignal::new(), &stuck, |_| {})
        .unwrap();
    let failed = cycles(&dir).iter().filter(|r| r.failed()).count();
    let reason = Manifest::read(&dir).unwrap().stop_reason.unwrap();
    assert!(failed >= 5, "{failed}");
    if failed > 5 {
        assert!(
            reason.contains(&format!("{failed} failed in all")),
            "{failed}: {reason}"
        );
    } else {
        assert!(reason.starts_with("5 failed cycles reached"), "{reason}");
    }
}

#[test]
fn a_board_a_stop_rule_stopped_stays_stopped_after_a_resume() {
    let dir = crate::common::scratch("soak-stopped-resume");
    std::fs::write(
        dir.join("stuck.toml"),
        "name = \"stuck\"\n[faults]\nstuck_busy_per_boot = 1.0\n",
    )
    .unwrap();
    std::fs::write(dir.join("good.toml"), "name = \"good\"\n").unwrap();
    let board = |name: &str, file: &str| {
        format!("[[boards]]\nname = \"{name}\"\nhse_hz = 25_000_000\nhse_kind = \"oscillator\"\nboard_file = \"{file}\"\n")
    };
    std::fs::write(
        dir.join("rig.toml"),
        format!(
            "name = \"r\"\n{}{}",
            board("stuck", "stuck.toml"),
            board("good", "good.toml")
        ),
    )
    .unwrap();
    let scenario = dir.join("scenario.toml");
    std::fs::write(
        &scenario,
        "name = \"stopped\"\nrig = \"rig.toml\"\n[stop]\nmax_consecutive_failures = 2\n[[phases]]\nname = \"p\"\n\
         cycles = 8\n[[steps]]\nkind = \"power_cycle\"\n[[steps]]\nkind = \"wait_enumeration\"\n[[steps]]\n\
         kind = \"dfu_connect\"\n[[steps]]\nkind = \"flash\"\nimage = { generate = 4096 }\n",
    )
    .unwrap();
    let (whole, _) = Soak::start(&scenario, &dir.join("reports"))
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    let rows = cycles(&whole);
    assert_eq!(rows.iter().filter(|r| r.board == "stuck").count(), 2);
    assert_eq!(rows.iter().filter(|r| r.board == "good").count(), 8);
    // Killed after the stuck board stopped: it stays stopped, and the run records what the whole one did.
    for keep in [4, rows.len() - 2] {
        let resumed = crate::common::cut_and_resume(&whole, keep);
        let again = cycles(&resumed);
        assert_eq!(
            again.iter().filter(|r| r.board == "stuck").count(),
            2,
            "kept {keep}"
        );
        crate::common::assert_same_records(&resumed, &whole);
    }
}

#[test]
fn a_new_run_folder_is_whole_before_its_first_cycle_and_resumes_from_nothing() {
    // The moment after creation is what a kill right after the folder appears leaves: every file is there,
    // the record files hold their headers, and a resume records what an uninterrupted run does.
    let (scenario, reports) = setup("created", ONE_BOARD);
    let created = Soak::start(&scenario, &reports).unwrap().dir;
    let names: Vec<_> = std::fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        [created.file_name().unwrap()],
        "one folder, no leftovers"
    );
    for file in [
        CYCLES_CSV,
        STEPS_CSV,
        "manifest.json",
        "inputs.json",
        "scenario.toml",
        "rig.toml",
    ] {
        assert!(created.join(file).is_file(), "{file} is there");
    }
    assert_eq!(cycles(&created), [], "a header, no rows");
    let (resumed, _) = Soak::resume(&created)
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    let (whole, _) = Soak::start(&scenario, &reports)
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    crate::common::assert_same_records(&resumed, &whole);
}

#[test]
fn a_folder_still_being_created_is_named_as_never_started() {
    let (_, reports) = setup("staging", ONE_BOARD);
    let staging = reports.join(format!("{}quick-abc123", records::STAGING_PREFIX));
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::write(staging.join("scenario.toml"), "name = \"quick\"\n").unwrap();
    let err = Soak::resume(&staging).err().expect("refused").to_string();
    assert!(err.contains("never started"), "{err}");
    assert_eq!(err.matches("os error").count(), 0, "{err}");
}

#[rstest]
#[case::cycles(CYCLES_CSV)]
#[case::steps(STEPS_CSV)]
#[case::inputs("inputs.json")]
fn resume_refuses_a_folder_missing_a_record_file_naming_it(#[case] file: &str) {
    let (scenario, reports) = setup(&format!("missing-{file}"), ONE_BOARD);
    let dir = Soak::start(&scenario, &reports).unwrap().dir;
    std::fs::remove_file(dir.join(file)).unwrap();
    let err = Soak::resume(&dir).err().expect("refused").to_string();
    assert!(err.contains(&format!("{file} is missing")), "{err}");
    assert_eq!(err.matches("os error").count(), 0, "{err}");
}

/// Intrusiveness as data: a cycle says whether the harness halted the core (the HSI measurement's halting
/// attach) before the USB enumeration it used, and the board's own record of halts agrees.
#[rstest]
#[case::hsi_first("measure_hsi", "wait_enumeration", Some(true), 1)]
#[case::hsi_after_enumeration("wait_enumeration", "measure_hsi", Some(false), 1)]
#[case::no_halting_step("wait_enumeration", "read_clocks", Some(false), 0)]
fn a_cycle_records_whether_a_halting_attach_preceded_its_enumeration(
    #[case] first: &str,
    #[case] second: &str,
    #[case] halted: Option<bool>,
    #[case] board_halts: u64,
) {
    let body = format!(
        "name = \"halts\"\nboards = [\"bench-01\"]\nseed = 5\n[pass]\nmax_failure_rate = 1.0\n\
         [[phases]]\nname = \"p\"\ncycles = 3\n\
         [[steps]]\nkind = \"power_cycle\"\noff_ms = 100\n\
         [[steps]]\nkind = \"{first}\"\n[[steps]]\nkind = \"{second}\"\n"
    );
    let (scenario, reports) = setup(&format!("halts-{first}-{second}"), &body);
    let boards = std::sync::Mutex::new(Vec::new());
    let (dir, _) = Soak::start(&scenario, &reports)
        .unwrap()
        .run_with(
            &StopSignal::new(),
            &|_, b| boards.lock().unwrap().push(b.clone()),
            |_| {},
        )
        .unwrap();
    let rows = cycles(&dir);
    assert_eq!(rows.len(), 3);
    for r in &rows {
        assert_eq!(r.halted_before_enumeration, halted, "cycle {}", r.cycle);
    }
    // The last cycle's power-on, as the board saw it: halted by the measurement or never.
    let boards = boards.into_inner().unwrap();
    assert_eq!(boards.len(), 1);
    assert_eq!(boards[0].lock().halts().count, board_halts);
}

#[test]
fn a_cycle_that_never_enumerates_leaves_the_halt_column_empty() {
    let body = "name = \"no-usb\"\nboards = [\"bench-01\"]\nseed = 5\n[pass]\nmax_failure_rate = 1.0\n\
                [[phases]]\nname = \"p\"\ncycles = 2\n\
                [[steps]]\nkind = \"power_cycle\"\noff_ms = 100\n[[steps]]\nkind = \"read_clocks\"\n";
    let (scenario, reports) = setup("halts-no-usb", body);
    let (dir, _) = Soak::start(&scenario, &reports)
        .unwrap()
        .run_with(&StopSignal::new(), &|_, _| {}, |_| {})
        .unwrap();
    assert!(cycles(&dir)
        .iter()
        .all(|r| r.halted_before_enumeration.is_none()));
}
