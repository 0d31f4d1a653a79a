//! `hil clocks` as a user runs it: the snapshot of each shipped virtual board, the misdetected boot the issue
//! asks for (drifting-25mhz, seed 1: PLLM 24, +41,666.7 ppm), JSON, measurements, and exit codes.

use std::path::PathBuf;
use std::process::{Command, Output};

use rstest::rstest;

fn hil(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hil"))
        .args(args)
        .output()
        .expect("hil runs")
}

fn board(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/boards")
        .join(format!("{name}.toml"));
    p.to_string_lossy().into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[rstest]
#[case::healthy("healthy-25mhz")]
#[case::crystal("crystal-24mhz")]
#[case::drifting("drifting-25mhz")]
fn each_shipped_board(#[case] name: &str) {
    let o = hil(&[
        "clocks",
        &format!("--virtual={}", board(name)),
        "--seed",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!(format!("clocks_{name}_seed1"), stdout(&o));
}

#[test]
fn drifting_board_seed_1_misdetects_25_as_24() {
    let o = hil(&[
        "clocks",
        &format!("--virtual={}", board("drifting-25mhz")),
        "--seed",
        "1",
    ]);
    let out = stdout(&o);
    assert!(
        out.contains("PLL           on ready, source HSE, M 24, N 240"),
        "{out}"
    );
    assert!(
        out.contains("HSE MISDETECTED: 24 MHz on a 25 MHz board (-1 MHz)"),
        "{out}"
    );
    assert!(
        out.contains("50.000000 MHz, +41,666.7 ppm: OUT OF TOLERANCE"),
        "{out}"
    );
}

#[rstest]
#[case::healthy("healthy-25mhz", "1")]
#[case::drifting_on_a_good_boot("drifting-25mhz", "2")]
fn correct_detection_is_within_tolerance(#[case] name: &str, #[case] seed: &str) {
    let o = hil(&[
        "clocks",
        &format!("--virtual={}", board(name)),
        "--seed",
        seed,
    ]);
    let out = stdout(&o);
    assert!(
        out.contains("Verdict       HSE detected correctly"),
        "{out}"
    );
    assert!(
        out.contains("48.000000 MHz, +0.0 ppm: within tolerance"),
        "{out}"
    );
}

/// `--power-on N` is the server's N-th power-on: the same draw its usbredir session makes (the guest test compares
/// the two through probe-rs); successive power-ons differ, and the same one is the same every time.
#[test]
fn power_on_n_replays_one_boot_of_a_seeded_board() {
    let pllm = |n: &str| {
        let o = hil(&[
            "clocks",
            &format!("--virtual={}", board("drifting-25mhz")),
            "--seed",
            "15755400384260043838",
            "--power-on",
            n,
            "--no-dfu",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        out.lines()
            .find(|l| l.starts_with("PLL "))
            .unwrap()
            .to_string()
    };
    let seen: Vec<String> = ["13", "14", "13"].iter().map(|n| pllm(n)).collect();
    assert!(
        seen[0].contains("M 25,") && seen[1].contains("M 24,"),
        "{seen:?}"
    );
    assert_eq!(seen[0], seen[2]);
}

#[test]
fn json_has_the_flat_derived_record() {
    let o = hil(&[
        "clocks",
        &format!("--virtual={}", board("drifting-25mhz")),
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let d = &v["derived"];
    assert_eq!(d["pllm"], 24);
    assert_eq!(d["detected_hse_hz"], 24_000_000);
    assert_eq!(d["verdict"], "misdetected");
    assert_eq!(d["usb_in_tolerance"], false);
    let ppm = d["usb_clock_error_ppm"].as_f64().unwrap();
    assert!((ppm - 41_666.67).abs() < 0.01, "{ppm}");
    assert_eq!(v["attach"]["path"], "virtual");
    assert_eq!(v["snapshot"]["raw"]["rcc_pllcfgr"], 0x2541_3C18u32);
}

#[test]
fn measurements_on_the_healthy_board() {
    let args = [
        "clocks",
        "--virtual",
        "--measure-sysclk",
        "--measure-hsi",
        "--window-ms",
        "200",
    ];
    let o = hil(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let measured: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("meas.") || l.contains("intrusive"))
        .collect();
    insta::assert_snapshot!("clocks_healthy_measured", measured.join("\n"));
}

#[rstest]
#[case::neither_probe_nor_virtual(&["clocks"], "--probe")]
#[case::bad_selector(&["clocks", "--probe", "stlink", "--hse-hz", "25000000"], "no ':' between VID and PID")]
#[case::no_true_hse(&["clocks", "--probe", "0483:374b"], "--hse-hz is required with --probe")]
#[case::unknown_chip(&["clocks", "--probe", "0483:374b", "--hse-hz", "8000000", "--chip", "NOPE"], "chip \"NOPE\" is not a probe-rs target")]
#[case::window_too_long(&["clocks", "--virtual", "--measure-sysclk", "--window-ms", "60000"], "measurement window 60000 ms")]
#[case::both(&["clocks", "--virtual", "--probe", "0483:374b"], "cannot be used with")]
#[case::power_on_of_a_real_board(&["clocks", "--probe", "0483:374b", "--hse-hz", "25000000", "--power-on", "2"], "cannot be used with")]
#[case::power_on_zero(&["clocks", "--virtual", "--power-on", "0"], "--power-on")]
#[case::probe_flag_on_a_virtual_board(&["clocks", "--virtual", "--connect-under-reset"], "cannot be used with")]
fn usage_errors_exit_2(#[case] args: &[&str], #[case] message: &str) {
    let o = hil(args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains(message), "{}", stderr(&o));
}

#[test]
fn a_missing_probe_is_an_infrastructure_failure_exit_1() {
    let args = [
        "clocks",
        "--probe",
        "1209:0001:hil-test-no-such-probe",
        "--hse-hz",
        "25000000",
        "--no-dfu",
    ];
    let o = hil(&args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("opening debug probe 1209:0001:hil-test-no-such-probe"),
        "{err}"
    );
    assert!(err.trim_end().ends_with("[probe]"), "{err}");
}
