//! The statistics checked against R's fisher.test and published Wilson intervals.
use super::*;
use rstest::rstest;

fn assert_rel(got: f64, want: f64, rel: f64) {
    assert!(
        ((got - want) / want).abs() <= rel,
        "got {got:e}, want {want:e} (relative {rel:e})"
    );
}

fn table(a: u64, b: u64, c: u64, d: u64) -> Table2x2 {
    Table2x2 {
        exposed_failed: a,
        exposed_passed: b,
        unexposed_failed: c,
        unexposed_passed: d,
    }
}

// Checked by the formula (z = 1.959964) in 40-digit arithmetic. 81/263 -> 0.2553–0.3662 is the example
// of Newcombe (1998), Statist. Med. 17:857, for the Wilson score method.
#[rstest]
#[case::none_of_ten(0, 10, 0.0, 0.277_532_799_863)]
#[case::half_of_ten(5, 10, 0.236_593_090_513, 0.763_406_909_487)]
#[case::newcombe_81_of_263(81, 263, 0.255_288_519_878, 0.366_209_576_983)]
#[case::all_of_ten(10, 10, 0.722_467_200_137, 1.0)]
#[case::nothing_known(0, 0, 0.0, 1.0)]
fn wilson_matches_reference(#[case] k: u64, #[case] n: u64, #[case] low: f64, #[case] high: f64) {
    let w = wilson(k, n);
    assert!(
        (w.low - low).abs() < 1e-11 && (w.high - high).abs() < 1e-11,
        "{w:?}"
    );
}

#[test]
fn wilson_at_widens_with_confidence() {
    let (w90, w99) = (wilson_at(5, 10, 0.90), wilson_at(5, 10, 0.99));
    assert!(w99.low < w90.low && w99.high > w90.high);
}

// Two-sided p. Exact rationals in Python (big integers), so p is tested to 1e-10; R's fisher.test
// examples print the same to four figures: TeaTasting 0.4857, Convictions 0.0005367.
#[rstest]
#[case::r_tea_tasting(table(3, 1, 1, 3), 34.0 / 70.0)]
#[case::r_convictions(table(2, 15, 10, 3), 46_423.0 / 86_493_225.0)]
#[case::zero_cells(table(10, 0, 0, 10), 2.0 / 184_756.0)]
#[case::small(table(7, 93, 3, 97), 0.331_129_164_404_39)]
#[case::thousands(table(123, 877, 98, 902), 0.086_759_344_530_19)]
#[case::millions(table(1200, 998_800, 1000, 999_000), 2.159_102_792_869_69e-5)]
#[case::millions_rare(table(300, 999_700, 200, 999_800), 8.917_158_141_067e-6)]
#[case::symmetric(table(40, 960, 40, 960), 1.0)]
#[case::symmetric_small(table(2, 2, 2, 2), 1.0)]
#[case::empty_row(table(0, 0, 5, 7), 1.0)]
#[case::no_failures(table(0, 10, 0, 20), 1.0)]
#[case::empty(table(0, 0, 0, 0), 1.0)]
fn fisher_two_sided_matches_reference(#[case] t: Table2x2, #[case] p: f64) {
    let a = fisher(t);
    assert_rel(a.p_value, p, 1e-10);
    assert_rel(10f64.powf(a.log10_p), p, 1e-9);
}

#[test]
fn tea_tasting_reports_the_sample_odds_ratio_not_rs_conditional_mle() {
    // R prints 6.408309 (the conditional MLE); we report ad/bc = 9.
    let a = fisher(table(3, 1, 1, 3));
    assert_eq!(a.odds_ratio, 9.0);
    assert_rel(
        a.or_low,
        (9f64.ln() - 1.959_963_985 * (8.0f64 / 3.0).sqrt()).exp(),
        1e-9,
    );
    assert_eq!((a.phi, a.share_of_failures), (0.5, 0.75));
    assert_eq!((a.exposed_rate.rate, a.unexposed_rate.rate), (0.75, 0.25));
}

#[test]
fn zero_cells_give_infinite_odds_and_a_corrected_finite_interval() {
    let a = fisher(table(10, 0, 0, 10));
    assert_eq!((a.odds_ratio, a.phi), (f64::INFINITY, 1.0));
    assert!(a.or_low > 1.0 && a.or_high.is_finite());
}

#[test]
fn overwhelming_evidence_keeps_a_finite_log_p() {
    // Exact value from big-integer arithmetic: p = 7.6030418489059107e-666.
    let a = fisher(table(500, 100, 50, 9000));
    assert_eq!(a.p_value, 0.0);
    assert!(
        (a.log10_p - -665.119_012_619_05).abs() < 1e-9,
        "{}",
        a.log10_p
    );
}

#[test]
fn million_count_tables_give_finite_numbers() {
    for t in [
        table(1_000_000, 999_000, 998_000, 1_000_000),
        table(900_000, 100_000, 1000, 999_000),
    ] {
        let a = fisher(t);
        let numbers = [
            a.log10_p,
            a.or_low,
            a.or_high,
            a.phi,
            a.odds_ratio,
            a.share_of_failures,
        ];
        assert!(numbers.iter().all(|x| x.is_finite()), "{a:?}");
        assert!((0.0..=1.0).contains(&a.p_value));
    }
}

// One-sided p_worse: R's fisher.test(Convictions, alternative = "less") = 0.0004652 is the same tail seen
// from the other row; TeaTasting with alternative = "greater" = 0.2429.
#[rstest]
#[case::worse(
    50,
    1000,
    20,
    1000,
    1.742_596_766_586_2e-4,
    3.485_193_533_172_4e-4,
    true
)]
#[case::better(
    20,
    1000,
    50,
    1000,
    0.999_936_308_011_58,
    3.485_193_533_172_4e-4,
    false
)]
#[case::equal(40, 1000, 40, 1000, 0.545_380_581_747_25, 1.0, false)]
#[case::r_convictions(10, 13, 2, 17, 40_235.0 / 86_493_225.0, 46_423.0 / 86_493_225.0, true)]
#[case::r_tea_tasting(3, 4, 1, 4, 17.0 / 70.0, 34.0 / 70.0, false)]
fn compare_rates_matches_reference(
    #[case] now_failed: u64,
    #[case] now_n: u64,
    #[case] base_failed: u64,
    #[case] base_n: u64,
    #[case] p_worse: f64,
    #[case] p_two_sided: f64,
    #[case] regression: bool,
) {
    let c = compare_rates(now_failed, now_n, base_failed, base_n);
    assert_rel(c.p_worse, p_worse, 1e-10);
    assert_rel(c.p_two_sided, p_two_sided, 1e-10);
    assert_eq!(c.regression, regression);
}

#[test]
fn no_baseline_failures_and_no_cycles_are_handled() {
    let c = compare_rates(0, 0, 0, 0);
    assert_eq!((c.p_two_sided, c.p_worse, c.regression), (1.0, 1.0, false));
    assert_eq!((c.now.low, c.now.high), (0.0, 1.0));
}
