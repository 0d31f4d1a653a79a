//! The false-naming study, shared by its test (a fixed set of seeds) and its bench (200 seeds, the figure in
//! README): fixtures/false-naming runs ten identical boards on the same slightly lossy link, so every board
//! fails alike at the same low rate; the report of such a run may name a cause the boards share, and must not
//! name any one of them, nor any other cause.

use std::path::{Path, PathBuf};

use hil::runner::StopSignal;
use hil::soak::Soak;

/// What one seed's report named.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub seed: u64,
    pub failures: u64,
    pub cycles: u64,
    /// Causes other than a cause the boards share, as "id [boards]".
    pub false_names: Vec<String>,
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/false-naming")
}

/// Run the study's scenario with `seed` under `work` and judge its report.
pub fn run_seed(seed: u64, work: &Path) -> Outcome {
    let dir = fixture();
    let text = std::fs::read_to_string(dir.join("scenario.toml")).expect("the study's scenario");
    let rig = dir
        .join("rig.toml")
        .canonicalize()
        .expect("the study's rig");
    let text = text
        .replace("seed = 1\n", &format!("seed = {seed}\n"))
        .replace(
            "rig = \"rig.toml\"",
            &format!("rig = {:?}", rig.display().to_string()),
        );
    let scenario = work.join(format!("seed-{seed}.toml"));
    std::fs::write(&scenario, text).unwrap();
    let reports = work.join(format!("reports-{seed}"));
    let (run, _) = Soak::start(&scenario, &reports)
        .unwrap()
        .run(&StopSignal::new(), |_| {})
        .unwrap();
    let r = report::build(std::slice::from_ref(&run), &[]).unwrap();
    std::fs::remove_dir_all(&reports).ok();
    let false_names = r
        .causes
        .iter()
        .filter(|c| c.kind == report::Kind::Cause && c.id != "shared_cause")
        .map(|c| format!("{} {:?}", c.id, c.boards))
        .collect();
    Outcome {
        seed,
        failures: r.total.failures,
        cycles: r.total.cycles,
        false_names,
    }
}
