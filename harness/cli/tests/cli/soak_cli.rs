//! `hil soak` as a process: killed with SIGKILL mid-run and resumed with no cycle lost or duplicated,
//! interrupted with Ctrl-C (SIGINT) and left consistent, and its exit codes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use records::{read_all, CycleRow, Manifest, RunStatus, StepRow, CYCLES_CSV, STEPS_CSV};

fn hil() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hil"))
}

/// `hil soak SCENARIO --reports REPORTS` plus `extra` arguments.
fn soak(scenario: &Path, reports: &Path, extra: &[&str]) -> Command {
    let mut cmd = hil();
    cmd.arg("soak")
        .arg(scenario)
        .arg("--reports")
        .arg(reports)
        .args(extra);
    cmd
}

fn workdir(name: &str, scenario_body: &str) -> (PathBuf, PathBuf) {
    let dir = crate::common::scratch(&format!("soak_cli-{name}"));
    let rig = std::fs::canonicalize(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rigs/virtual-bench.toml"),
    )
    .unwrap();
    let scenario = dir.join("scenario.toml");
    std::fs::write(
        &scenario,
        format!("rig = {:?}\n{scenario_body}", rig.display().to_string()),
    )
    .unwrap();
    (scenario, dir.join("reports"))
}

fn long(cycles: u64) -> String {
    format!(
        r#"
name = "long"
boards = "all"
seed = 5
[pass]
max_failure_rate = 1.0
[[phases]]
name = "one"
cycles = {cycles}
[[steps]]
kind = "power_cycle"
[[steps]]
kind = "wait_enumeration"
[[steps]]
kind = "dfu_connect"
[[steps]]
kind = "read_option_bytes"
[[steps]]
kind = "read_clocks"
"#
    )
}

fn only_run_dir(reports: &Path) -> PathBuf {
    let mut dirs: Vec<_> = std::fs::read_dir(reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.remove(0)
}

fn wait_for_rows(reports: &Path, at_least: usize, child: &mut Child) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the soak ended before it could be interrupted"
        );
        let first = std::fs::read_dir(reports)
            .ok()
            .and_then(|mut d| d.next())
            .map(|e| e.unwrap().path());
        if let Some(dir) = first {
            let n = std::fs::read_to_string(dir.join(CYCLES_CSV))
                .map(|t| t.lines().count())
                .unwrap_or(0);
            if n > at_least {
                return dir;
            }
        }
        assert!(Instant::now() < deadline, "no rows appeared");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn decided(rows: &[CycleRow]) -> Vec<(String, u64)> {
    rows.iter()
        .filter(|r| r.final_attempt)
        .map(|r| (r.board.clone(), r.cycle))
        .collect()
}

/// The record of a run without its wall-clock column, in a stable order.
fn comparable(mut rows: Vec<CycleRow>) -> Vec<CycleRow> {
    rows.sort_by(|a, b| (&a.board, a.cycle, a.attempt).cmp(&(&b.board, b.cycle, b.attempt)));
    rows.iter_mut().for_each(|r| r.started_utc.clear());
    rows
}

#[test]
fn a_soak_killed_with_sigkill_resumes_with_no_cycle_lost_or_duplicated() {
    const CYCLES: u64 = 400;
    let (scenario, reports) = workdir("kill", &long(CYCLES));
    let mut child = soak(&scenario, &reports, &["-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let dir = wait_for_rows(&reports, 200, &mut child);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // Whatever moment the kill hit, the files parse and hold every finished cycle exactly once.
    let before: Vec<CycleRow> = read_all(&dir.join(CYCLES_CSV)).unwrap();
    let _: Vec<StepRow> = read_all(&dir.join(STEPS_CSV)).unwrap();
    let killed_at = decided(&before).len();
    assert!(
        killed_at > 0 && (killed_at as u64) < 10 * CYCLES,
        "killed mid-run at {killed_at}"
    );
    assert_eq!(Manifest::read(&dir).unwrap().status, RunStatus::Running);

    let status = hil()
        .args(["soak", "--resume", dir.to_str().unwrap(), "-q"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let after: Vec<CycleRow> = read_all(&dir.join(CYCLES_CSV)).unwrap();
    let keys = decided(&after);
    assert_eq!(keys.len() as u64, 10 * CYCLES, "every cycle, once");
    assert_eq!(
        keys.iter().collect::<HashSet<_>>().len(),
        keys.len(),
        "no cycle duplicated"
    );
    let manifest = Manifest::read(&dir).unwrap();
    assert_eq!(
        (manifest.status, manifest.resumed),
        (RunStatus::Finished, 1)
    );

    // Each step row belongs to exactly one recorded cycle attempt (the torn attempt's steps were dropped).
    let steps: Vec<StepRow> = read_all(&dir.join(STEPS_CSV)).unwrap();
    let attempts: HashSet<_> = after
        .iter()
        .map(|r| (r.board.clone(), r.cycle, r.attempt))
        .collect();
    assert!(steps
        .iter()
        .all(|s| attempts.contains(&(s.board.clone(), s.cycle, s.attempt))));
    let per_attempt: HashSet<_> = steps
        .iter()
        .map(|s| (s.board.clone(), s.cycle, s.attempt, s.index, s.try_number))
        .collect();
    assert_eq!(per_attempt.len(), steps.len(), "no step row duplicated");

    // Virtual boards are reseeded per cycle: the resumed run recorded what an uninterrupted one records.
    let (scenario2, reports2) = workdir("uninterrupted", &long(CYCLES));
    let status = soak(&scenario2, &reports2, &["-q"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let whole: Vec<CycleRow> = read_all(&only_run_dir(&reports2).join(CYCLES_CSV)).unwrap();
    assert_eq!(comparable(after), comparable(whole));
}

#[test]
fn ctrl_c_finishes_the_current_cycle_and_records_the_run_as_interrupted() {
    let (scenario, reports) = workdir("sigint", &long(100_000));
    let mut child = soak(&scenario, &reports, &["-q"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let dir = wait_for_rows(&reports, 50, &mut child);
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.code().is_some(),
        "exited by itself, not killed by the signal"
    );
    let manifest = Manifest::read(&dir).unwrap();
    assert_eq!(manifest.status, RunStatus::Interrupted);
    let rows: Vec<CycleRow> = read_all(&dir.join(CYCLES_CSV)).unwrap();
    assert!(!rows.is_empty() && rows.len() < 1_000_000);
    assert!(String::from_utf8_lossy(&out.stdout).contains("status: Interrupted"));
}

#[test]
fn thresholds_decide_the_exit_code() {
    let strict = long(30).replace("max_failure_rate = 1.0", "max_failure_rate = 0.0");
    let (scenario, reports) = workdir("strict", &strict);
    let out = soak(&scenario, &reports, &[]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "drifting boards fail, a zero-failure threshold is missed"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("THRESHOLD MISSED"));

    let healthy = long(30).replace(r#"boards = "all""#, r#"boards = ["bench-01", "bench-02"]"#);
    let (scenario, reports) = workdir(
        "healthy",
        &healthy.replace("max_failure_rate = 1.0", "max_failure_rate = 0.0"),
    );
    let out = soak(&scenario, &reports, &[]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_bad_scenario_is_a_usage_error_naming_file_line_and_key() {
    let (scenario, reports) = workdir("bad", &long(3).replace("cycles = 3", "cycles = \"many\""));
    let out = soak(&scenario, &reports, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("scenario.toml:") && err.contains("cycles"),
        "{err}"
    );
    assert!(
        !reports.exists(),
        "no run folder for a scenario that does not load"
    );
}

/// (tests, failures) of junit.xml's `thresholds` suite, read with an XML parser.
fn junit_thresholds(run: &Path) -> (u64, u64) {
    let text = std::fs::read_to_string(run.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("junit.xml is well-formed XML");
    let suites = doc.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let attr = |n: roxmltree::Node, a: &str| n.attribute(a).unwrap().parse::<u64>().unwrap();
    let cases: Vec<_> = suites
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let failed = cases
        .iter()
        .filter(|c| c.children().any(|f| f.has_tag_name("failure")))
        .count() as u64;
    assert_eq!(
        attr(suites, "tests"),
        cases.len() as u64,
        "totals count every case"
    );
    assert_eq!(
        attr(suites, "failures"),
        failed,
        "totals count every failed case"
    );
    let t = suites
        .children()
        .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some("thresholds"))
        .expect("a thresholds suite");
    (attr(t, "tests"), attr(t, "failures"))
}

/// junit.xml's failed test cases, after checking every suite carries time, timestamp and hostname and every
/// failure has a body or a message.
fn junit_failed_cases(run: &Path) -> usize {
    let text = std::fs::read_to_string(run.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("junit.xml is well-formed XML");
    for suite in doc.descendants().filter(|n| n.has_tag_name("testsuite")) {
        for a in ["time", "timestamp", "hostname"] {
            assert!(
                suite.attribute(a).is_some_and(|v| !v.is_empty()),
                "{a} on {suite:?}"
            );
        }
        let stamp = suite.attribute("timestamp").unwrap();
        assert_eq!(stamp.len(), 19, "ISO 8601 without a zone: {stamp}");
    }
    let failures: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    for f in &failures {
        let case = f.parent().unwrap();
        if case.attribute("classname") != Some("thresholds") {
            let body = f.text().unwrap_or_default();
            assert!(
                body.contains("failed ["),
                "a failed case lists its failures: {body:?}"
            );
        }
    }
    failures.len()
}

#[test]
fn the_quick_scenario_passes_and_its_junit_has_no_failed_case() {
    let quick = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/quick.toml");
    let reports = crate::common::scratch("soak_cli-quick-junit");
    let o = soak(&quick, &reports, &["-q"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "thresholds met: {stdout}");
    let run = std::fs::read_dir(&reports)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(
        junit_failed_cases(&run),
        0,
        "CI stays green on a passing run"
    );
    assert_eq!(junit_thresholds(&run), (1, 0));
    let text = std::fs::read_to_string(run.join("junit.xml")).unwrap();
    assert!(
        text.contains("within the thresholds") && text.contains("failed ["),
        "failures within the thresholds are listed in system-out"
    );
}

#[test]
fn without_a_pass_table_soak_report_and_junit_give_one_verdict() {
    let quick = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/quick.toml"),
    )
    .unwrap();
    let body: String = quick
        .lines()
        .filter(|l| {
            !l.starts_with("rig ") && !l.starts_with("[pass]") && !l.starts_with("max_failure_rate")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let (scenario, reports) = workdir("no-pass", &body);
    let o = soak(&scenario, &reports, &["-q"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the bench's bad boards fail: {stdout}"
    );
    assert!(
        stdout.contains("THRESHOLD MISSED: failure rate"),
        "{stdout}"
    );
    let run = std::fs::read_dir(&reports)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let manifest = Manifest::read(&run).unwrap();
    assert_eq!(
        manifest.thresholds.max_failure_rate, 0.0,
        "the default, resolved"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["thresholds_met"], false);
    assert_eq!(junit_thresholds(&run), (1, 1));
    assert!(
        junit_failed_cases(&run) > 1,
        "the failing boards' cases fail too"
    );
    let report = hil().arg("report").arg(&run).output().unwrap();
    assert_eq!(
        report.status.code(),
        Some(1),
        "hil report judges as the soak did"
    );
}

#[test]
fn a_folder_that_is_not_a_run_folder_is_named_once_as_such() {
    let dir = crate::common::scratch("soak_cli-not-a-run");
    let shown = dir.display().to_string();
    let want = format!(
        "hil: {shown} is not a run folder (no manifest.json; it is empty, as a soak killed while creating its \
         folder leaves it: such a run never started)\n"
    );
    for args in [&["report"][..], &["soak", "--resume"][..]] {
        let o = hil().args(args).arg(&dir).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&o.stderr), want, "{args:?}");
    }
    let gone = dir.join("gone");
    let o = hil().arg("report").arg(&gone).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains(&format!(
        "{} is not a run folder (no such folder)",
        gone.display()
    )));
}

#[test]
fn a_bad_baseline_is_named_as_the_baseline_before_the_soak_runs() {
    let (scenario, reports) = workdir("bad-baseline", &long(2));
    let bad = reports.with_file_name("not-a-run");
    std::fs::create_dir_all(&bad).unwrap();
    let o = soak(
        &scenario,
        &reports,
        &["-q", "--baseline", bad.to_str().unwrap()],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    let want = format!(
        "baseline {} is not a run folder (no manifest.json; it is empty",
        bad.display()
    );
    assert!(err.contains(&want), "{err}");
    assert!(!reports.exists(), "no run started");
    let run = {
        let o = soak(&scenario, &reports, &["-q"]).output().unwrap();
        assert!(o.status.success());
        only_run_dir(&reports)
    };
    let o = hil()
        .arg("report")
        .arg(&run)
        .arg("--baseline")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains(&want));
}

#[test]
fn the_default_scenario_runs_from_an_empty_folder_without_the_source_tree() {
    let here = crate::common::scratch("soak_cli-anywhere");
    let run = || {
        hil()
            .args(["soak", "-q"])
            .current_dir(&here)
            .env("HIL_NO_SOURCE_TREE", "1")
            .output()
            .unwrap()
    };
    let o = run();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(
            "wrote the built-in quick scenario, rig and board files (12 files) to hil-quick/"
        ),
        "{err}"
    );
    let dir = only_run_dir(&here.join("reports"));
    assert!(dir.join("report.html").is_file());
    let manifest = Manifest::read(&dir).unwrap();
    let written = std::fs::canonicalize(here.join("hil-quick")).unwrap();
    assert_eq!(manifest.scenario_file, written.join("scenarios/quick.toml"));
    assert_eq!(
        manifest.rig_file,
        written.join("fixtures/rigs/virtual-bench.toml")
    );
    assert_eq!(
        read_all::<CycleRow>(&dir.join(CYCLES_CSV)).unwrap().len(),
        200
    );
    // The second time the files are there: used as they are, not written again.
    let again = run();
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success() && !err.contains("wrote"), "{err}");
    assert!(
        err.contains("Scenario: hil-quick/scenarios/quick.toml"),
        "{err}"
    );
}

#[test]
fn a_soak_that_regressed_against_its_baseline_fails_only_with_fail_on_regression() {
    let body = |boards: &str| long(80).replace(r#"boards = "all""#, &format!("boards = {boards}"));
    let (healthy, base_reports) = workdir("regress-base", &body(r#"["bench-01"]"#));
    assert_eq!(
        soak(&healthy, &base_reports, &["-q"])
            .status()
            .unwrap()
            .code(),
        Some(0)
    );
    let baseline = only_run_dir(&base_reports);
    let (worse, reports) = workdir("regress-worse", &body(r#"["bench-06"]"#));
    let base = baseline.to_str().unwrap();
    let plain = soak(&worse, &reports, &["-q", "--baseline", base])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&plain.stdout);
    assert!(stdout.contains("REGRESSION"), "{stdout}");
    assert_eq!(
        plain.status.code(),
        Some(0),
        "thresholds met, no flag: {stdout}"
    );
    let failing = soak(
        &worse,
        &reports,
        &["-q", "--baseline", base, "--fail-on-regression"],
    )
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&failing.stdout);
    assert_eq!(failing.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("--fail-on-regression fails the report"),
        "{stdout}"
    );
}

/// An exec step's `{exec_dir}` resolves from the tool's own working directory (exec/) even when the soak was given
/// a relative reports folder, as `hil soak s.toml --reports reports` from the bench's folder gives it.
#[test]
fn exec_step_placeholders_are_absolute_for_a_relative_reports_folder() {
    let dir = tempfile::tempdir().unwrap();
    let rig =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rigs/virtual-bench.toml");
    let scenario = format!(
        "name = \"rel\"\nrig = {:?}\nboards = [\"bench-01\"]\n[pass]\nmax_failure_rate = 1.0\n[[phases]]\nname = \"p\"\n\
         cycles = 2\n[[steps]]\nkind = \"exec\"\ncommand = [\"sh\", \"-c\", \"echo {{cycle}} >> {{exec_dir}}/seen.txt\"]\n",
        std::fs::canonicalize(rig).unwrap()
    );
    std::fs::write(dir.path().join("s.toml"), scenario).unwrap();
    let o = hil()
        .current_dir(dir.path())
        .args(["soak", "s.toml", "--reports", "reports", "-q"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let run = std::fs::read_dir(dir.path().join("reports"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .unwrap();
    assert_eq!(
        std::fs::read_to_string(run.join("exec/seen.txt")).unwrap(),
        "1\n2\n"
    );
    let rows: Vec<CycleRow> = read_all(&run.join(CYCLES_CSV)).unwrap();
    assert!(rows.iter().all(|r| !r.failed()), "{rows:#?}");
}
