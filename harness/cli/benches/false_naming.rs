//! The false-naming study over 200 seeds: how often a report names one of ten identical boards (or any cause but
//! the one they share) when they all fail alike at a low rate. `cargo bench -p hil-cli --bench false_naming`;
//! the figure is in README. `FALSE_NAMING_SEEDS=N` runs another count.

#[path = "../tests/common/false_naming.rs"]
mod study;

fn main() {
    let seeds: u64 = std::env::var("FALSE_NAMING_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let work = tempfile::tempdir().expect("a scratch folder");
    let started = std::time::Instant::now();
    let (mut wrong, mut failures, mut cycles) = (Vec::new(), 0, 0);
    for seed in 1..=seeds {
        let o = study::run_seed(seed, work.path());
        failures += o.failures;
        cycles += o.cycles;
        if !o.false_names.is_empty() {
            println!("seed {}: named {}", o.seed, o.false_names.join("; "));
            wrong.push(seed);
        }
    }
    let w = report::stats::wilson(wrong.len() as u64, seeds);
    println!(
        "false naming: {} of {seeds} seeds ({:.1} %, 95 % Wilson interval {:.1}–{:.1} %); the bench failed {failures} of \
         {cycles} cycles ({:.2} %); {:.0} s",
        wrong.len(),
        100.0 * w.rate,
        100.0 * w.low,
        100.0 * w.high,
        100.0 * failures as f64 / cycles as f64,
        started.elapsed().as_secs_f64()
    );
}
