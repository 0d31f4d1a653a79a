//! The failure report built from real soak records: snapshots of summary.json, junit.xml and the page for a
//! seeded virtual run; the diagnosis names HSE misdetection first on the seed's situation and names nothing
//! on healthy boards; baseline comparison; merged runs; torn records.

use std::path::PathBuf;

use hil::runner::StopSignal;
use hil::soak::Soak;
use report::Report;
use vboard::Fault;

fn rig() -> String {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rigs/virtual-bench.toml");
    std::fs::canonicalize(p).unwrap().display().to_string()
}

/// Run a soak of `body` (the rig line is added) in a fresh folder; returns the run folder.
fn soak(name: &str, body: &str) -> PathBuf {
    soak_with(name, body, &|_, _| {})
}

fn soak_with(name: &str, body: &str, prepare: hil::runner::PrepareBoard<'_>) -> PathBuf {
    let dir = crate::common::scratch(&format!("report-{name}"));
    let scenario = dir.join("scenario.toml");
    std::fs::write(&scenario, format!("rig = {:?}\n{body}", rig())).unwrap();
    let soak = Soak::start(&scenario, &dir.join("reports")).unwrap();
    soak.run_with(&StopSignal::new(), prepare, |_| {})
        .unwrap()
        .0
}

fn scenario(boards: &str, phases: &[(u32, u64)], pass: &str) -> String {
    let mut s = format!("name = \"r\"\nboards = {boards}\nseed = 3\n[pass]\n{pass}\n");
    for (t, n) in phases {
        s += &format!("[[phases]]\nname = \"{t}C\"\ncycles = {n}\ntemperature_c = {t}\n");
    }
    for step in [
        "power_cycle",
        "wait_enumeration",
        "read_clocks",
        "dfu_connect",
        "read_option_bytes",
    ] {
        s += &format!("[[steps]]\nkind = \"{step}\"\n");
    }
    s + "[[steps]]\nkind = \"flash\"\nimage = { generate = 4096 }\nverify = true\n"
}

fn build(runs: &[PathBuf], baseline: &[PathBuf]) -> Report {
    report::build(runs, baseline).unwrap()
}

/// The report with what differs between machines and runs (wall clock, host, folders) blanked.
fn stable(mut r: Report) -> Report {
    for run in &mut r.runs {
        (run.folder, run.host, run.started_utc, run.ended_utc) =
            ("<run>".into(), "<host>".into(), "<t>".into(), None);
    }
    for b in &mut r.boards {
        b.first_failure_utc = b.first_failure_utc.as_ref().map(|_| "<t>".into());
        b.last_failure_utc = b.last_failure_utc.as_ref().map(|_| "<t>".into());
    }
    for p in &mut r.board_phases {
        p.first_failures
            .iter_mut()
            .for_each(|f| f.run = "<run>".into());
    }
    for t in &mut r.thresholds {
        t.run = "<run>".into();
    }
    for f in &mut r.drilldown {
        f.run = "<run>".into();
        f.cycle.started_utc = "<t>".into();
        f.steps
            .iter_mut()
            .for_each(|s| s.started_utc = "<t>".into());
    }
    r
}

#[test]
fn a_seeded_virtual_run_gives_the_same_report_every_time() {
    let body = scenario(
        r#"["bench-01", "bench-05", "bench-06"]"#,
        &[(22, 6), (34, 6)],
        "max_failure_rate = 0.2",
    );
    let run = soak("seeded", &body);
    let r = stable(build(std::slice::from_ref(&run), &[]));
    let out = run.join("out");
    report::write(&r, &out).unwrap();
    let json = std::fs::read_to_string(out.join(report::SUMMARY_JSON)).unwrap();
    let junit = std::fs::read_to_string(out.join(report::JUNIT_XML)).unwrap();
    let html = std::fs::read_to_string(out.join(report::REPORT_HTML)).unwrap();
    insta::assert_snapshot!("seeded_summary_json", json);
    insta::assert_snapshot!("seeded_junit_xml", junit);
    insta::assert_snapshot!("seeded_report_html", html);
    // Self-contained: no scripts, nothing fetched.
    for fetch in [
        "<script",
        "src=",
        "href=\"http",
        "@import",
        "url(http",
        "<link",
    ] {
        assert!(
            !html.contains(fetch),
            "the page fetches nothing: found {fetch}"
        );
    }
    assert!(html.contains("<svg"), "charts are inline SVG");
    page_reads_on_any_screen_and_paper(&html);
}

/// What a reader of the seeded page needs whatever they open it on.
fn page_reads_on_any_screen_and_paper(html: &str) {
    assert!(html.contains(r#"<meta name="viewport" content="width=device-width"#));
    assert!(html.contains("@media print"), "print rules");
    assert!(html.contains("thead { display: table-header-group; }"));
    assert!(html.contains("break-after: avoid"));
    // Drill-downs print expanded: a print-only copy of each, since a closed <details> prints closed.
    assert!(html.contains("details.screen { display: none; } .print { display: block; }"));
    assert_eq!(
        html.matches("<details class=\"screen\">").count(),
        html.matches("<div class=\"print\">").count()
    );
    // An exponent never wraps at its minus.
    let bytes = html.as_bytes();
    let broken = (1..bytes.len() - 1).any(|i| {
        bytes[i] == b'-'
            && bytes[i - 1] == b'e'
            && bytes[i + 1].is_ascii_digit()
            && i > 1
            && bytes[i - 2].is_ascii_digit()
    });
    assert!(!broken, "an exponent with a plain hyphen");
    for anchor in ["diagnosis", "boards", "why", "drilldown", "environment"] {
        assert!(html.contains(&format!("href=\"#{anchor}\"")), "{anchor}");
        assert!(html.contains(&format!("id=\"{anchor}\"")), "{anchor}");
    }
    // The seeded run has two temperatures on every board: the temperature section is there.
    assert!(html.contains("<h3 id=\"temperature\">"));
    // A cycle that failed before reading its option bytes is counted, as not read.
    assert!(html.contains("<td class=\"l\">not read (cycle failed before the read)</td>"));
    assert!(html.contains("<dt>steps</dt>") && html.contains("<code>power_cycle</code>"));
}

#[test]
fn the_seed_situation_is_diagnosed_as_hse_misdetection_first() {
    let body = scenario(r#""all""#, &[(20, 30), (35, 30)], "max_failure_rate = 0.0");
    let r = build(&[soak("seed", &body)], &[]);
    assert!(r.total.failures > 0);
    assert_eq!(
        r.causes[0].id,
        "hse_misdetection",
        "{:#?}",
        r.causes.iter().map(|c| (&c.id, c.kind)).collect::<Vec<_>>()
    );
    assert_eq!(r.causes[0].kind, report::Kind::Cause);
    assert!(
        r.diagnosis.contains("HSE misdetected by the bootloader on"),
        "{}",
        r.diagnosis
    );
    let finding = &r.causes[0].finding;
    assert!(
        finding.contains("(25 MHz): misdetected on") && finding.contains("PLLM=24"),
        "{finding}"
    );
    assert!(finding.contains("+41,667 ppm"), "{finding}");
    assert!(!r.thresholds_met);
}

#[test]
fn healthy_boards_get_no_cause() {
    let body = scenario(
        r#"["bench-01", "bench-02", "bench-07"]"#,
        &[(25, 20)],
        "max_failure_rate = 0.0",
    );
    let run = soak("healthy", &body);
    let r = build(std::slice::from_ref(&run), &[]);
    assert_eq!(r.total.failures, 0);
    // One temperature: no temperature section to read nothing from.
    report::write(&r, &run.join("out")).unwrap();
    let html = std::fs::read_to_string(run.join("out").join(report::REPORT_HTML)).unwrap();
    assert!(!html.contains("id=\"temperature\""));
    assert!(
        r.diagnosis.starts_with("No failures in 60 cycles"),
        "{}",
        r.diagnosis
    );
    assert!(r.causes.is_empty(), "nothing to name: {:?}", r.causes);
    assert!(r.candidates.is_empty(), "no failures, no contrast");
    assert!(r.thresholds_met);
}

/// A transfer number that falls on a DFU request of the first cycle (an enumeration request that stalls is
/// retried by the host, as Linux does, and passes).
const STALL_AT: u32 = 30;

#[test]
fn failures_no_factor_explains_are_called_unexplained() {
    // A rare stall on one healthy board: no clock, temperature or board factor explains it.
    let body = scenario(r#"["bench-01"]"#, &[(25, 40)], "max_failure_rate = 1.0");
    let stall = |_: &str, b: &hil::transport::VirtualBoard| {
        b.lock().inject(Fault::StallOnRequest(STALL_AT))
    };
    let r = build(&[soak_with("unexplained", &body, &stall)], &[]);
    assert_eq!(r.total.failures, 1);
    assert!(
        r.diagnosis
            .contains("no factor the harness records explains them"),
        "{}",
        r.diagnosis
    );
}

#[test]
fn a_worse_run_against_a_healthy_baseline_is_flagged_as_a_regression() {
    let healthy = soak(
        "base",
        &scenario(
            r#"["bench-01", "bench-02"]"#,
            &[(25, 40)],
            "max_failure_rate = 1.0",
        ),
    );
    let worse = soak(
        "worse",
        &scenario(
            r#"["bench-05", "bench-06"]"#,
            &[(30, 40)],
            "max_failure_rate = 1.0",
        ),
    );
    let r = build(std::slice::from_ref(&worse), std::slice::from_ref(&healthy));
    let b = r.baseline.as_ref().expect("compared");
    assert!(b.regression, "{b:?}");
    assert_eq!(b.baseline.k, 0);
    let back = build(&[healthy], &[worse]);
    assert!(!back.baseline.unwrap().regression);
}

#[test]
fn runs_from_several_hosts_merge_into_one_report() {
    let a = soak(
        "host-a",
        &scenario(r#"["bench-01"]"#, &[(25, 10)], "max_failure_rate = 1.0"),
    );
    let b = soak(
        "host-b",
        &scenario(r#"["bench-06"]"#, &[(25, 10)], "max_failure_rate = 1.0"),
    );
    let r = build(&[a, b], &[]);
    assert_eq!(r.runs.len(), 2);
    assert_eq!(r.total.cycles, 20);
    assert_eq!(
        r.boards
            .iter()
            .map(|b| b.row.name.as_str())
            .collect::<Vec<_>>(),
        ["bench-01", "bench-06"]
    );
}

#[test]
fn a_torn_last_row_from_a_killed_run_is_left_out() {
    let run = soak(
        "torn",
        &scenario(r#"["bench-01"]"#, &[(25, 5)], "max_failure_rate = 1.0"),
    );
    let path = run.join(records::CYCLES_CSV);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("1,2026-11-23T00:00:00Z,9.9,bench-01,25C,6,1,tr");
    std::fs::write(&path, text).unwrap();
    assert_eq!(build(&[run], &[]).total.cycles, 5);
}

#[test]
fn a_missing_run_folder_is_an_error_naming_it() {
    let err = report::build(&[PathBuf::from("/nonexistent/run")], &[]).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/run"), "{err}");
}

#[test]
fn the_shipped_seed_scenario_report_names_hse_misdetection_first() {
    let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/seed-f746.toml");
    let reports = crate::common::scratch("report-shipped-seed");
    let (run, _) = Soak::start(&scenario, &reports)
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    let r = build(&[run], &[]);
    assert_valid_summary(&r);
    assert_eq!(r.total.cycles, 8000);
    assert_eq!(r.causes[0].id, "hse_misdetection");
    assert!(
        r.diagnosis.starts_with(
            "724 failures in 8000 cycles, one cause: HSE misdetected by the bootloader on"
        ),
        "{}",
        r.diagnosis
    );
    assert!(
        r.diagnosis.contains("it rises as it gets hotter")
            && r.causes[0].direction.as_deref() == Some("hotter"),
        "the sweep shows the drift: {}",
        r.diagnosis
    );
    let healthy: Vec<_> = r
        .boards
        .iter()
        .filter(|b| {
            ["bench-01", "bench-02", "bench-07", "bench-08", "bench-09"]
                .contains(&b.row.name.as_str())
        })
        .collect();
    assert!(
        healthy.iter().all(|b| b.row.failures == 0),
        "the healthy boards are clean"
    );
}

#[test]
fn the_shipped_quick_scenario_report_names_hse_misdetection_first() {
    let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/quick.toml");
    let reports = crate::common::scratch("report-shipped-quick");
    let (run, _) = Soak::start(&scenario, &reports)
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    let r = build(&[run], &[]);
    assert_valid_summary(&r);
    assert!(r.total.failures > 0);
    assert_eq!(r.causes[0].id, "hse_misdetection", "{}", r.diagnosis);
    assert_eq!(r.causes[0].kind, report::Kind::Cause);
    let causes: Vec<&str> = r
        .causes
        .iter()
        .filter(|c| c.kind == report::Kind::Cause)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(causes, ["hse_misdetection"], "{}", r.diagnosis);
}

/// summary.json of `r` validated against the shipped JSON Schema (harness/report/summary.schema.json).
fn assert_valid_summary(r: &Report) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../report/summary.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    let json: serde_json::Value = serde_json::from_str(&serde_json::to_string(r).unwrap()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "summary.json against its schema: {errors:#?}"
    );
    assert_eq!(json["schema"], report::SUMMARY_SCHEMA);
}

fn set_manifest(run: &std::path::Path, edit: impl FnOnce(&mut records::Manifest)) {
    let mut m = records::Manifest::read(run).unwrap();
    edit(&mut m);
    m.write(run).unwrap();
}

#[test]
fn each_run_is_judged_by_its_own_thresholds_in_any_order() {
    let bad = r#"["bench-06"]"#;
    let lenient = soak(
        "own-lenient",
        &scenario(bad, &[(25, 10)], "max_failure_rate = 1.0"),
    );
    let strict = soak(
        "own-strict",
        &scenario(bad, &[(25, 10)], "max_failure_rate = 0.0"),
    );
    for runs in [
        [lenient.clone(), strict.clone()],
        [strict.clone(), lenient.clone()],
    ] {
        let r = build(&runs, &[]);
        assert!(r.total.failures > 0);
        assert!(!r.thresholds_met && !r.passed, "the strict run misses");
        let met: Vec<bool> = r.runs.iter().map(|x| x.thresholds_met).collect();
        let strict_first = runs[0] == strict;
        assert_eq!(met, [!strict_first, strict_first]);
        assert_eq!(r.thresholds.len(), 2, "one failure-rate check per run");
        assert_valid_summary(&r);
    }
    let healthy = soak(
        "own-healthy",
        &scenario(r#"["bench-01"]"#, &[(25, 10)], "max_failure_rate = 0.0"),
    );
    for runs in [
        [lenient.clone(), healthy.clone()],
        [healthy.clone(), lenient.clone()],
    ] {
        assert!(
            build(&runs, &[]).passed,
            "both runs pass by their own thresholds"
        );
    }
}

#[test]
fn boards_of_different_hosts_are_kept_apart_unless_they_are_the_same_boards() {
    let body = scenario(
        r#"["bench-01", "bench-06"]"#,
        &[(25, 6)],
        "max_failure_rate = 1.0",
    );
    let a = soak("apart-a", &body);
    let b = soak("apart-b", &body);
    set_manifest(&a, |m| m.host = "host-a".into());
    set_manifest(&b, |m| m.host = "host-b".into());
    let r = build(&[a.clone(), b.clone()], &[]);
    let names: Vec<&str> = r.boards.iter().map(|b| b.row.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "bench-01@host-a",
            "bench-01@host-b",
            "bench-06@host-a",
            "bench-06@host-b"
        ]
    );
    assert_eq!(r.runs[1].board_suffix.as_deref(), Some("@host-b"));
    assert!(r.drilldown.iter().all(|f| f.cycle.board.contains('@')));
    assert_eq!(r.run_boards.len(), 4);
    let same = report::build_with(
        &[a, b],
        &[],
        report::Options {
            same_boards: true,
            ..Default::default()
        },
    )
    .unwrap();
    let names: Vec<&str> = same.boards.iter().map(|b| b.row.name.as_str()).collect();
    assert_eq!(names, ["bench-01", "bench-06"]);
    assert_eq!(same.total.cycles, r.total.cycles);
}

#[test]
fn a_month_of_nightly_runs_merges_into_a_trend() {
    let nights: Vec<PathBuf> = (0..30u64)
        .map(|i| {
            let body = scenario(
                r#"["bench-01", "bench-06"]"#,
                &[(25, 3)],
                "max_failure_rate = 1.0",
            )
            .replace("seed = 3", &format!("seed = {}", 100 + i));
            let run = soak(&format!("night-{i:02}"), &body);
            // Nights given out of order: the report orders them by when they started.
            let day = 30 - i;
            set_manifest(&run, |m| {
                m.started_utc = format!("2026-11-{day:02}T02:00:00Z")
            });
            run
        })
        .collect();
    let r = build(&nights, &[]);
    assert_eq!(r.runs.len(), 30);
    assert_eq!(r.run_boards.len(), 60, "every board of every night");
    assert_eq!(
        r.run_boards[0].run,
        records::name_of(&nights[29]),
        "the earliest night first"
    );
    assert!(r.run_boards.iter().all(|x| x.cycles == 3));
    assert!(r.runs.iter().all(|x| x.mean_temperature_c == Some(25.0)));
    assert!(r.charts.trend.contains("<svg") && r.charts.trend.contains("Failure rate per run"));
    assert_valid_summary(&r);
    let out = crate::common::scratch("report-month");
    report::write(&r, &out).unwrap();
    let html = std::fs::read_to_string(out.join(report::REPORT_HTML)).unwrap();
    assert!(html.contains("<h2 id=\"runs\">Runs</h2>"));
    assert_eq!(html.matches("<tr><td class=\"l\"><code>").count(), 30 + 60);
}

#[test]
fn a_baseline_of_another_scenario_warns_and_a_regression_can_fail_the_report() {
    let healthy = soak(
        "warn-base",
        &scenario(r#"["bench-01"]"#, &[(25, 30)], "max_failure_rate = 1.0"),
    );
    let worse = soak(
        "warn-worse",
        &scenario(r#"["bench-06"]"#, &[(25, 30)], "max_failure_rate = 1.0"),
    );
    set_manifest(&healthy, |m| m.scenario = "other".into());
    let r = build(std::slice::from_ref(&worse), std::slice::from_ref(&healthy));
    assert!(r.baseline.as_ref().unwrap().regression);
    assert!(
        r.passed,
        "a regression alone does not fail without the flag"
    );
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(
        r.warnings[0].contains("scenario other"),
        "{}",
        r.warnings[0]
    );
    assert_valid_summary(&r);
    let hil = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_hil"))
            .arg("report")
            .arg(&worse)
            .arg("--baseline")
            .arg(&healthy)
            .args(extra)
            .output()
            .unwrap()
    };
    let plain = hil(&[]);
    assert_eq!(plain.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&plain.stderr).contains("warning: the baseline ran scenario"));
    let failing = hil(&["--fail-on-regression"]);
    assert_eq!(failing.status.code(), Some(1));
    let junit = std::fs::read_to_string(worse.join(report::JUNIT_XML)).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let case = doc
        .descendants()
        .find(|n| n.has_tag_name("testcase") && n.attribute("classname") == Some("baseline"))
        .expect("a baseline case");
    assert!(case.children().any(|c| c.has_tag_name("failure")));
}

#[test]
fn the_page_says_which_phases_a_stopped_run_never_ran() {
    let body = scenario(
        r#"["bench-01"]"#,
        &[(20, 100_000), (35, 5)],
        "max_failure_rate = 1.0",
    ) + "[stop]\nmax_duration_s = 30\n";
    let r = build(&[soak("phases-not-run", &body)], &[]);
    assert_eq!(r.runs[0].phases_not_run, ["35C"]);
    assert_valid_summary(&r);
    let out = crate::common::scratch("report-phases-not-run");
    report::write(&r, &out).unwrap();
    let html = std::fs::read_to_string(out.join(report::REPORT_HTML)).unwrap();
    assert!(
        html.contains("phases never run: 35C"),
        "the environment block names it"
    );
}
