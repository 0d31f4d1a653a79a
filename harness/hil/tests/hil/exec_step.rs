//! The `exec` scenario step on the virtual bench: a command line run per board and cycle with its placeholders
//! filled in, judged by exit code and pass/fail patterns, logged in the run folder's exec/ folder, and recorded
//! like any step. Shell one-liners stand in for STM32_Programmer_CLI and dfu-util here; the QEMU guest test runs
//! dfu-util itself against the drifting board.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hil::runner::StopSignal;
use hil::soak::Soak;
use records::{read_all, CycleRow, ErrorClass, ErrorKind, StepRow, CYCLES_CSV, STEPS_CSV};

fn rig() -> String {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rigs/virtual-bench.toml");
    std::fs::canonicalize(p).unwrap().display().to_string()
}

/// A 3-cycle soak of bench-01 whose cycle is a power cycle and then `step` (TOML of one `[[steps]]` table).
fn soak(name: &str, step: &str) -> Result<PathBuf, hil::soak::SoakError> {
    let dir = crate::common::scratch(&format!("exec-{name}"));
    let scenario = dir.join("scenario.toml");
    let text = format!(
        "rig = {:?}\nname = \"exec\"\nboards = [\"bench-01\"]\n[pass]\nmax_failure_rate = 1.0\n\
         [[phases]]\nname = \"p\"\ncycles = 3\n[[steps]]\nkind = \"power_cycle\"\n{step}",
        rig()
    );
    std::fs::write(&scenario, text).unwrap();
    let soak = Soak::start(&scenario, &dir.join("reports"))?;
    soak.run_with(&StopSignal::new(), &|_, _| {}, |_| {})
        .map(|(dir, _)| dir)
}

fn exec_rows(run: &Path) -> Vec<StepRow> {
    read_all::<StepRow>(&run.join(STEPS_CSV))
        .unwrap()
        .into_iter()
        .filter(|r| r.step == "exec")
        .collect()
}

#[test]
fn placeholders_are_filled_per_cycle_and_a_pass_records_exit_code_and_log() {
    let run = soak(
        "pass",
        "[[steps]]\nkind = \"exec\"\ncommand = [\"sh\", \"-c\", \"echo board={board} cycle={cycle} path={usb_path} id={step_id} > out-{cycle}.txt; echo Upload done; echo {cycle} >> {exec_dir}/cycles-seen.txt; test -d {run_dir}/exec\"]\npass = \"^Upload done\"\n",
    )
    .unwrap();
    let rows = exec_rows(&run);
    assert_eq!(rows.len(), 3);
    for r in &rows {
        assert!(r.error_kind.is_none(), "{r:?}");
        assert!(r.detail.starts_with("exit code 0, "), "{}", r.detail);
        assert!(r.detail.contains("(log: exec/bench-01-p-c"), "{}", r.detail);
    }
    // The tool ran in the run folder's exec/ folder, with this board's and this cycle's values.
    let out = std::fs::read_to_string(run.join("exec/out-2.txt")).unwrap();
    assert_eq!(
        out.trim(),
        "board=bench-01 cycle=2 path=0-1 id=bench-01-p-c2-a1-s1-t1"
    );
    // {exec_dir} and {run_dir} are absolute, whatever the soak was given: they resolve from the tool's directory.
    let seen = std::fs::read_to_string(run.join("exec/cycles-seen.txt")).unwrap();
    assert_eq!(seen, "1\n2\n3\n");
    let log = std::fs::read_to_string(run.join("exec/bench-01-p-c2-a1-s1-t1.log")).unwrap();
    assert!(
        log.contains("status: exit code 0") && log.contains("Upload done"),
        "{log}"
    );
}

/// CubeProgrammer's symptom as a fail line: the step fails on exactly the cycle that prints it, as the board's
/// failure, with the line in the record; the run goes on.
#[test]
fn a_fail_line_fails_the_cycle_as_the_boards_with_the_line_recorded() {
    let run = soak(
        "fail-line",
        "[[steps]]\nkind = \"exec\"\ncommand = [\"sh\", \"-c\", \"echo Reading...; [ {cycle} -ne 2 ] || echo 'Error: Uploading Option Bytes bank: 0 failed'\"]\nfail = \"Uploading Option Bytes bank: [0-9]+ failed\"\n",
    )
    .unwrap();
    let cycles: Vec<CycleRow> = read_all(&run.join(CYCLES_CSV)).unwrap();
    let failed: Vec<u64> = cycles
        .iter()
        .filter(|r| r.failed())
        .map(|r| r.cycle)
        .collect();
    assert_eq!(failed, [2]);
    let c2 = &cycles[1];
    assert_eq!(
        (c2.failed_step.as_str(), c2.error_kind, c2.error_class),
        ("exec", Some(ErrorKind::Exec), Some(ErrorClass::Board))
    );
    assert!(
        c2.error_detail
            .contains("failure line \"Error: Uploading Option Bytes bank: 0 failed\""),
        "{}",
        c2.error_detail
    );
}

#[test]
fn a_non_zero_exit_and_a_missing_pass_line_fail() {
    let run = soak(
        "exit",
        "[[steps]]\nkind = \"exec\"\ncommand = [\"sh\", \"-c\", \"echo dfu-util: Error during upload >&2; exit {cycle}\"]\n",
    )
    .unwrap();
    let rows = exec_rows(&run);
    // Cycle 1 exits 1, 2 exits 2, 3 exits 3: each a failure with its code and last line.
    for (r, code) in rows.iter().zip(1..) {
        assert_eq!(r.error_kind, Some(ErrorKind::Exec));
        assert!(
            r.detail.contains(&format!(
                "exit code {code}, last line \"dfu-util: Error during upload\""
            )),
            "{}",
            r.detail
        );
    }
    let run = soak(
        "no-pass",
        "[[steps]]\nkind = \"exec\"\ncommand = [\"true\"]\npass = \"Upload done\"\n",
    )
    .unwrap();
    assert!(exec_rows(&run).iter().all(|r| r
        .detail
        .contains("no line of its output matches the pass pattern")));
}

#[test]
fn a_missing_program_is_the_harnesss_not_the_boards() {
    let run = soak(
        "missing",
        "[[steps]]\nkind = \"exec\"\ncommand = [\"STM32_Programmer_CLI\", \"-c\", \"port=usb1\", \"-ob\", \"displ\"]\n",
    )
    .unwrap();
    let r = &exec_rows(&run)[0];
    assert_eq!(r.error_class, Some(ErrorClass::Infrastructure));
    assert!(
        r.detail
            .contains("no such program \"STM32_Programmer_CLI\""),
        "{}",
        r.detail
    );
    // Its log says it never started, not that hil lost sight of it.
    let log = std::fs::read_to_string(run.join("exec/bench-01-p-c1-a1-s1-t1.log")).unwrap();
    assert!(
        log.contains("status: not started: no such program"),
        "{log}"
    );
}

#[test]
fn a_tool_past_its_timeout_is_killed_and_the_run_goes_on() {
    let t = Instant::now();
    let run = soak(
        "timeout",
        "[[steps]]\nkind = \"exec\"\ncommand = [\"sh\", \"-c\", \"echo Opening DFU device; sleep 30\"]\ntimeout_ms = 300\n",
    )
    .unwrap();
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    let rows = exec_rows(&run);
    assert_eq!(rows.len(), 3, "every cycle ran");
    assert!(rows.iter().all(|r| r.error_kind == Some(ErrorKind::Timeout)
        && r.detail.contains("did not finish within 300 ms")
        && r.detail.contains("Opening DFU device")));
}

/// An exec step that writes into cycles.csv behind hil's back: the run stops at the next row with a message
/// naming the file, and the rows before the foreign line are intact.
#[test]
fn a_tool_that_writes_into_the_records_stops_the_run_with_the_file_named() {
    let err = soak(
        "tamper",
        "[[steps]]\nkind = \"exec\"\ncommand = [\"sh\", \"-c\", \"[ {cycle} -ne 2 ] || { f=cyc; echo junk >> ../${f}les.csv; }\"]\n",
    )
    .unwrap_err();
    let text = hil::runner::chain(&err);
    assert!(
        text.contains("cycles.csv: changed by something other than hil"),
        "{text}"
    );
}

/// A run killed after an exec step failed, resumed: the replayed virtual board takes the tool's recorded verdict
/// (the tool is not run again), so the failed attempt is retried as it was, and the record is the uninterrupted
/// run's. The tries run again live get names of their own: this tool, like dfu-util, refuses to write over a
/// file an earlier try of the same step left.
#[rstest::rstest]
#[case::after_the_failed_attempt(2)]
#[case::before_it(1)]
fn a_resumed_run_replays_recorded_exec_verdicts_and_reruns_under_new_names(#[case] keep: usize) {
    let whole = soak(
        &format!("resume-{keep}"),
        "[[steps]]\nkind = \"exec\"\ncommand = [\"sh\", \"-c\", \"set -C; echo {cycle} > {exec_dir}/up-{step_id}.bin || exit 9; [ {cycle}{attempt} != 21 ] || echo 'Uploading Option Bytes bank: 0 failed'\"]\nfail = \"bank: 0 failed\"\n\
         [retry]\ncycle_attempts = 2\non = \"any\"\n",
    )
    .unwrap();
    let cycles: Vec<CycleRow> = read_all(&whole.join(CYCLES_CSV)).unwrap();
    let attempts: Vec<(u64, u32, bool)> = cycles
        .iter()
        .map(|r| (r.cycle, r.attempt, r.failed()))
        .collect();
    assert_eq!(
        attempts,
        [(1, 1, false), (2, 1, true), (2, 2, false), (3, 1, false)]
    );

    let resumed = crate::common::cut_and_resume(&whole, keep);
    // The same record, but for the run folder's path, how long each tool ran and the reruns' names.
    let same = |run: &Path| {
        let (mut cycles, mut steps) = crate::common::records(run);
        let varies = regex::Regex::new(r"\d+ ms|-r\d+|/\S*/exec/").unwrap();
        let clean = |text: &str| varies.replace_all(text, "").into_owned();
        cycles
            .iter_mut()
            .for_each(|c| c.error_detail = clean(&c.error_detail));
        steps.iter_mut().for_each(|s| s.detail = clean(&s.detail));
        (cycles, steps)
    };
    assert_eq!(same(&resumed), same(&whole));
    // Every try after the cut ran again, beside the killed run's files, not over them.
    let exec = resumed.join("exec");
    let reruns = std::fs::read_dir(&exec)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with("-r2.log")
        })
        .count();
    let live = cycles.len() - keep;
    assert_eq!(reruns, live, "{}", exec.display());
    assert!(exec.join("bench-01-p-c3-a1-s1-t1.log").is_file());
}
