//! The charts' tests: well-formed SVG, titles, board names, bounded points, labels that fit.
use super::axes::*;
use super::clocks::*;
use super::figures::*;
use super::style::*;

fn boards() -> Vec<String> {
    ["F746-A", "F746-B", "Nucleo <&> \"rev C\""]
        .map(String::from)
        .to_vec()
}

fn rate(x: f64, rate: f64, n: u64) -> RatePoint {
    let half = 1.96 * (rate * (1.0 - rate) / n as f64).sqrt() + 0.5 / n as f64;
    let (low, high) = ((rate - half).max(0.0), (rate + half).min(1.0));
    let pct = |v: f64| 100.0 * v;
    RatePoint {
        x,
        rate: pct(rate),
        low: pct(low),
        high: pct(high),
        n,
    }
}

fn examples() -> Vec<(&'static str, String)> {
    let b = boards();
    let failures: Vec<(usize, f64)> = (0..40)
        .map(|i| (i % 3, 900.0 * i as f64 + 37.0 * (i % 7) as f64))
        .collect();
    let series: Vec<(String, Vec<RatePoint>)> = b
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let points = (0..7)
                .map(|t| rate(25.0 + 10.0 * t as f64, 0.002 * (t * (k + 1)) as f64, 400))
                .collect();
            (name.clone(), points)
        })
        .collect();
    let points: Vec<(usize, f64, bool)> = (0..3000)
        .map(|i| {
            let ppm = (jitter(i + 7) * 4000.0) + 600.0 * (i % 3) as f64;
            (i % 3, ppm, ppm.abs() > 2_300.0 && i % 2 == 0)
        })
        .collect();
    let bars: Vec<(String, RatePoint)> = b
        .iter()
        .enumerate()
        .map(|(k, n)| (n.clone(), rate(0.0, 0.01 * k as f64, 250)))
        .collect();
    vec![
        (
            "Failures over time",
            failure_timeline(&b, &failures, 36_000.0),
        ),
        ("Failure rate vs temperature", rate_vs_temperature(&series)),
        (
            "USB clock error per cycle",
            usb_error_scatter(&b, &points, 2_500.0, 3000),
        ),
        (
            "Failure rate per board",
            rate_bars("Failure rate per board", "board", &bars),
        ),
    ]
}

/// Parses the SVG and returns every text node, trimmed.
fn texts(svg: &str) -> Vec<String> {
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(!svg.contains("<script"));
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

#[test]
fn every_chart_is_well_formed_titled_and_names_the_boards() {
    for (title, svg) in examples() {
        let texts = texts(&svg);
        assert!(texts.iter().any(|t| t == title), "{title}: {texts:?}");
        if title != "Failure rate vs temperature" && title != "Failure rate per board" {
            continue;
        }
        for board in boards() {
            assert!(
                texts.iter().any(|t| t.contains(&board)),
                "{title} lacks {board}: {texts:?}"
            );
        }
    }
}

#[test]
fn lane_charts_label_every_board_once() {
    for (title, svg) in examples()
        .into_iter()
        .filter(|(t, _)| t.starts_with("Failures") || t.starts_with("USB"))
    {
        let texts = texts(&svg);
        for board in boards() {
            let hits = texts.iter().filter(|t| t.starts_with(&board)).count();
            assert_eq!(hits, 1, "{title}, {board}: {texts:?}");
        }
    }
}

#[test]
fn board_names_are_escaped() {
    for (title, svg) in examples() {
        assert!(!svg.contains("<&>"), "{title}");
        assert!(
            svg.contains("Nucleo &lt;&amp;&gt; &quot;rev C&quot;"),
            "{title}"
        );
    }
}

#[test]
fn charts_are_deterministic() {
    assert_eq!(examples(), examples());
}

#[test]
fn charts_carry_axis_labels_with_units() {
    let all: Vec<String> = examples().iter().flat_map(|(_, svg)| texts(svg)).collect();
    for label in [
        "time since start (",
        "temperature (°C)",
        "failure rate (%)",
        "USB clock error (ppm)",
        "board",
    ] {
        assert!(all.iter().any(|t| t.starts_with(label)), "{label}");
    }
}

#[test]
fn empty_input_says_no_data() {
    let nan = RatePoint {
        x: f64::NAN,
        rate: 0.1,
        low: 0.0,
        high: 0.2,
        n: 3,
    };
    let charts = [
        failure_timeline(&[], &[(0, 5.0)], 60.0),
        rate_vs_temperature(&[]),
        rate_vs_temperature(&[("F746-A".into(), vec![nan])]),
        usb_error_scatter(&boards(), &[], 2_500.0, 0),
        usb_error_scatter(&[], &[(0, 10.0, false)], 2_500.0, 1),
        rate_bars("Failure rate per step", "step", &[]),
    ];
    for svg in charts {
        assert!(
            texts(&svg).iter().any(|t| t.starts_with("no data")),
            "{svg}"
        );
    }
}

#[rstest::rstest]
#[case(5.0, "time since start (s)")]
#[case(1_800.0, "time since start (min)")]
#[case(36_000.0, "time since start (h)")]
fn the_timeline_reads_in_the_unit_of_the_runs_span(#[case] duration_s: f64, #[case] label: &str) {
    let failures = [(0, duration_s / 2.0), (1, duration_s * 0.9)];
    let texts = texts(&failure_timeline(&boards(), &failures, duration_s));
    assert!(texts.iter().any(|t| t == label), "{texts:?}");
    // A 5-second run has seconds on its axis, not "0.00".
    if duration_s == 5.0 {
        assert!(texts.iter().any(|t| t == "4.5" || t == "4.0"), "{texts:?}");
    }
}

#[test]
fn timeline_without_failures_still_draws_the_lanes() {
    let texts = texts(&failure_timeline(&boards(), &[], 0.0));
    assert!(texts.iter().any(|t| t == "F746-A (0)"), "{texts:?}");
}

#[test]
fn out_of_range_input_is_ignored_or_clamped() {
    let b = boards();
    let svg = failure_timeline(
        &b,
        &[(9, 1.0), (0, f64::NAN), (1, -4.0), (2, 7200.0)],
        3600.0,
    );
    assert!(texts(&svg).iter().any(|t| t == "F746-A (0)"));
    let svg = usb_error_scatter(
        &b,
        &[(0, 1.0e9, true), (1, f64::INFINITY, false), (7, 0.0, false)],
        2_500.0,
        3,
    );
    assert!(texts(&svg).iter().any(|t| t == "failed (1)"));
    assert!(texts(&svg).iter().any(|t| t == "passed (0)"));
}

#[test]
fn scatter_caps_each_outcome() {
    let points: Vec<(usize, f64, bool)> = (0..3 * MAX_SCATTER_POINTS)
        .map(|i| (0, i as f64 % 5000.0, false))
        .collect();
    let svg = usb_error_scatter(&boards(), &points, 2_500.0, 20_000);
    assert!(svg.matches("<circle").count() <= MAX_SCATTER_POINTS + 2);
    let texts = texts(&svg);
    assert!(
        texts
            .iter()
            .any(|t| t.contains("a sample of 2,500 of 20,000 cycles")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t == "passed (2,500)"), "{texts:?}");
}

#[test]
fn crowded_bars_label_only_some_categories() {
    let bars: Vec<(String, RatePoint)> = (0..24)
        .map(|i| {
            (
                format!("{}–{} °C", 20 + 2 * i, 22 + 2 * i),
                rate(0.0, 0.01, 100),
            )
        })
        .collect();
    let texts = texts(&rate_bars(
        "Failure rate per temperature bin",
        "temperature bin",
        &bars,
    ));
    assert!(texts.iter().any(|t| t == "20–22 °C"));
    assert!(!texts.iter().any(|t| t == "22–24 °C"), "{texts:?}");
}

#[test]
fn short_keeps_short_names_and_cuts_long_ones() {
    assert_eq!(short("F746-A", 8), "F746-A");
    assert_eq!(short("a-very-long-board-name", 8), "a-very-…");
}

#[test]
fn sixteen_boards_get_sixteen_distinct_colour_and_marker_pairs() {
    let pairs: std::collections::HashSet<String> = (0..MAX_SERIES)
        .map(|i| format!("{:?}", series_mark(i)))
        .collect();
    assert_eq!(pairs.len(), 16);
    let colours: std::collections::HashSet<_> = (0..16).map(|i| series_mark(i).0).collect();
    assert_eq!(colours.len(), 16, "distinct colours, not only markers");
    // Neighbours differ in shape as well as colour.
    assert!((1..16).all(|i| series_mark(i).1 != series_mark(i - 1).1));
    let series: Vec<(String, Vec<RatePoint>)> = (0..16)
        .map(|k| {
            (
                format!("b{k:02}"),
                vec![
                    rate(20.0, 0.01, 100),
                    rate(30.0, 0.02 * k as f64 / 16.0, 100),
                ],
            )
        })
        .collect();
    let svg = rate_vs_temperature(&series);
    let fills: std::collections::HashSet<&str> = svg
        .match_indices("<polygon")
        .filter_map(|(i, _)| svg[i..].split("fill=\"").nth(1)?.split('"').next())
        .collect();
    assert!(fills.len() >= 16, "{fills:?}");
    let texts = texts(&svg);
    assert!(
        (0..16).all(|k| texts.contains(&format!("b{k:02}"))),
        "{texts:?}"
    );
}

#[test]
fn more_than_sixteen_boards_become_small_multiples() {
    let series: Vec<(String, Vec<RatePoint>)> = (0..20)
        .map(|k| (format!("b{k:02}"), vec![rate(25.0, 0.01, 100)]))
        .collect();
    let svg = rate_vs_temperature(&series);
    assert_eq!(svg.matches("<svg").count(), 2);
    assert!(svg.contains("boards 17–20 of 20"));
}

#[test]
fn scatter_keeps_passed_and_failed_in_their_own_strips() {
    // The same reading passed and failed on one board: the two dots must not land on each other.
    let points: Vec<(usize, f64, bool)> = (0..200).map(|i| (0, 100.0, i % 2 == 0)).collect();
    let svg = usb_error_scatter(&boards(), &points, 2_500.0, 200);
    let ys = |colour: &str| -> Vec<i32> {
        svg.match_indices("<circle")
            .map(|(i, _)| &svg[i..svg[i..].find("/>").map_or(svg.len(), |e| i + e)])
            .filter(|c| c.contains(colour))
            // Not the legend's dots, in the column on the right.
            .filter(|c| {
                let cx: i32 = c
                    .split("cx=\"")
                    .nth(1)
                    .and_then(|v| v.split('"').next()?.parse().ok())
                    .unwrap_or(0);
                cx < (WIDTH - LEGEND_WIDTH) as i32
            })
            .filter_map(|c| c.split("cy=\"").nth(1)?.split('"').next()?.parse().ok())
            .collect()
    };
    let (passed, failed) = (ys("#1F77B4"), ys("#D62728"));
    assert_eq!((passed.len(), failed.len()), (100, 100));
    assert!(
        passed.iter().max() < failed.iter().min(),
        "passed above failed"
    );
    let texts = texts(&svg);
    assert!(texts.iter().any(|t| t == "failed (100)"));
    assert!(!texts.iter().any(|t| t.contains("a sample")), "all drawn");
}

#[test]
fn the_mechanism_chart_has_a_panel_per_hse_with_its_detection_band() {
    let panel = |mhz: u32| HsiPanel {
        hse_mhz: mhz,
        points: (0..8)
            .map(|k| rate(0.2 * k as f64, 0.05 * k as f64 / 8.0, 200))
            .collect(),
        always: Some((-1.71, 1.65)),
        sometimes: Some((-2.13, 2.07)),
    };
    let svg = rate_vs_hsi_error(&[panel(24), panel(25)], "virtual board model");
    assert_eq!(
        svg.matches("<svg").count(),
        2,
        "one panel per HSE frequency"
    );
    let texts: Vec<String> = svg
        .split_inclusive("</svg>")
        .filter(|s| s.contains("<svg"))
        .flat_map(|s| texts(s.trim()))
        .collect();
    for t in [
        "Failure rate vs HSI error, 24 MHz HSE",
        "Failure rate vs HSI error, 25 MHz HSE",
        "HSI error (%, virtual board model)",
        "always detected",
        "sometimes",
    ] {
        assert!(texts.iter().any(|x| x == t), "{t}: {texts:?}");
    }
    assert!(rate_vs_hsi_error(&[], "measured").contains("no data"));
}

#[test]
fn the_pllm_strip_marks_the_misdetected_boots_on_their_board() {
    let points: Vec<(usize, f64, u8, bool)> = (0..60)
        .map(|i| {
            (
                i % 3,
                i as f64,
                if i % 10 == 2 { 24 } else { 25 },
                i % 10 != 2,
            )
        })
        .collect();
    let svg = pllm_strip(&boards(), &points, 120);
    let texts = texts(&svg);
    for t in [
        "Detected HSE (PLLM) over the run",
        "wrong (6)",
        "right (54)",
        "PLLM 24",
        "time since start (s); a sample of 60 of 120 boots",
    ] {
        assert!(texts.iter().any(|x| x == t), "{t}: {texts:?}");
    }
    assert!(texts.iter().any(|t| t.starts_with("F746-A")));
}
