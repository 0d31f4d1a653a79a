//! Report throughput over real run folders: `hil report RUN… -o OUT` as a user runs it (the release binary,
//! a child process), so it measures whichever reader the binary has. The run folders come from real soaks
//! of the shipped seed scenario (ten virtual boards, four temperature phases), cycles.csv and steps.csv as
//! `hil soak` writes them:
//!
//! - the seed at 2,500, 10,000 and 25,000 cycles per phase: 100k, 400k and 1M cycles (linearity in cycles);
//! - 4,000 phases of 5 cycles on the ten boards (linearity in phases);
//! - 365 "nightly" soaks of the seed at 50 cycles per phase, seeds 1..=365, merged by one `hil report`.
//!
//! Run folders are cached under target/bench-runs/<label>/ and reused while their manifest says finished.
//! Each run set is reported three times; the table shows the median wall time and the highest peak RSS.
//! Peers: benches/peers/report_peers.py computes the same aggregates from the same two CSV files with
//! polars, DuckDB and pandas, each engine its own process, when python3 can import it.
//! Targets at 1M cycles: at most 1.5 s and 100 MB peak RSS (printed as PASS/MISS, never failing the bench).
//!
//! `cargo bench -p hil --bench report`. Linux only (peak RSS from /usr/bin/time or getrusage).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

#[path = "common/measure.rs"]
#[allow(dead_code)] // shared with the soak bench, which uses the in-process parts
mod measure;

use measure::{median, Measurement};
use records::{Manifest, RunStatus, CYCLES_CSV, STEPS_CSV};

/// The seed-scenario sizes: label and cycles per phase (ten boards, four phases).
const SIZES: [(&str, u64); 3] = [("100k", 2_500), ("400k", 10_000), ("1M", 25_000)];
const MANY_PHASES: u64 = 4_000;
const MANY_PHASES_CYCLES: u64 = 5;
const NIGHTS: u64 = 365;
const NIGHT_CYCLES_PER_PHASE: u64 = 50;
/// Runs per run set (fresh processes): the median wall time and the highest peak RSS are shown.
const REPEATS: usize = 3;
/// Targets for `hil report` at the largest size.
const TARGET_WALL_S: f64 = 1.5;
const TARGET_PEAK_MB: f64 = 100.0;
const PEERS: [&str; 3] = ["polars", "duckdb", "pandas"];
const BOARDS: u64 = 10;
const SEED_PHASES: u64 = 4;

/// Where the bench finds the workspace, the binary and its cache.
struct Paths {
    workspace: PathBuf,
    hil: PathBuf,
    runs: PathBuf,
}

impl Paths {
    /// The bench binary lives in <target>/release/deps, next to where cargo puts the `hil` binary, so this
    /// follows CARGO_TARGET_DIR without reading it.
    fn locate() -> Self {
        let exe = std::env::current_exe().expect("current exe");
        let release = exe
            .parent()
            .and_then(Path::parent)
            .expect("<target>/release");
        let target = release.parent().expect("<target>");
        Paths {
            workspace: Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
            hil: release.join("hil"),
            runs: target.join("bench-runs"),
        }
    }

    fn peers_script(&self) -> PathBuf {
        self.workspace
            .join("harness/hil/benches/peers/report_peers.py")
    }
}

/// Build the release `hil` from here, so the bench always measures the current reader, not a stale binary.
fn build_hil(paths: &Paths) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("report bench: cargo build --release -p hil-cli");
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "hil-cli"])
        .current_dir(&paths.workspace)
        .status()
        .expect("run cargo");
    assert!(status.success(), "cargo build --release -p hil-cli failed");
    assert!(paths.hil.exists(), "{} was not built", paths.hil.display());
}

// ---- scenarios ---------------------------------------------------------------------------------------

/// The shipped seed scenario, rewritten to run from elsewhere: `cycles` per phase, an absolute rig path,
/// the given seed, and no `max_duration_s` (its 4 h of virtual time would stop the larger soaks early).
fn seed_scenario(paths: &Paths, cycles: u64, seed: Option<u64>) -> String {
    let file = paths.workspace.join("scenarios/seed-f746.toml");
    let text = std::fs::read_to_string(&file).expect("scenarios/seed-f746.toml");
    let rig = std::fs::canonicalize(paths.workspace.join("fixtures/rigs/virtual-bench.toml"))
        .expect("fixtures/rigs/virtual-bench.toml");
    let mut out = String::new();
    let (mut phases, mut rigs) = (0, 0);
    for line in text.lines() {
        let rewritten = match line.split_once('=').map(|(k, _)| k.trim()) {
            Some("cycles") => {
                phases += 1;
                format!("cycles = {cycles}")
            }
            Some("rig") => {
                rigs += 1;
                format!(
                    "rig = '{}' # a TOML literal string: no escapes",
                    rig.display()
                )
            }
            Some("seed") => seed.map_or(line.to_string(), |s| format!("seed = {s}")),
            Some("max_duration_s") => continue,
            _ => line.to_string(),
        };
        out.push_str(&rewritten);
        out.push('\n');
    }
    assert_eq!(
        (phases, rigs),
        (SEED_PHASES, 1),
        "seed-f746.toml changed shape"
    );
    out
}

/// The seed scenario with its four phases replaced by `MANY_PHASES` phases of `MANY_PHASES_CYCLES`, the
/// chamber stepping through the seed's four temperatures.
fn many_phases_scenario(paths: &Paths) -> String {
    let seed = seed_scenario(paths, MANY_PHASES_CYCLES, None);
    let mut out = String::new();
    let mut in_phase = false;
    for line in seed.lines() {
        if line.starts_with('[') {
            in_phase = line.trim() == "[[phases]]";
        }
        if !in_phase {
            out.push_str(line);
            out.push('\n');
        }
    }
    for p in 0..MANY_PHASES {
        let temperature = 20 + 5 * (p % 4);
        out.push_str(&format!(
            "[[phases]]\nname = \"p{p:04}\"\ncycles = {MANY_PHASES_CYCLES}\ntemperature_c = {temperature}.0\n"
        ));
    }
    out
}

// ---- run folders -------------------------------------------------------------------------------------

/// The finished run folder under a soak's reports dir, if there is one.
fn finished_run(reports: &Path) -> Option<PathBuf> {
    std::fs::read_dir(reports)
        .ok()?
        .filter_map(|e| Some(e.ok()?.path()))
        .find(|dir| Manifest::read(dir).is_ok_and(|m| m.status == RunStatus::Finished))
}

/// The run folder of `scenario` cached under target/bench-runs/<label>: reused when finished, else soaked.
fn built_run(paths: &Paths, label: &str, scenario: &str) -> PathBuf {
    let reports = paths.runs.join(label);
    if let Some(run) = finished_run(&reports) {
        return run;
    }
    let _ = std::fs::remove_dir_all(&reports);
    let file = paths.runs.join("scenarios").join(format!("{label}.toml"));
    std::fs::create_dir_all(file.parent().expect("scenarios dir")).expect("create scenarios dir");
    std::fs::write(&file, scenario).expect("write scenario");
    soak(paths, &file, &reports);
    finished_run(&reports)
        .unwrap_or_else(|| panic!("soak left no finished run in {}", reports.display()))
}

/// `hil soak SCENARIO --reports DIR -q`; exit 1 (thresholds missed) is the seed's expected outcome.
fn soak(paths: &Paths, scenario: &Path, reports: &Path) {
    let t0 = Instant::now();
    let out = Command::new(&paths.hil)
        .arg("soak")
        .arg(scenario)
        .arg("--reports")
        .arg(reports)
        .arg("-q")
        .output()
        .expect("run hil soak");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "hil soak {} failed: {}\n{}",
        scenario.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "  soaked {} in {:.1} s",
        scenario.display(),
        t0.elapsed().as_secs_f64()
    );
}

/// One run set to report on: a label for the table, its folders and its cycle count.
struct RunSet {
    label: String,
    dirs: Vec<PathBuf>,
    cycles: u64,
}

impl RunSet {
    /// cycles.csv + steps.csv of every folder, MB.
    fn csv_mb(&self) -> f64 {
        let size = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
        let bytes: u64 = self
            .dirs
            .iter()
            .map(|d| size(d.join(CYCLES_CSV)) + size(d.join(STEPS_CSV)))
            .sum();
        bytes as f64 / 1e6
    }
}

fn seed_set(paths: &Paths, label: &str, per_phase: u64) -> RunSet {
    eprintln!("report bench: run folder {label} ({per_phase} cycles per phase)");
    let dir = built_run(paths, label, &seed_scenario(paths, per_phase, None));
    RunSet {
        label: format!("seed, {per_phase} cycles/phase"),
        dirs: vec![dir],
        cycles: BOARDS * SEED_PHASES * per_phase,
    }
}

fn many_phases_set(paths: &Paths) -> RunSet {
    let label = format!("phases-{MANY_PHASES}");
    eprintln!(
        "report bench: run folder {label} ({MANY_PHASES} phases x {MANY_PHASES_CYCLES} cycles)"
    );
    let dir = built_run(paths, &label, &many_phases_scenario(paths));
    RunSet {
        label: format!("{MANY_PHASES} phases x {MANY_PHASES_CYCLES} cycles"),
        dirs: vec![dir],
        cycles: BOARDS * MANY_PHASES * MANY_PHASES_CYCLES,
    }
}

/// `NIGHTS` real soaks, one per seed, each in its own reports dir (run folders are named by the second
/// they start in, so soaks in one dir could collide).
fn nightly_set(paths: &Paths) -> RunSet {
    eprintln!("report bench: {NIGHTS} nightly run folders ({NIGHT_CYCLES_PER_PHASE} cycles per phase, one soak each)");
    let dirs = (1..=NIGHTS)
        .map(|n| {
            let label = format!("nightly-{NIGHTS}/night-{n:03}");
            built_run(
                paths,
                &label,
                &seed_scenario(paths, NIGHT_CYCLES_PER_PHASE, Some(n)),
            )
        })
        .collect();
    RunSet {
        label: format!("{NIGHTS} nightly soaks merged"),
        dirs,
        cycles: NIGHTS * BOARDS * SEED_PHASES * NIGHT_CYCLES_PER_PHASE,
    }
}

// ---- measuring a child process -----------------------------------------------------------------------

/// One run of a command: wall time, peak RSS, exit code and what it printed.
struct Sample {
    m: Measurement,
    stdout: String,
}

/// Run `cmd` as a child and measure it: peak RSS from GNU time's %M when /usr/bin/time exists, else from
/// getrusage in this bench re-invoked as a wrapper (`rusage CMD…`); wall time from here either way.
fn measured(cmd: &[OsString]) -> Sample {
    let t0 = Instant::now();
    let (code, peak_rss_kib, stdout) = if Path::new("/usr/bin/time").exists() {
        under_gnu_time(cmd)
    } else {
        under_rusage_wrapper(cmd)
    };
    let wall_s = t0.elapsed().as_secs_f64();
    Sample {
        m: Measurement {
            count: code,
            other: 0,
            wall_s,
            peak_rss_kib,
        },
        stdout,
    }
}

fn under_gnu_time(cmd: &[OsString]) -> (u64, u64, String) {
    let rss_file =
        std::env::temp_dir().join(format!("hil-report-bench-rss-{}", std::process::id()));
    let out = Command::new("/usr/bin/time")
        .args([OsStr::new("-f"), OsStr::new("%M"), OsStr::new("-o")])
        .arg(&rss_file)
        .args(cmd)
        .output()
        .expect("run /usr/bin/time");
    let code = exit_code(&out, cmd);
    let rss = std::fs::read_to_string(&rss_file).expect("read /usr/bin/time's output");
    let _ = std::fs::remove_file(&rss_file);
    let peak = rss
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("a %M figure");
    (
        code,
        peak,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn under_rusage_wrapper(cmd: &[OsString]) -> (u64, u64, String) {
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe)
        .arg("rusage")
        .args(cmd)
        .output()
        .expect("run the rusage wrapper");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let m = stdout
        .lines()
        .find_map(Measurement::parse)
        .unwrap_or_else(|| panic!("rusage wrapper failed: {}", out.status));
    check_code(m.count as i32, cmd, &out.stderr);
    (m.count, m.peak_rss_kib, stdout)
}

/// The wrapper's side: the command's exit code and its peak RSS, which getrusage(RUSAGE_CHILDREN) gives
/// exactly because it is this process's only child.
fn rusage_child(cmd: &[String]) -> ExitCode {
    let status = Command::new(&cmd[0])
        .args(&cmd[1..])
        .stdin(Stdio::null())
        .status()
        .expect("spawn the measured command");
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage");
    let m = Measurement {
        count: status.code().map_or(255, |c| c as u64),
        other: 0,
        wall_s: 0.0,
        peak_rss_kib: usage.max_rss() as u64,
    };
    println!("{}", m.to_line());
    ExitCode::SUCCESS
}

fn exit_code(out: &std::process::Output, cmd: &[OsString]) -> u64 {
    let code = out.status.code().unwrap_or(-1);
    check_code(code, cmd, &out.stderr);
    code as u64
}

/// 0 is a report with thresholds met, 1 one with thresholds missed; anything else is a broken run.
fn check_code(code: i32, cmd: &[OsString], stderr: &[u8]) {
    assert!(
        code == 0 || code == 1,
        "{:?} exited with {code}\n{}",
        cmd.first(),
        String::from_utf8_lossy(stderr)
    );
}

/// `REPEATS` measured runs: the median wall time with the highest peak, and the last run's output.
fn median_of(cmd: &[OsString]) -> (Measurement, String) {
    let samples: Vec<Sample> = (0..REPEATS).map(|_| measured(cmd)).collect();
    let stdout = samples.last().map(|s| s.stdout.clone()).unwrap_or_default();
    (median(samples.into_iter().map(|s| s.m).collect()), stdout)
}

// ---- what is measured --------------------------------------------------------------------------------

/// Cycles and failures a report or a peer counted, to check they read the same data.
type Totals = (u64, u64);

/// `hil report DIRS… -o OUT`, `REPEATS` times, and the totals of its summary.json.
fn hil_report(paths: &Paths, set: &RunSet) -> (Measurement, Totals) {
    let out = std::env::temp_dir().join(format!("hil-report-bench-out-{}", std::process::id()));
    let mut cmd: Vec<OsString> = vec![paths.hil.clone().into(), "report".into()];
    cmd.extend(set.dirs.iter().map(|d| d.clone().into_os_string()));
    cmd.extend(["-o".into(), out.clone().into_os_string()]);
    let (m, _) = median_of(&cmd);
    let totals = summary_totals(&out.join("summary.json"));
    let _ = std::fs::remove_dir_all(&out);
    (m, totals)
}

fn summary_totals(file: &Path) -> Totals {
    let text = std::fs::read_to_string(file).expect("hil report wrote summary.json");
    let summary: serde_json::Value = serde_json::from_str(&text).expect("summary.json parses");
    let n = |k: &str| summary["total"][k].as_u64().expect("summary.json total");
    (n("cycles"), n("failures"))
}

/// Which peers python3 can import.
fn installed_peers() -> Vec<&'static str> {
    PEERS
        .into_iter()
        .filter(|engine| {
            Command::new("python3")
                .args(["-c", &format!("import {engine}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect()
}

/// One peer engine over the set, `REPEATS` times, and the totals it printed.
fn peer(paths: &Paths, engine: &str, set: &RunSet) -> (Measurement, Totals) {
    let mut cmd: Vec<OsString> = vec!["python3".into(), paths.peers_script().into_os_string()];
    cmd.extend(["--engine".into(), engine.into()]);
    cmd.extend(set.dirs.iter().map(|d| d.clone().into_os_string()));
    let (m, stdout) = median_of(&cmd);
    let totals = stdout
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.strip_prefix("check ")?.split(' ').collect();
            Some((f.get(1)?.parse().ok()?, f.get(2)?.parse().ok()?))
        })
        .unwrap_or_else(|| panic!("{engine} printed no check line:\n{stdout}"));
    (m, totals)
}

/// Everything measured on one run set.
struct Row {
    label: String,
    cycles: u64,
    csv_mb: f64,
    hil: Measurement,
    peers: Vec<Option<Measurement>>,
    disagree: Vec<String>,
}

fn measure_set(paths: &Paths, set: &RunSet, peers: &[&str]) -> Row {
    eprintln!(
        "report bench: measuring {} ({} folders)",
        set.label,
        set.dirs.len()
    );
    let (hil, totals) = hil_report(paths, set);
    let mut disagree = Vec::new();
    if totals.0 != set.cycles {
        disagree.push(format!("hil counted {} cycles", totals.0));
    }
    let peers = PEERS
        .iter()
        .map(|engine| {
            if !peers.contains(engine) {
                return None;
            }
            let (m, peer_totals) = peer(paths, engine, set);
            if peer_totals != totals {
                disagree.push(format!("{engine} counted {peer_totals:?}, hil {totals:?}"));
            }
            Some(m)
        })
        .collect();
    Row {
        label: set.label.clone(),
        cycles: set.cycles,
        csv_mb: set.csv_mb(),
        hil,
        peers,
        disagree,
    }
}

// ---- the table ---------------------------------------------------------------------------------------

fn cell(m: Option<&Measurement>) -> String {
    m.map_or("not installed".into(), |m| {
        format!("{:.2} s {:.0} MiB", m.wall_s, m.peak_mib())
    })
}

fn print_header() {
    println!("report bench: `hil report RUN… -o OUT` (release binary, child process) over run folders built by");
    println!("  `hil soak`; cycles.csv + steps.csv; median wall time of {REPEATS} runs, peak RSS = highest of the {REPEATS}");
    println!(
        "{:<32} {:>9} {:>8} | {:>16} | {:>16} {:>16} {:>16}",
        "run set", "cycles", "CSV MB", "hil report", "polars", "DuckDB", "pandas"
    );
}

fn print_row(r: &Row) {
    let peers: Vec<String> = r.peers.iter().map(|p| cell(p.as_ref())).collect();
    println!(
        "{:<32} {:>9} {:>8.0} | {:>16} | {:>16} {:>16} {:>16}",
        r.label,
        r.cycles,
        r.csv_mb,
        cell(Some(&r.hil)),
        peers[0],
        peers[1],
        peers[2]
    );
    for d in &r.disagree {
        println!("  WARNING: {d}");
    }
}

fn print_targets(largest: &Row) {
    let verdict = |met: bool| if met { "PASS" } else { "MISS" };
    let peak_mb = largest.hil.peak_rss_kib as f64 * 1024.0 / 1e6;
    println!(
        "target hil report at {} cycles: wall <= {TARGET_WALL_S} s: {} ({:.2} s); peak RSS <= {TARGET_PEAK_MB} MB: {} ({peak_mb:.1} MB)",
        largest.cycles,
        verdict(largest.hil.wall_s <= TARGET_WALL_S),
        largest.hil.wall_s,
        verdict(peak_mb <= TARGET_PEAK_MB),
    );
}

/// Microseconds of hil report per cycle: equal figures across rows mean linear scaling.
fn us_per_cycle(r: &Row) -> f64 {
    r.hil.wall_s * 1e6 / r.cycles as f64
}

fn print_scaling(sizes: &[Row], phases: &Row, nightly: &Row) {
    let (small, large) = (&sizes[0], &sizes[sizes.len() - 1]);
    println!(
        "scaling in cycles: {}x the cycles took {:.2}x the time ({:.2} vs {:.2} us/cycle)",
        large.cycles / small.cycles,
        large.hil.wall_s / small.hil.wall_s,
        us_per_cycle(large),
        us_per_cycle(small)
    );
    for (what, r) in [("phases", phases), ("merged run folders", nightly)] {
        println!(
            "scaling in {what}: {:.2} us/cycle ({}) vs {:.2} us/cycle (seed, 4 phases, one folder)",
            us_per_cycle(r),
            r.label,
            us_per_cycle(small)
        );
    }
    println!("nightly set: {NIGHTS} separate soaks (seed = 1..={NIGHTS}), not copies");
}

fn run_bench() -> ExitCode {
    let paths = Paths::locate();
    build_hil(&paths);
    let peers = installed_peers();
    eprintln!("report bench: peers installed: {peers:?}");
    let sets: Vec<RunSet> = SIZES
        .iter()
        .map(|&(label, per_phase)| seed_set(&paths, label, per_phase))
        .collect();
    let phases = many_phases_set(&paths);
    let nightly = nightly_set(&paths);
    // Each row is printed as soon as it is measured: a late failure still leaves the earlier figures.
    print_header();
    let measured_row = |set: &RunSet| {
        let row = measure_set(&paths, set, &peers);
        print_row(&row);
        row
    };
    let rows: Vec<Row> = sets.iter().map(measured_row).collect();
    let phases = measured_row(&phases);
    let nightly = measured_row(&nightly);
    print_targets(&rows[rows.len() - 1]);
    print_scaling(&rows, &phases, &nightly);
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((cmd, rest)) if cmd == "rusage" && !rest.is_empty() => rusage_child(rest),
        // cargo bench passes --bench; anything else would be a filter this bench does not have.
        _ => run_bench(),
    }
}
