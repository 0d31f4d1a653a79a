//! Writes each of the report's charts, drawn from made-up data, as an SVG file for a visual check (open them
//! in a browser): `cargo run -p report --example charts -- /tmp/charts`.

use std::path::PathBuf;

use report::charts::{
    failure_timeline, rate_bars, rate_vs_temperature, usb_error_scatter, RatePoint,
};

/// A rate in percent with a rough 95 % interval.
fn point(x: f64, rate: f64, n: u64) -> RatePoint {
    let half = 196.0 * (rate * (1.0 - rate) / n as f64).sqrt();
    RatePoint {
        x,
        rate: 100.0 * rate,
        low: (100.0 * rate - half).max(0.0),
        high: (100.0 * rate + half).min(100.0),
        n,
    }
}

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "charts".into()));
    std::fs::create_dir_all(&dir)?;
    let boards: Vec<String> = (1..=10).map(|i| format!("bench-{i:02}")).collect();
    let failures: Vec<(usize, f64)> = (0..300).map(|i| (i % 4 + 4, 47.0 * i as f64)).collect();
    let temperature: Vec<(String, Vec<RatePoint>)> = boards
        .iter()
        .enumerate()
        .map(|(k, b)| {
            let pts = [20.0, 25.0, 30.0, 35.0]
                .iter()
                .map(|&t| point(t, 0.002 * k as f64 * (t - 15.0) / 5.0, 800))
                .collect();
            (b.clone(), pts)
        })
        .collect();
    let scatter: Vec<(usize, f64, bool)> = (0..4000)
        .map(|i| {
            let misdetected = i % 9 == 0;
            let ppm = if misdetected {
                41_667.0
            } else {
                (i % 61) as f64 - 30.0
            };
            (i % 10, ppm, misdetected && i % 3 != 0)
        })
        .collect();
    let bars: Vec<(String, RatePoint)> = boards
        .iter()
        .enumerate()
        .map(|(k, b)| (b.clone(), point(k as f64, 0.01 * (k % 4) as f64, 800)))
        .collect();
    let charts = [
        ("timeline", failure_timeline(&boards, &failures, 14_400.0)),
        ("temperature", rate_vs_temperature(&temperature)),
        (
            "usb-scatter",
            usb_error_scatter(&boards, &scatter, 2_500.0, scatter.len() as u64),
        ),
        (
            "boards",
            rate_bars("Failure rate per board", "board", &bars),
        ),
    ];
    for (name, svg) in charts {
        let path = dir.join(format!("{name}.svg"));
        std::fs::write(&path, svg)?;
        println!("{}", path.display());
    }
    Ok(())
}
