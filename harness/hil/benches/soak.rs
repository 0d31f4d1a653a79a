//! End-to-end soak throughput (issue 4 §7): the ten-board virtual bench, every board doing full cycles
//! (power_cycle, wait_enumeration, dfu_connect, read_option_bytes, read_clocks, a 64 KiB flash with verify,
//! leave) through the real `Soak` — run folder, manifest, cycles.csv and steps.csv flushed per row included.
//! Prints cycles per second of wall time and peak RSS, for 100 and 1,000 cycles per board: the two peaks
//! side by side show whether memory grows with the number of cycles.
//!
//! Each measurement runs in a fresh child process (this binary re-invoked with `measure N`), so VmHWM is
//! that run's peak alone; each size runs three times and the table shows the median wall time and the highest
//! peak. Run with `cargo bench -p hil --bench soak`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use hil::runner::StopSignal;
use hil::soak::Soak;

/// Cycles per second of wall time the harness must reach on the ten-board virtual bench.
const TARGET_CYCLES_PER_S: f64 = 5_000.0;
/// Cycles per board of each measurement.
const SIZES: [u64; 2] = [100, 1_000];
/// Runs per size (fresh processes): the median wall time and the highest peak RSS are shown.
const REPEATS: usize = 3;
/// Peak RSS may grow this much from the smaller run to the larger one and still count as flat.
const FLAT_MIB: f64 = 5.0;
const BOARDS: u64 = 10;

fn scenario_text(cycles: u64) -> String {
    let rig = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rigs/virtual-bench.toml");
    let rig = std::fs::canonicalize(&rig).expect("fixtures/rigs/virtual-bench.toml exists");
    format!(
        r#"name = "bench"
rig = '{rig}' # a TOML literal string: no escapes
boards = "all"
seed = 1
[retry]
cycle_attempts = 0
[pass]
max_failure_rate = 1.0
[[phases]]
name = "bench"
cycles = {cycles}
[[steps]]
kind = "power_cycle"
off_ms = 200
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
image = {{ generate = 65536, seed = 1 }}
verify = true
timeout_ms = 60000
[[steps]]
kind = "leave"
"#,
        rig = rig.display()
    )
}

/// One measurement, as the child prints it and the parent reads it back.
#[derive(Debug, Clone, Copy)]
struct Measurement {
    cycles: u64,
    passed: u64,
    wall_s: f64,
    peak_rss_kib: u64,
}

impl Measurement {
    fn to_line(self) -> String {
        let Measurement {
            cycles,
            passed,
            wall_s,
            peak_rss_kib,
        } = self;
        format!("measurement {cycles} {passed} {wall_s} {peak_rss_kib}")
    }

    fn parse(line: &str) -> Option<Self> {
        let mut f = line.strip_prefix("measurement ")?.split(' ');
        Some(Self {
            cycles: f.next()?.parse().ok()?,
            passed: f.next()?.parse().ok()?,
            wall_s: f.next()?.parse().ok()?,
            peak_rss_kib: f.next()?.parse().ok()?,
        })
    }

    fn cycles_per_s(&self) -> f64 {
        self.cycles as f64 / self.wall_s
    }
}

/// A `kB` field of /proc/self/status (VmHWM: peak resident set size).
fn proc_status_kib(field: &str) -> u64 {
    let status =
        std::fs::read_to_string("/proc/self/status").expect("/proc/self/status (Linux only)");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{field} missing from /proc/self/status"))
}

/// A scratch folder of its own under the system temp dir.
fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hil-soak-bench-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// The child: one soak of `cycles` per board, end to end.
fn measure(cycles: u64) -> Measurement {
    let dir = scratch(&cycles.to_string());
    let scenario = dir.join("bench.toml");
    std::fs::write(&scenario, scenario_text(cycles)).expect("write scenario");
    let t0 = Instant::now();
    let soak = Soak::start(&scenario, &dir.join("reports")).expect("scenario loads");
    let (_run_dir, summary) = soak
        .run(&StopSignal::new(), |_event| {})
        .expect("soak runs");
    let wall_s = t0.elapsed().as_secs_f64();
    let peak_rss_kib = proc_status_kib("VmHWM");
    let _ = std::fs::remove_dir_all(&dir);
    Measurement {
        cycles: summary.cycles(),
        passed: summary.cycles() - summary.failures(),
        wall_s,
        peak_rss_kib,
    }
}

/// The parent: each size in a fresh child process.
fn spawn(cycles: u64) -> Measurement {
    let exe = std::env::current_exe().expect("current exe");
    let out = Command::new(exe)
        .args(["measure", &cycles.to_string()])
        .output()
        .expect("spawn child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let found = stdout.lines().find_map(Measurement::parse);
    found.unwrap_or_else(|| {
        panic!(
            "child for {cycles} cycles failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `REPEATS` runs of one size: the run with the median wall time, with the highest peak RSS of them all.
fn median_of_runs(cycles: u64) -> Measurement {
    let mut runs: Vec<Measurement> = (0..REPEATS).map(|_| spawn(cycles)).collect();
    runs.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    let peak_rss_kib = runs.iter().map(|m| m.peak_rss_kib).max().unwrap_or(0);
    Measurement {
        peak_rss_kib,
        ..runs[REPEATS / 2]
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn print_table(runs: &[(u64, Measurement)]) {
    println!(
        "soak bench: {BOARDS} virtual boards, cycle = power_cycle, wait_enumeration, dfu_connect,"
    );
    println!("  read_option_bytes, read_clocks, flash 64 KiB + verify, leave; CSV records on;");
    println!("  median wall time of {REPEATS} runs per size, each in a fresh process; peak RSS = highest VmHWM");
    println!(
        "{:>12} {:>8} {:>8} {:>9} {:>10} {:>14}",
        "cycles/board", "cycles", "passed", "wall s", "cycles/s", "peak RSS MiB"
    );
    for (per_board, m) in runs {
        println!(
            "{per_board:>12} {:>8} {:>8} {:>9.3} {:>10.0} {:>14.1}",
            m.cycles,
            m.passed,
            m.wall_s,
            m.cycles_per_s(),
            mib(m.peak_rss_kib)
        );
    }
    let (small, large) = (runs[0].1, runs[runs.len() - 1].1);
    let met = large.cycles_per_s() >= TARGET_CYCLES_PER_S;
    let growth = mib(large.peak_rss_kib) - mib(small.peak_rss_kib);
    println!(
        "target >= {TARGET_CYCLES_PER_S:.0} cycles/s: {} ({:.0} cycles/s at {} cycles)",
        if met { "MET" } else { "MISSED" },
        large.cycles_per_s(),
        large.cycles
    );
    println!(
        "peak RSS, {}x the cycles: {growth:+.1} MiB, {}",
        large.cycles / small.cycles.max(1),
        if growth <= FLAT_MIB {
            "flat"
        } else {
            "GROWS with the number of cycles"
        }
    );
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [cmd, n] = args.as_slice() {
        if cmd == "measure" {
            let cycles = n.parse().expect("measure CYCLES_PER_BOARD");
            println!("{}", measure(cycles).to_line());
            return ExitCode::SUCCESS;
        }
    }
    let runs: Vec<(u64, Measurement)> = SIZES.iter().map(|&n| (n, median_of_runs(n))).collect();
    print_table(&runs);
    ExitCode::SUCCESS
}
