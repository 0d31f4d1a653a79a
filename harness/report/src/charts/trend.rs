//! The trend across runs (e.g. one run a night): each board's failure rate with its 95 % interval per run,
//! runs in start order on x. Ready rates in, SVG out, like the other figures.

use super::axes::*;
use super::draw::*;
use super::style::*;

/// Failure rate per run (x: the run's position in start order, labelled by `runs`, e.g. its start date), one
/// series per board.
pub fn rate_per_run(runs: &[String], series: &[(String, Vec<RatePoint>)]) -> String {
    let title = "Failure rate per run";
    let series: Vec<(&str, Vec<Plotted>)> = series
        .iter()
        .map(|(name, points)| (name.as_str(), sorted_percent(points)))
        .filter(|(_, points)| !points.is_empty())
        .collect();
    if runs.len() < 2 || series.is_empty() {
        return message_svg(title, "no trend: fewer than two runs");
    }
    let (x0, x1) = (-0.5, runs.len() as f64 - 0.5);
    let top = rate_top(series.iter().flat_map(|(_, p)| p.iter().map(|q| q.3)));
    let keys: Vec<(String, Key)> = (series.iter().enumerate())
        .map(|(i, (name, _))| {
            (
                name.to_string(),
                Key::LineMark(series_mark(i).0, series_mark(i).1),
            )
        })
        .collect();
    // Labels about 7 px a character on a plot about 420 px wide: every k-th run so they do not overlap.
    let widest = runs.iter().map(|r| r.chars().count()).max().unwrap_or(1) + 2;
    let every = (runs.len() * widest * 7).div_ceil(420).max(1);
    let run_label = |x: &f64| {
        let i = x.round();
        let ok = (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < runs.len();
        match ok && (i as usize).is_multiple_of(every) {
            true => short(&runs[i as usize], 14),
            false => String::new(),
        }
    };
    render(title, (WIDTH, HEIGHT), |root| {
        let area = root.titled(title, font(TITLE_SIZE))?;
        let (plot, legend) = area.split_horizontally(WIDTH - LEGEND_WIDTH);
        let mut chart = chart_on(&plot, 64).build_cartesian_2d(x0..x1, 0.0..top)?;
        let y_label = number_label(top);
        mesh(&mut chart, "run, by start (UTC)", "failure rate (%)")
            .x_labels(runs.len() + 1)
            .x_label_formatter(&run_label)
            .y_label_formatter(&y_label)
            .draw()?;
        for (i, (_, points)) in series.iter().enumerate() {
            draw_rate_series(&mut chart, points, series_mark(i))?;
        }
        draw_legend(&legend, &keys)
    })
}
