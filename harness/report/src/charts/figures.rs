//! The four charts of the report, each from ready numbers to an SVG string.

use plotters::prelude::*;

use super::axes::*;
use super::draw::*;
use super::style::*;

/// Failures over time, one lane per board: a mark at each failure's time on the run's clock, in seconds,
/// minutes or hours as the run's span reads best.
pub fn failure_timeline(boards: &[String], failures: &[(usize, f64)], duration_s: f64) -> String {
    let title = "Failures over time";
    if boards.is_empty() {
        return message_svg(title, "no data: no boards");
    }
    let marks: Vec<(usize, f64)> = failures
        .iter()
        .filter(|&&(board, t)| board < boards.len() && t.is_finite() && t >= 0.0)
        .copied()
        .collect();
    let last = marks
        .iter()
        .map(|m| m.1)
        .fold(duration_s.max(0.0), f64::max);
    let (unit, len) = crate::format::time_unit(last);
    let marks: Vec<(usize, f64)> = marks.iter().map(|&(b, t)| (b, t / len)).collect();
    let span = if last > 0.0 { last / len } else { 1.0 };
    let names = names_with_counts(boards, marks.iter().map(|m| m.0));
    let x_desc = format!("time since start ({unit})");
    render(title, (WIDTH, lanes_height(boards.len())), |root| {
        let area = root.titled(title, font(TITLE_SIZE))?;
        let mut chart = lane_chart(&area, &names, 0.0..span)?;
        let (time_label, lane_label) = (number_label(span), |v: &f64| lane_name(&names, *v));
        mesh(&mut chart, &x_desc, "board (failures)")
            .x_labels(10)
            .x_label_formatter(&time_label)
            .y_label_formatter(&lane_label)
            .draw()?;
        let style = FAIL_COLOUR.mix(0.75).stroke_width(2);
        chart.draw_series(marks.iter().map(|&(board, x)| {
            let y = lane_y(boards.len(), board);
            PathElement::new(vec![(x, y - 0.3), (x, y + 0.3)], style)
        }))?;
        Ok(())
    })
}

/// Failure rate (%) against temperature (°C), one line-and-markers series per board, with 95 % interval whiskers:
/// each board its own colour and marker. Past [`MAX_SERIES`] boards the chart becomes small multiples, one
/// panel per [`MAX_SERIES`] boards. Series sharing a temperature are nudged apart sideways so their whiskers stay visible.
pub fn rate_vs_temperature(series: &[(String, Vec<RatePoint>)]) -> String {
    let title = "Failure rate vs temperature";
    let series: Vec<(&str, Vec<Plotted>)> = series
        .iter()
        .map(|(name, points)| (name.as_str(), sorted_percent(points)))
        .filter(|(_, points)| !points.is_empty())
        .collect();
    if series.is_empty() {
        return message_svg(title, "no data: no rate points");
    }
    if series.len() <= MAX_SERIES {
        return temperature_panel(title, &series);
    }
    let panels = series.len().div_ceil(MAX_SERIES);
    (series.chunks(MAX_SERIES).enumerate())
        .map(|(k, chunk)| {
            let first = k * MAX_SERIES + 1;
            let last = first + chunk.len() - 1;
            let title = format!(
                "{title}, boards {first}–{last} of {} ({}/{panels})",
                series.len(),
                k + 1
            );
            temperature_panel(&title, chunk)
        })
        .collect()
}

fn temperature_panel(title: &str, series: &[(&str, Vec<Plotted>)]) -> String {
    let (x0, x1) = padded_extent(series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)));
    let top = rate_top(series.iter().flat_map(|(_, p)| p.iter().map(|q| q.3)));
    let keys: Vec<(String, Key)> = (series.iter().enumerate())
        .map(|(i, (name, _))| {
            let (c, shape) = series_mark(i);
            (name.to_string(), Key::LineMark(c, shape))
        })
        .collect();
    let height = HEIGHT.max(40 + 22 * keys.len() as u32);
    render(title, (WIDTH, height), |root| {
        let area = root.titled(title, font(TITLE_SIZE))?;
        let (plot, legend) = area.split_horizontally(WIDTH - LEGEND_WIDTH);
        let mut chart = chart_on(&plot, 64).build_cartesian_2d(x0..x1, 0.0..top)?;
        let (x_label, y_label) = (number_label(x1 - x0), number_label(top));
        mesh(&mut chart, "temperature (°C)", "failure rate (%)")
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .draw()?;
        for (i, (_, points)) in series.iter().enumerate() {
            let shift = (i as f64 - (series.len() - 1) as f64 / 2.0) * (x1 - x0) * 0.006;
            let shifted: Vec<_> = points
                .iter()
                .map(|&(x, r, lo, hi)| (x + shift, r, lo, hi))
                .collect();
            draw_rate_series(&mut chart, &shifted, series_mark(i))?;
        }
        draw_legend(&legend, &keys)
    })
}

/// One clock reading to place on the scatter.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reading {
    /// Position in the caller's slice: seeds the jitter, so the same input lands in the same place.
    pub(super) index: usize,
    pub(super) board: usize,
    pub(super) ppm: f64,
    pub(super) failed: bool,
}

/// USB clock error (ppm, x) per cycle over the shaded ±`tolerance_ppm` USB full-speed tolerance band (the target
/// description's); each board's lane has two strips, passed cycles above and failed ones below, in two colours and
/// jittered deterministically, so neither outcome hides the other. The legend counts the points drawn.
/// The caller samples, and says of how many `cycles` (with a USB clock reading); past [`MAX_SCATTER_POINTS`] per
/// outcome this keeps an even stride; the axis description says "a sample of N of M cycles" when not all are
/// drawn. The axis covers every plausible point (up to ±300,000 ppm); broken readings beyond are drawn on its
/// edges and counted in the axis description.
pub fn usb_error_scatter(
    boards: &[String],
    points: &[(usize, f64, bool)],
    tolerance_ppm: f64,
    cycles: u64,
) -> String {
    let title = "USB clock error per cycle";
    let readings: Vec<Reading> = (points.iter().enumerate())
        .filter(|(_, p)| p.0 < boards.len() && p.1.is_finite())
        .map(|(index, &(board, ppm, failed))| Reading {
            index,
            board,
            ppm,
            failed,
        })
        .collect();
    if readings.is_empty() {
        return message_svg(title, "no data: no clock readings");
    }
    let limit = scatter_limit(readings.iter().map(|r| r.ppm), tolerance_ppm);
    let mut x_desc = "USB clock error (ppm)".to_string();
    match readings.iter().filter(|r| r.ppm.abs() > limit).count() {
        0 => {}
        n => x_desc += &format!("; {n} off-scale shown on the edges"),
    }
    let failures = readings.iter().filter(|r| r.failed).count();
    let drawn = |n: usize| n.div_ceil(n.div_ceil(MAX_SCATTER_POINTS).max(1));
    let (passed, failed) = (drawn(readings.len() - failures), drawn(failures));
    let thousands = |n: u64| crate::format::thousands(n as f64);
    if ((passed + failed) as u64) < cycles {
        x_desc += &format!(
            "; a sample of {} of {} cycles",
            thousands((passed + failed) as u64),
            thousands(cycles)
        );
    }
    let keys = [
        (
            format!("passed ({})", thousands(passed as u64)),
            Key::Dot(PASS_COLOUR),
        ),
        (
            format!("failed ({})", thousands(failed as u64)),
            Key::Dot(FAIL_COLOUR),
        ),
        (
            format!("USB FS ±{} ppm", crate::format::thousands(tolerance_ppm)),
            Key::Band(BAND_COLOUR),
        ),
    ];
    let names: Vec<String> = boards.iter().map(|b| short(b, 22)).collect();
    render(title, (WIDTH, lanes_height(boards.len())), |root| {
        let area = root.titled(title, font(TITLE_SIZE))?;
        let (plot, legend) = area.split_horizontally(WIDTH - LEGEND_WIDTH);
        let mut chart = lane_chart(&plot, &names, -limit..limit)?;
        let (ppm_label, lane_label) = (number_label(limit), |v: &f64| lane_name(&names, *v));
        mesh(&mut chart, &x_desc, "board")
            .x_labels(9)
            .x_label_formatter(&ppm_label)
            .y_label_formatter(&lane_label)
            .draw()?;
        draw_readings(&mut chart, &readings, limit, tolerance_ppm)?;
        draw_legend(&legend, &keys)
    })
}

/// A bar chart of failure rate (%) per category (boards, steps, bins) with 95 % interval whiskers and the rate
/// written above each bar when there is room. When labels would collide, only every k-th category is labelled.
pub fn rate_bars(title: &str, x_label: &str, bars: &[(String, RatePoint)]) -> String {
    let bars: Vec<(&str, (f64, f64, f64))> = (bars.iter())
        .filter_map(|(name, p)| Some((name.as_str(), p.checked()?)))
        .collect();
    if bars.is_empty() {
        return message_svg(title, "no data: no categories");
    }
    let top = rate_top(bars.iter().map(|b| b.1 .2)) * 1.1;
    let slot_px = (WIDTH - 80) / bars.len() as u32;
    let longest = bars.iter().map(|b| b.0.chars().count()).max().unwrap_or(1) as u32;
    let every = (longest * CHAR_PX + 8).div_ceil(slot_px.max(1)) as usize;
    let names: Vec<String> = bars.iter().map(|b| short(b.0, 24)).collect();
    let rates: Vec<(f64, f64, f64)> = bars.iter().map(|b| b.1).collect();
    render(title, (WIDTH, HEIGHT), |root| {
        let area = root.titled(title, font(TITLE_SIZE))?;
        let mut chart =
            chart_on(&area, 64).build_cartesian_2d(Slots::new(names.len(), every), 0.0..top)?;
        let category = |v: &f64| names.get(v.round() as usize).cloned().unwrap_or_default();
        let y_label = number_label(top);
        mesh(&mut chart, x_label, "failure rate (%)")
            .x_label_formatter(&category)
            .y_label_formatter(&y_label)
            .disable_x_mesh()
            .draw()?;
        let decimals = (slot_px >= 44).then(|| decimals(top).max(1));
        draw_bars(&mut chart, &rates, decimals)
    })
}
