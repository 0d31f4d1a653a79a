//! The kill campaign with 50 kills: `cargo bench -p hil-cli --bench kills`; the figure is in README.
//! `HIL_KILLS=N` runs another count, `HIL_KILLS_SEED=S` another draw.

#[path = "../tests/common/kills.rs"]
mod campaign;

fn main() {
    let env = |k: &str, default: u64| {
        std::env::var(k)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let (kills, seed) = (env("HIL_KILLS", 50) as usize, env("HIL_KILLS_SEED", 1));
    let work = tempfile::tempdir().expect("a scratch folder");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/kills");
    let started = std::time::Instant::now();
    let tally = campaign::campaign(
        kills,
        seed,
        work.path(),
        env!("CARGO_BIN_EXE_hil").as_ref(),
        &fixtures,
    );
    print!("{}", campaign::render(&tally));
    println!("seed {seed}; {:.0} s", started.elapsed().as_secs_f64());
    if !tally.clean() {
        std::process::exit(1);
    }
}
