//! The charts of the clock mechanism: failure rate against HSI error beside the bootloader's detection bands,
//! one panel per HSE frequency, and the HSE the bootloader detected (PLLM) over the run, one strip per board.

use plotters::prelude::*;

use super::axes::*;
use super::draw::*;
use super::style::*;

/// One HSE frequency's panel of the mechanism chart.
#[derive(Debug, Clone, PartialEq)]
pub struct HsiPanel {
    pub hse_mhz: u32,
    /// Failure rate per HSI error bin, `x` the bin's centre in percent.
    pub points: Vec<RatePoint>,
    /// The detection band's HSI errors (percent) where the HSE is always detected right, and sometimes.
    pub always: Option<(f64, f64)>,
    pub sometimes: Option<(f64, f64)>,
}

const ALWAYS_COLOUR: RGBColor = RGBColor(44, 160, 44);
const SOMETIMES_COLOUR: RGBColor = RGBColor(255, 187, 120);

/// Failure rate (%) against HSI error (%), one panel per HSE frequency, over the shaded detection band (always
/// right, and the wider sometimes-right band around it) with its edges drawn. `source` says where the HSI error
/// comes from ("measured", "virtual board model"), and is written in the axis description.
pub fn rate_vs_hsi_error(panels: &[HsiPanel], source: &str) -> String {
    let title = "Failure rate vs HSI error";
    let panels: Vec<(&HsiPanel, Vec<Plotted>)> = (panels.iter())
        .map(|p| (p, sorted_percent(&p.points)))
        .filter(|(_, pts)| !pts.is_empty())
        .collect();
    if panels.is_empty() {
        return message_svg(title, "no data: no HSI error recorded");
    }
    let x_desc = match source {
        "" => "HSI error (%)".to_string(),
        s => format!("HSI error (%, {s})"),
    };
    (panels.iter())
        .map(|(p, pts)| hsi_panel(&format!("{title}, {} MHz HSE", p.hse_mhz), p, pts, &x_desc))
        .collect()
}

fn hsi_panel(title: &str, panel: &HsiPanel, points: &[Plotted], x_desc: &str) -> String {
    let edges = [panel.always, panel.sometimes].into_iter().flatten();
    let (x0, x1) =
        padded_extent((points.iter().map(|p| p.0)).chain(edges.flat_map(|(lo, hi)| [lo, hi])));
    let top = rate_top(points.iter().map(|p| p.3));
    let mut keys = vec![("failure rate".to_string(), Key::Dot(FAIL_COLOUR))];
    if panel.always.is_some() {
        keys.push(("always detected".into(), Key::Band(ALWAYS_COLOUR)));
        keys.push(("sometimes".into(), Key::Band(SOMETIMES_COLOUR)));
    }
    render(title, (WIDTH, HEIGHT), |root| {
        let area = root.titled(title, font(TITLE_SIZE))?;
        let (plot, legend) = area.split_horizontally(WIDTH - LEGEND_WIDTH);
        let mut chart = chart_on(&plot, 64).build_cartesian_2d(x0..x1, 0.0..top)?;
        let (x_label, y_label) = (number_label(x1 - x0), number_label(top));
        mesh(&mut chart, x_desc, "failure rate (%)")
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .draw()?;
        if let (Some(a), Some(s)) = (panel.always, panel.sometimes) {
            let shade = |(lo, hi): (f64, f64), c: RGBColor, mix: f64| {
                Rectangle::new([(lo, 0.0), (hi, top)], c.mix(mix).filled())
            };
            chart.draw_series([
                shade((s.0, a.0), SOMETIMES_COLOUR, 0.35),
                shade((a.1, s.1), SOMETIMES_COLOUR, 0.35),
                shade(a, ALWAYS_COLOUR, 0.18),
            ])?;
            let edge =
                |x: f64, c: RGBColor| PathElement::new(vec![(x, 0.0), (x, top)], c.stroke_width(1));
            chart.draw_series([a.0, a.1].map(|x| edge(x, ALWAYS_COLOUR)))?;
            chart.draw_series([s.0, s.1].map(|x| edge(x, SOMETIMES_COLOUR)))?;
        }
        let cap = (x1 - x0) * 0.006;
        chart.draw_series(
            (points.iter()).map(|&(x, _, lo, hi)| whisker(x, lo, hi, cap, FAIL_COLOUR.mix(0.6))),
        )?;
        chart.draw_series(
            points
                .iter()
                .map(|p| Circle::new((p.0, p.1), 3, FAIL_COLOUR.filled())),
        )?;
        draw_legend(&legend, &keys)
    })
}

/// The PLLM the bootloader wrote on each sampled boot, one lane per board (named with its HSE), over time on the
/// run's clock: a grey tick where PLLM is the fitted HSE in MHz, a red dot where it is not, with its value written
/// in the legend. `points` are (board, time_s, PLLM, right), of `boots` boots with PLLM read.
pub fn pllm_strip(boards: &[String], points: &[(usize, f64, u8, bool)], boots: u64) -> String {
    let title = "Detected HSE (PLLM) over the run";
    let points: Vec<_> = (points.iter())
        .filter(|p| p.0 < boards.len() && p.1.is_finite() && p.1 >= 0.0)
        .copied()
        .collect();
    if points.is_empty() {
        return message_svg(title, "no data: no PLLM read");
    }
    let last = points.iter().map(|p| p.1).fold(0.0, f64::max);
    let (unit, len) = crate::format::time_unit(last);
    let span = if last > 0.0 { last / len } else { 1.0 };
    let wrong = points.iter().filter(|p| !p.3).count();
    let mut x_desc = format!("time since start ({unit})");
    if (points.len() as u64) < boots {
        x_desc += &format!(
            "; a sample of {} of {} boots",
            crate::format::thousands(points.len() as f64),
            crate::format::thousands(boots as f64)
        );
    }
    let mut values: Vec<u8> = points.iter().filter(|p| !p.3).map(|p| p.2).collect();
    values.sort_unstable();
    values.dedup();
    let listed: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    let keys = [
        (
            format!("right ({})", points.len() - wrong),
            Key::Dot(GRID_COLOUR_DARK),
        ),
        (format!("wrong ({wrong})"), Key::Dot(FAIL_COLOUR)),
        (format!("PLLM {}", listed.join(", ")), Key::Dot(FAIL_COLOUR)),
    ];
    let keys = if values.is_empty() {
        &keys[..2]
    } else {
        &keys[..]
    };
    let names: Vec<String> = boards.iter().map(|b| short(b, 22)).collect();
    render(title, (WIDTH, lanes_height(boards.len())), |root| {
        let area = root.titled(title, font(TITLE_SIZE))?;
        let (plot, legend) = area.split_horizontally(WIDTH - LEGEND_WIDTH);
        let mut chart = lane_chart(&plot, &names, 0.0..span * 1.02)?;
        let (time_label, lane_label) = (number_label(span), |v: &f64| lane_name(&names, *v));
        mesh(&mut chart, &x_desc, "board")
            .x_labels(10)
            .x_label_formatter(&time_label)
            .y_label_formatter(&lane_label)
            .draw()?;
        let at = |p: &(usize, f64, u8, bool)| (p.1 / len, lane_y(boards.len(), p.0));
        chart.draw_series(points.iter().filter(|p| p.3).map(|p| {
            let (x, y) = at(p);
            PathElement::new(
                vec![(x, y - 0.25), (x, y + 0.25)],
                GRID_COLOUR_DARK.stroke_width(1),
            )
        }))?;
        chart.draw_series(
            (points.iter().filter(|p| !p.3))
                .map(|p| Circle::new(at(p), 3, FAIL_COLOUR.mix(0.85).filled())),
        )?;
        draw_legend(&legend, keys)
    })
}
