//! The statistics checked against R's fisher.test, published Wilson intervals, and statsmodels, scipy and R
//! for the stratified, trend and multiple-comparison tests.
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
fn zero_cells_give_infinite_odds_and_an_interval_that_contains_them() {
    let a = fisher(table(10, 0, 0, 10));
    assert_eq!((a.odds_ratio, a.phi), (f64::INFINITY, 1.0));
    // scipy's conditional interval of this table: 11.135840592560513 to inf.
    assert_rel(a.or_low, 11.135_840_592_560_513, 1e-6);
    assert!(a.or_high.is_infinite());
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

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1e-300)
}

/// statsmodels 0.15.0 `StratifiedTable([...]).test_null_odds(correction=True)` and `.oddsratio_pooled`.
#[rstest]
#[case(&[(20, 80, 10, 90), (5, 95, 2, 98), (30, 20, 25, 25)], 5.033345002625591, 0.02486383258150615, 1.9045226130653268)]
#[case(&[(3, 7, 1, 9), (0, 10, 0, 10), (4, 1, 2, 3)], 1.491279069767442, 0.2220181109666426, 4.636363636363636)]
fn cmh_matches_statsmodels(
    #[case] strata: &[(u64, u64, u64, u64)],
    #[case] statistic: f64,
    #[case] p: f64,
    #[case] odds_ratio: f64,
) {
    let tables: Vec<Table2x2> = strata
        .iter()
        .map(|&(a, b, c, d)| table(a, b, c, d))
        .collect();
    let r = cochran_mantel_haenszel(&tables);
    assert!(close(r.statistic, statistic, 1e-9), "{r:?}");
    assert!(close(r.p_value, p, 1e-6), "{r:?}");
    assert!(close(r.odds_ratio, odds_ratio, 1e-9), "{r:?}");
    assert!(r.excess_failures > 0.0);
}

#[test]
fn cmh_keeps_a_log_p_when_the_p_value_underflows() {
    let r = cochran_mantel_haenszel(&[table(50_000, 0, 0, 50_000)]);
    assert_eq!(r.p_value, 0.0);
    assert!(r.log10_p < -1000.0 && r.log10_p.is_finite(), "{r:?}");
}

/// statsmodels 0.15.0 `multipletests([0.01, 0.04, 0.03, 0.005, 0.2], method=...)` (as R's `p.adjust`).
#[test]
fn holm_and_bh_match_statsmodels() {
    let p = [0.01, 0.04, 0.03, 0.005, 0.2];
    let want_holm = [0.04, 0.09, 0.09, 0.025, 0.2];
    let want_bh = [0.025, 0.05, 0.05, 0.025, 0.2];
    for (got, want) in holm(&p).iter().zip(want_holm) {
        assert!(close(*got, want, 1e-12), "holm {got} vs {want}");
    }
    for (got, want) in benjamini_hochberg(&p).iter().zip(want_bh) {
        assert!(close(*got, want, 1e-12), "bh {got} vs {want}");
    }
    let logs: Vec<f64> = p.iter().map(|x| x.log10()).collect();
    for (got, want) in holm_log10(&logs).iter().zip(want_holm) {
        assert!(
            close(10f64.powf(*got), want, 1e-12),
            "holm log10 {got} vs {want}"
        );
    }
}

#[test]
fn holm_in_log_space_stays_finite_where_p_underflows() {
    let adjusted = holm_log10(&[-700.0, -2.0, -800.0]);
    assert_eq!(adjusted[2], -800.0 + 3f64.log10());
    assert_eq!(adjusted[0], -700.0 + 2f64.log10());
    assert!((adjusted[1] - (-2.0)).abs() < 1e-12);
}

/// R's `prop.trend.test(x, n, score)`: the weighted least-squares regression sum of squares of the rates on
/// the scores, here computed with numpy (1.x) from R's definition, and scipy 1.17.1's `chi2.sf(stat, 1)`.
#[rstest]
#[case(&[5, 10, 20, 35], &[100, 100, 100, 100], &[20.0, 25.0, 30.0, 35.0], 34.63203463203456, 3.982974753023014e-09, 1)]
#[case(&[30, 12, 6, 3], &[200, 200, 200, 200], &[20.0, 25.0, 30.0, 35.0], 31.703447734233745, 1.7960307357766215e-08, -1)]
#[case(&[2, 3, 1, 4, 2], &[50, 50, 50, 50, 50], &[1.0, 2.0, 3.0, 4.0, 5.0], 0.04376750700280174, 0.8342867635089168, 1)]
fn cochran_armitage_matches_r(
    #[case] x: &[u64],
    #[case] n: &[u64],
    #[case] scores: &[f64],
    #[case] statistic: f64,
    #[case] p: f64,
    #[case] direction: i8,
) {
    let t = cochran_armitage(x, n, scores);
    assert!(close(t.statistic, statistic, 1e-9), "{t:?}");
    assert!(close(t.p_value, p, 1e-6), "{t:?}");
    assert_eq!(
        t.direction, direction,
        "failures rise (+1) or fall (-1) with the level"
    );
}

// scipy 1.x `scipy.stats.contingency.odds_ratio(t, kind="conditional").confidence_interval(0.95)` (the
// interval R's fisher.test prints), for tables with a zero cell and one without (where Woolf's is used, so
// only containment is checked).
#[rstest]
#[case::no_failure_without_it(table(5, 0, 10, 100), 7.577_483_178_024_619, f64::INFINITY)]
#[case::no_failure_without_it_large(table(12, 3, 0, 200), 107.114_979_932_055_83, f64::INFINITY)]
#[case::no_failure_with_it(table(0, 20, 7, 40), 0.0, 1.557_367_657_134_046)]
#[case::share_of_a_thousand(table(40, 60, 0, 900), 148.384_426_055_107, f64::INFINITY)]
fn zero_cell_odds_ratio_interval_is_the_exact_conditional_one(
    #[case] t: Table2x2,
    #[case] low: f64,
    #[case] high: f64,
) {
    let a = fisher(t);
    if low == 0.0 {
        assert_eq!(a.or_low, 0.0);
    } else {
        assert_rel(a.or_low, low, 1e-6);
    }
    if high.is_infinite() {
        assert!(a.or_high.is_infinite(), "{a:?}");
    } else {
        assert_rel(a.or_high, high, 1e-6);
    }
    assert!(a.or_low <= a.odds_ratio && a.odds_ratio <= a.or_high);
}

// The exact conditional test of a common odds ratio across strata (R's mantelhaen.test(exact = TRUE)): values
// from enumerating every combination of the strata's first cells with Python's exact fractions
// (`fractions.Fraction`, `math.comb`), two-sided as Fisher's with R's 1e-7 tolerance.
#[rstest]
#[case::two_strata(vec![table(3, 7, 1, 9), table(5, 15, 2, 28)], 0.048_266_490_800_207_146)]
#[case::three_strata(vec![table(2, 48, 0, 50), table(1, 99, 4, 96), table(0, 30, 3, 27)], 0.337_606_522_335_553_4)]
#[case::strong(vec![table(12, 88, 3, 297), table(9, 41, 1, 149)], 3.705_001_456_728_188e-10)]
fn exact_conditional_test_matches_enumeration(#[case] strata: Vec<Table2x2>, #[case] p: f64) {
    let (got, log10) = exact_conditional(&strata).unwrap();
    assert_rel(got, p, 1e-9);
    assert_rel(10f64.powf(log10), p, 1e-9);
}

#[test]
fn exact_conditional_test_of_one_stratum_is_fishers() {
    for t in [table(3, 1, 1, 3), table(2, 15, 10, 3), table(7, 93, 3, 97)] {
        let (p, _) = exact_conditional(&[t]).unwrap();
        assert_rel(p, fisher(t).p_value, 1e-9);
    }
    // Too large a support gives way to the chi-square.
    assert!(exact_conditional(&[table(5000, 5000, 5000, 5000)]).is_none());
}

#[test]
fn the_trend_within_one_stratum_is_the_plain_trend_and_strata_that_differ_only_in_level_show_none()
{
    let (x, n, s) = (
        vec![5, 10, 20, 35],
        vec![100, 100, 100, 100],
        vec![20.0, 25.0, 30.0, 35.0],
    );
    let plain = cochran_armitage(&x, &n, &s);
    let within = cochran_armitage_within(&[(x, n, s)]);
    assert_rel(within.statistic, plain.statistic, 1e-12);
    assert_eq!(within.direction, plain.direction);
    // One stratum at 25 °C failing 60 %, another at 50 °C failing 60 %: pooled, a trend; within, none.
    let a = (vec![30], vec![50], vec![25.0]);
    let b = (vec![30], vec![50], vec![50.0]);
    assert_eq!(cochran_armitage_within(&[a, b]).p_value, 1.0);
}
