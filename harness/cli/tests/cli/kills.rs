//! The kill campaign with a bounded number of kills (the 50-kill figure comes from
//! `cargo bench -p hil-cli --bench kills` and is in README). `HIL_KILLS=N` runs another count.

#[path = "../common/kills.rs"]
mod campaign;

#[test]
fn soaks_killed_anywhere_lose_nothing_and_resume_to_the_uninterrupted_run() {
    let kills = std::env::var("HIL_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    let work = crate::common::scratch("kills");
    let tally = campaign::campaign(
        kills,
        20261202,
        &work,
        env!("CARGO_BIN_EXE_hil").as_ref(),
        &crate::common::root().join("fixtures/kills"),
    );
    println!("{}", campaign::render(&tally));
    assert_eq!(tally.kills, kills);
    assert!(tally.clean(), "{}", campaign::render(&tally));
    // Every scenario was killed at least once (settle times, the stop rule, retries all resumed).
    for s in campaign::SCENARIOS {
        assert!(
            tally.by_scenario.get(s).is_some_and(|&n| n > 0),
            "{s}: {tally:?}"
        );
    }
}
