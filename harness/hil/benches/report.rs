//! Failure-report throughput (issue 5 §5): `report::build` + `report::write` — what a user waits
//! for after `hil report RUN` — over generated run folders of 250k, 500k and 1M cycle rows. The rows look
//! like a long soak of the seed's situation: ten boards, four temperature phases, about 9 % failures
//! concentrated on boots where the bootloader misdetected the HSE (PLLM 24, USB at +41,667 ppm); steps.csv
//! holds the first 20,000 cycles' steps so the drill-down joins. Generation is deterministic (a small LCG).
//!
//! Each measurement runs in a fresh child process (this binary re-invoked with `measure DIR`), so VmHWM is
//! that report's peak alone; each size runs three times and the table shows the median wall time and the
//! highest peak. Targets: 1M rows in at most 3 s and 200 MB. Run with `cargo bench -p hil --bench report`;
//! `report generate DIR ROWS` writes a run folder alone, for profiling `report measure DIR`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

#[path = "common/measure.rs"]
mod measure;

use measure::{in_child, median, peak_rss_kib, Measurement};
use records::{CycleRow, Manifest, RunStatus, StepRow, CYCLES_CSV, SCHEMA_VERSION, STEPS_CSV};

/// Cycle rows of each measurement.
const SIZES: [u64; 3] = [250_000, 500_000, 1_000_000];
/// Runs per size (fresh processes): the median wall time and the highest peak RSS are shown.
const REPEATS: usize = 3;
/// Targets at the largest size.
const TARGET_WALL_S: f64 = 3.0;
const TARGET_PEAK_MB: f64 = 200.0;
/// Cycles whose steps are written to steps.csv.
const STEP_CYCLES: u64 = 20_000;
const BOARDS: u64 = 10;
const PHASES: [(&str, f64); 4] = [("20C", 20.0), ("25C", 25.0), ("30C", 30.0), ("35C", 35.0)];
const STEPS: [&str; 7] = [
    "power_cycle",
    "wait_enumeration",
    "dfu_connect",
    "read_option_bytes",
    "read_clocks",
    "flash",
    "leave",
];
const OPTION_BYTES_HEX: &str = "FFAA0055FFFFFFFFFFFF0000FFFFFFFF80007FFFFFFFFFFF4000BFFFFFFFFFFF";
/// The bench's bad boards: their HSI drifts far enough to make the bootloader misdetect the HSE.
const BAD_BOARDS: [u64; 3] = [5, 6, 9];

/// A 64-bit LCG (Knuth's MMIX constants): deterministic and plenty for test data.
struct Lcg(u64);

impl Lcg {
    fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..hi`.
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

/// One generated cycle: the row and, when it failed, the index of the step that failed.
fn cycle_row(
    rng: &mut Lcg,
    board: u64,
    phase: usize,
    cycle: u64,
    time_s: f64,
) -> (CycleRow, Option<usize>) {
    let (phase_name, temperature) = PHASES[phase];
    let misdetect_p = if BAD_BOARDS.contains(&board) {
        0.20 + 0.04 * phase as f64
    } else {
        0.02
    };
    let misdetected = rng.unit() < misdetect_p;
    let failed_step = match (misdetected, rng.unit()) {
        (true, u) if u < 0.19 => Some(1),
        (true, u) if u < 0.48 => Some(3),
        (true, u) if u < 0.95 => Some(5),
        (false, u) if u < 0.003 => Some(1),
        _ => None,
    };
    let serial = format!("3365386{board:02}436");
    let enumerated = failed_step != Some(1);
    let ppm = if misdetected {
        41_666.666_666_666_744
    } else {
        rng.range(-30.0, 30.0)
    };
    let mut row = CycleRow {
        schema: SCHEMA_VERSION,
        started_utc: utc(time_s),
        time_s,
        board: format!("bench-{board:02}"),
        phase: phase_name.into(),
        cycle,
        attempt: 1,
        final_attempt: true,
        temperature_c: Some(temperature),
        outcome: "pass".into(),
        elapsed_ms: rng.range(660.0, 690.0),
        usb_serial: if enumerated {
            serial.clone()
        } else {
            String::new()
        },
        serial_match: enumerated.then_some(true),
        expected_serial: serial,
        option_bytes_check: if failed_step.is_some_and(|s| s <= 3) {
            ""
        } else {
            "match"
        }
        .into(),
        option_bytes_hex: OPTION_BYTES_HEX.into(),
        pllm: Some(if misdetected { 24 } else { 25 }),
        detected_hse_hz: Some(if misdetected { 24_000_000 } else { 25_000_000 }),
        true_hse_hz: 25_000_000,
        hse_verdict: if misdetected {
            "misdetected"
        } else {
            "correct"
        }
        .into(),
        hse_error_mhz: Some(if misdetected { -1 } else { 0 }),
        sysclk_hz: Some(if misdetected {
            62_500_000.0
        } else {
            60_000_000.0
        }),
        usb_clock_hz: Some(48e6 * (1.0 + ppm / 1e6)),
        usb_clock_error_ppm: Some(ppm),
        usb_in_tolerance: Some(!misdetected),
        hsitrim: Some(16),
        hsical: Some(100 + board as u8 * 3),
        model_hsi_error_ppm: Some(hsi_error_ppm(rng, misdetected, temperature)),
        ..CycleRow::default()
    };
    if let Some(step) = failed_step {
        fail(&mut row, step, misdetected);
    }
    (row, failed_step)
}

/// The HSI error the board model drew: beyond about 1 % the bootloader misdetects the HSE.
fn hsi_error_ppm(rng: &mut Lcg, misdetected: bool, temperature: f64) -> f64 {
    let drift = 150.0 * (temperature - 25.0);
    if misdetected {
        drift + rng.range(10_500.0, 24_000.0)
    } else {
        drift + rng.range(-6_000.0, 9_000.0)
    }
}

fn fail(row: &mut CycleRow, step: usize, misdetected: bool) {
    let (kind, class, detail) = match (misdetected, step) {
        (false, _) => ("timeout", "infrastructure", "no DFU device enumerated within 5000 ms"),
        (true, 1) => ("io", "board", "enumeration failed: device descriptor read/64, error -71"),
        (true, 3) => ("io", "board", "Uploading Option Bytes bank: 0 failed: io: IN data packet 0 lost"),
        _ => ("io", "board", "downloading: DFU_DNLOAD failed during write block 2 (2048 bytes at 0x08000000): io: OUT data packet 0 (64 bytes) lost; the device did not act"),
    };
    row.outcome = "fail".into();
    row.failed_step = STEPS[step].into();
    row.error_kind = kind.into();
    row.error_class = class.into();
    row.error_detail = detail.into();
    row.elapsed_ms = 100.0 * step as f64 + 81.86;
}

/// The cycle's step rows: every step up to the failed one, and read_clocks even after a failure.
fn step_rows(c: &CycleRow, failed: Option<usize>) -> Vec<StepRow> {
    let ran = |i: usize| failed.is_none_or(|f| i <= f || STEPS[i] == "read_clocks");
    let step = |i: usize| StepRow {
        schema: SCHEMA_VERSION,
        started_utc: c.started_utc.clone(),
        time_s: c.time_s + 0.09 * i as f64,
        board: c.board.clone(),
        phase: c.phase.clone(),
        cycle: c.cycle,
        attempt: 1,
        index: i,
        step: STEPS[i].into(),
        try_number: 1,
        outcome: if failed == Some(i) { "fail" } else { "pass" }.into(),
        error_kind: if failed == Some(i) {
            c.error_kind.clone()
        } else {
            String::new()
        },
        error_class: if failed == Some(i) {
            c.error_class.clone()
        } else {
            String::new()
        },
        detail: if failed == Some(i) {
            c.error_detail.clone()
        } else {
            String::new()
        },
        elapsed_ms: 90.0,
        dfu_requests: if i >= 2 { 9 } else { 0 },
    };
    (0..STEPS.len()).filter(|&i| ran(i)).map(step).collect()
}

/// RFC 3339 wall time of a run started 2026-11-23T20:00:00Z.
fn utc(time_s: f64) -> String {
    let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_464_000);
    humantime::format_rfc3339_millis(start + Duration::from_secs_f64(time_s)).to_string()
}

/// Write a run folder of `rows` cycle rows: manifest, scenario copy, cycles.csv, steps.csv.
fn generate(dir: &Path, rows: u64) {
    std::fs::create_dir_all(dir).expect("create run folder");
    manifest().write(dir).expect("write manifest.json");
    std::fs::write(
        dir.join("scenario.toml"),
        "name = \"report-bench\"\n[pass]\nmax_failure_rate = 0.05\n",
    )
    .expect("write scenario.toml");
    let mut cycles = csv::Writer::from_path(dir.join(CYCLES_CSV)).expect("create cycles.csv");
    let mut steps = csv::Writer::from_path(dir.join(STEPS_CSV)).expect("create steps.csv");
    let mut rng = Lcg(1);
    let per_phase = rows / BOARDS / PHASES.len() as u64;
    let mut n = 0;
    for phase in 0..PHASES.len() {
        for cycle in 1..=per_phase {
            let time_s = ((phase as u64 * per_phase + cycle - 1) as f64) * 0.673_453_996;
            for board in 1..=BOARDS {
                let (row, failed) =
                    cycle_row(&mut rng, board, phase, cycle, time_s + 0.001 * board as f64);
                if n < STEP_CYCLES {
                    step_rows(&row, failed)
                        .iter()
                        .for_each(|s| steps.serialize(s).expect("write step"));
                }
                cycles.serialize(&row).expect("write cycle");
                n += 1;
            }
        }
    }
    cycles.flush().expect("flush cycles.csv");
    steps.flush().expect("flush steps.csv");
}

fn manifest() -> Manifest {
    Manifest {
        schema: SCHEMA_VERSION,
        harness_version: env!("CARGO_PKG_VERSION").into(),
        scenario: "report-bench".into(),
        scenario_file: PathBuf::from("/bench/report-bench.toml"),
        rig: "virtual-bench".into(),
        rig_file: PathBuf::from("/bench/virtual-bench.toml"),
        boards: (1..=BOARDS).map(|b| format!("bench-{b:02}")).collect(),
        seed: 1,
        host: "bench".into(),
        started_utc: utc(0.0),
        ended_utc: Some(utc(3_600.0 * 24.0)),
        status: RunStatus::Finished,
        stop_reason: None,
        resumed: 0,
    }
}

/// The child: the report of one run folder, built and written, as `hil report` does it.
fn measure(run: &Path) -> Measurement {
    let out = run.join("report");
    let t0 = Instant::now();
    let thresholds = report::thresholds_of(run);
    let report = report::build(&[run.to_path_buf()], &[], thresholds).expect("report builds");
    report::write(&report, &out).expect("report writes");
    let wall_s = t0.elapsed().as_secs_f64();
    Measurement {
        count: report.total.cycles,
        other: report.total.failures,
        wall_s,
        peak_rss_kib: peak_rss_kib(),
    }
}

/// Generate a run folder of `rows`, then `REPEATS` children: the median wall time with the highest peak.
fn median_of_runs(rows: u64) -> Measurement {
    let run = std::env::temp_dir().join(format!("hil-report-bench-{rows}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&run);
    generate(&run, rows);
    let runs: Vec<Measurement> = (0..REPEATS)
        .map(|_| in_child([OsStr::new("measure"), run.as_os_str()]))
        .collect();
    let _ = std::fs::remove_dir_all(&run);
    median(runs)
}

fn print_table(runs: &[Measurement]) {
    println!(
        "report bench: build + write of one run folder ({BOARDS} boards, 4 phases, ~9 % failures);"
    );
    println!("  median wall time of {REPEATS} runs per size, each in a fresh process; peak RSS = highest VmHWM");
    println!(
        "{:>10} {:>9} {:>9} {:>11} {:>14}",
        "rows", "failures", "wall s", "rows/s", "peak RSS MiB"
    );
    for m in runs {
        println!(
            "{:>10} {:>9} {:>9.3} {:>11.0} {:>14.1}",
            m.count,
            m.other,
            m.wall_s,
            m.per_s(),
            m.peak_mib()
        );
    }
    let (small, large) = (runs[0], runs[runs.len() - 1]);
    let verdict = |met: bool| if met { "MET" } else { "MISSED" };
    let peak_mb = large.peak_rss_kib as f64 * 1024.0 / 1e6;
    println!(
        "target wall <= {TARGET_WALL_S} s at {} rows: {}",
        large.count,
        verdict(large.wall_s <= TARGET_WALL_S)
    );
    println!(
        "target peak <= {TARGET_PEAK_MB} MB: {} ({peak_mb:.1} MB)",
        verdict(peak_mb <= TARGET_PEAK_MB)
    );
    println!(
        "time ratio {}x the rows: {:.2} (≈{} is linear)",
        large.count / small.count.max(1),
        large.wall_s / small.wall_s,
        large.count / small.count.max(1)
    );
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd, run] if cmd == "measure" => {
            println!("{}", measure(Path::new(run)).to_line());
            return ExitCode::SUCCESS;
        }
        [cmd, run, rows] if cmd == "generate" => {
            generate(Path::new(run), rows.parse().expect("generate DIR ROWS"));
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let runs: Vec<Measurement> = SIZES.iter().map(|&n| median_of_runs(n)).collect();
    print_table(&runs);
    ExitCode::SUCCESS
}
