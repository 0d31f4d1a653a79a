//! Every rig file in fixtures/rigs/ and every scenario in scenarios/ loads and validates.

use std::path::PathBuf;

use hil::rig::{Rig, Wiring};
use hil::scenario::{Action, PhaseLength, Scenario};
use rstest::rstest;

#[rstest]
fn rig_files_load(
    #[base_dir = "../../fixtures/rigs"]
    #[files("*.toml")]
    path: PathBuf,
) {
    let rig = Rig::load(&path).unwrap_or_else(|e| panic!("{}", dfuse::error_chain(&e)));
    assert!(!rig.boards.is_empty());
}

#[rstest]
fn scenario_files_load(
    #[base_dir = "../../scenarios"]
    #[files("*.toml")]
    path: PathBuf,
) {
    let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{}", dfuse::error_chain(&e)));
    assert!(scenario.boards().count() > 0);
    assert!(!scenario.cycle.is_empty());
}

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

#[test]
fn virtual_bench_is_the_seed_bench() {
    let rig = Rig::load(&repo("fixtures/rigs/virtual-bench.toml")).unwrap();
    assert_eq!(rig.boards.len(), 10);
    assert!(rig.is_virtual());
    let mhz: Vec<u32> = rig.boards.iter().map(|b| b.hse_hz / 1_000_000).collect();
    assert_eq!(mhz.iter().filter(|&&m| m == 24).count(), 3);
    assert_eq!(mhz.iter().filter(|&&m| m == 25).count(), 7);
    let Wiring::Virtual(first) = &rig.boards[0].wiring else {
        panic!("virtual rig")
    };
    assert_eq!(first.config.name(), "bench-01");
    assert_eq!(rig.boards[2].usb.path.as_deref(), Some("0-3"));
}

#[test]
fn seed_scenario_sweeps_temperature_and_flashes_64k() {
    let s = Scenario::load(&repo("scenarios/seed-f746.toml")).unwrap();
    let temps: Vec<f64> = s.phases.iter().filter_map(|p| p.temperature_c).collect();
    assert_eq!(temps, [20.0, 25.0, 30.0, 35.0]);
    assert!(s
        .phases
        .iter()
        .all(|p| p.length == PhaseLength::Cycles(200)));
    let flash = s.cycle.iter().find_map(|step| match &step.action {
        Action::Flash { image, verify, .. } => Some((image.clone(), *verify)),
        _ => None,
    });
    assert_eq!(
        flash,
        Some((
            hil::scenario::ImageSource::Generate {
                size: 65536,
                seed: 1
            },
            true
        ))
    );
}

#[test]
fn bench_example_is_a_real_rig_with_a_chamber() {
    let rig = Rig::load(&repo("fixtures/rigs/bench-example.toml")).unwrap();
    assert!(!rig.is_virtual());
    assert!(rig.chamber.is_some());
    let relays = &rig.controllers["relays"];
    assert_eq!(relays.port.as_ref().map(|p| p.baud), Some(115_200));
    assert!(relays.reset_pulse.is_some());
    assert_eq!(rig.boards[0].chip, "STM32F746ZGTx");
    assert_eq!(
        rig.boards[0].probe.as_ref().unwrap().to_string(),
        "0483:374b:066DFF3833584B3043115433"
    );
    let nightly = Scenario::load(&repo("scenarios/nightly.toml")).unwrap();
    let names: Vec<&str> = nightly.boards().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["f746-a", "f746-b", "f746-c"]);
}
