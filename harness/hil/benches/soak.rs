//! End-to-end soak throughput: the ten-board virtual bench, every board doing full cycles
//! (power_cycle, wait_enumeration, dfu_connect, read_option_bytes, read_clocks, a 64 KiB flash with verify,
//! leave) through the real `Soak` — run folder, manifest, cycles.csv and steps.csv flushed per row included.
//! Prints cycles per second of wall time and peak RSS, for 100 and 1,000 cycles per board: the two peaks
//! side by side show whether memory grows with the number of cycles.
//!
//! Each measurement runs in a fresh child process (this binary re-invoked with `measure N`), so VmHWM is
//! that run's peak alone; each size runs three times and the table shows the median wall time and the highest
//! peak. Run with `cargo bench -p hil --bench soak`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[path = "common/measure.rs"]
mod measure;

use hil::runner::StopSignal;
use hil::soak::Soak;
use measure::{in_child, median, peak_rss_kib, Measurement};

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
    let peak_rss_kib = peak_rss_kib();
    let _ = std::fs::remove_dir_all(&dir);
    Measurement {
        count: summary.cycles(),
        other: summary.cycles() - summary.failures(),
        wall_s,
        peak_rss_kib,
    }
}

/// `REPEATS` runs of one size, each in a fresh child process.
fn median_of_runs(cycles: u64) -> Measurement {
    median(
        (0..REPEATS)
            .map(|_| in_child(["measure", &cycles.to_string()]))
            .collect(),
    )
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
            m.count,
            m.other,
            m.wall_s,
            m.per_s(),
            m.peak_mib()
        );
    }
    let (small, large) = (runs[0].1, runs[runs.len() - 1].1);
    let met = large.per_s() >= TARGET_CYCLES_PER_S;
    let growth = large.peak_mib() - small.peak_mib();
    println!(
        "target >= {TARGET_CYCLES_PER_S:.0} cycles/s: {} ({:.0} cycles/s at {} cycles)",
        if met { "MET" } else { "MISSED" },
        large.per_s(),
        large.count
    );
    println!(
        "peak RSS, {}x the cycles: {growth:+.1} MiB, {}",
        large.count / small.count.max(1),
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
