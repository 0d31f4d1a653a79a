//! Drawing on a plotters area: the SVG wrapper, chart frames, meshes, series, whiskers and legends.

use std::ops::Range;

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axes::*;
use super::figures::Reading;
use super::style::*;

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
pub(super) enum Key {
    LineMark(RGBColor, Shape),
    Dot(RGBColor),
    Band(RGBColor),
}

/// Draws the SVG into a string; a drawing error (which a string target does not produce in practice) becomes a
/// placeholder saying so rather than a panic in the report.
pub(super) fn render(title: &str, size: (u32, u32), draw: impl FnOnce(&Area) -> Drawn) -> String {
    let mut svg = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)
            .and_then(|()| draw(&root))
            .and_then(|()| root.present())
    };
    match result {
        Ok(()) => compact(&svg),
        Err(e) => message_svg(title, &format!("chart could not be drawn: {e}")),
    }
}

/// Drops attributes that only restate SVG defaults (plotters writes them on every shape); a scatter shrinks by a third.
/// Text content is escaped, so it cannot contain these strings.
pub(super) fn compact(svg: &str) -> String {
    svg.replace(" opacity=\"1\"", "")
        .replace(" stroke=\"none\" stroke-width=\"1\"", "")
}

/// A small SVG with the title and a message, such as "no data". Written by hand so that it cannot fail.
pub(super) fn message_svg(title: &str, message: &str) -> String {
    let (w, h) = (WIDTH, MESSAGE_HEIGHT);
    let text = |y: u32, size: u32, s: &str| {
        format!(
            "<text x=\"{}\" y=\"{y}\" text-anchor=\"middle\" font-family=\"{FONT}\" font-size=\"{size}\" \
             fill=\"#444444\">{}</text>\n",
            w / 2,
            escape(s)
        )
    };
    format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\">\n\
         <rect x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#FFFFFF\" stroke=\"#E1E1E1\"/>\n{}{}</svg>\n",
        text(30, 16, title),
        text(70, 12, message)
    )
}

pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// A chart builder with the margins every chart shares and a y label area `y_label_px` wide.
pub(super) fn chart_on<'a, 'b>(
    area: &'a Area<'b>,
    y_label_px: u32,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_left(8)
        .margin_right(20)
        .x_label_area_size(40)
        .y_label_area_size(y_label_px);
    builder
}

/// A chart with one lane per board (named by `names`, board 0 on top) and `x` across.
pub(super) fn lane_chart<'a, 'b>(
    area: &'a Area<'b>,
    names: &[String],
    x: Range<f64>,
) -> Result<LaneChart<'a, 'b>, DrawError> {
    chart_on(area, label_width(names)).build_cartesian_2d(x, Slots::new(names.len(), 1))
}

/// The mesh every chart shares: light grid lines on the ticks only, 12 px labels, the axis descriptions.
pub(super) fn mesh<'a, 'b, 'c, X, Y>(
    chart: &'c mut ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>,
    x_desc: &str,
    y_desc: &str,
) -> MeshStyle<'a, 'c, X, Y, SVGBackend<'b>>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(font(LABEL_SIZE))
        .axis_desc_style(font(LABEL_SIZE))
        .bold_line_style(GRID_COLOUR)
        .light_line_style(TRANSPARENT);
    mesh
}

/// The tolerance band, then the passed readings in the upper strip of their board's lane and the failed ones in
/// the lower strip; each outcome strided to at most [`MAX_SCATTER_POINTS`], values past `limit` drawn on the edge.
pub(super) fn draw_readings(
    chart: &mut LaneChart<'_, '_>,
    readings: &[Reading],
    limit: f64,
    tolerance_ppm: f64,
) -> Drawn {
    let lanes = chart.y_range();
    let band = [(-tolerance_ppm, lanes.start), (tolerance_ppm, lanes.end)];
    let boards = (lanes.end + 0.5) as usize;
    chart.draw_series([Rectangle::new(band, BAND_COLOUR.mix(0.12).filled())])?;
    for (failed, strip, radius, style) in [
        (false, 0.2, 2, PASS_COLOUR.mix(0.45)),
        (true, -0.2, 3, FAIL_COLOUR.mix(0.85)),
    ] {
        let dots = stride(readings.iter().filter(|r| r.failed == failed)).map(|r| {
            let y = lane_y(boards, r.board) + strip + 0.4 * jitter(r.index);
            Circle::new((r.ppm.clamp(-limit, limit), y), radius, style.filled())
        });
        chart.draw_series(dots)?;
    }
    Ok(())
}

/// One bar per `(rate, low, high)` in percent with its whisker, and the rate above it when `decimals` is given.
pub(super) fn draw_bars(
    chart: &mut BarChart<'_, '_>,
    rates: &[(f64, f64, f64)],
    decimals: Option<usize>,
) -> Drawn {
    let fill = PALETTE[0].mix(0.8).filled();
    let at = |i: usize| i as f64;
    chart.draw_series(
        rates
            .iter()
            .enumerate()
            .map(|(i, r)| Rectangle::new([(at(i) - 0.3, 0.0), (at(i) + 0.3, r.0)], fill)),
    )?;
    chart.draw_series(
        rates
            .iter()
            .enumerate()
            .map(|(i, r)| whisker(at(i), r.1, r.2, 0.12, BLACK)),
    )?;
    let Some(decimals) = decimals else {
        return Ok(());
    };
    let style = font(NOTE_SIZE).pos(Pos::new(HPos::Center, VPos::Bottom));
    chart.draw_series(rates.iter().enumerate().map(|(i, r)| {
        EmptyElement::at((at(i), r.2))
            + Text::new(format!("{:.*} %", decimals, r.0), (0, -3), style.clone())
    }))?;
    Ok(())
}

/// One series of `(x, rate, low, high)` in percent: whiskers, then the line, then the markers on top.
pub(super) fn draw_rate_series(
    chart: &mut RateChart<'_, '_>,
    points: &[Plotted],
    (colour, shape): (RGBColor, Shape),
) -> Drawn {
    let cap = (chart.x_range().end - chart.x_range().start) * 0.008;
    let whiskers = points
        .iter()
        .map(|&(x, _, lo, hi)| whisker(x, lo, hi, cap, colour.mix(0.7)));
    chart.draw_series(whiskers)?;
    chart.draw_series(LineSeries::new(
        points.iter().map(|p| (p.0, p.1)),
        colour.stroke_width(2),
    ))?;
    let outline = shape_points(shape, 4);
    chart.draw_series(
        points
            .iter()
            .map(|p| EmptyElement::at((p.0, p.1)) + Polygon::new(outline.clone(), colour.filled())),
    )?;
    Ok(())
}

/// An interval from `low` to `high` at `x`, with caps `cap` wide either side, as one path.
pub(super) fn whisker<S: Into<ShapeStyle>>(
    x: f64,
    low: f64,
    high: f64,
    cap: f64,
    style: S,
) -> PathElement<(f64, f64)> {
    let path = vec![
        (x - cap, low),
        (x + cap, low),
        (x, low),
        (x, high),
        (x - cap, high),
        (x + cap, high),
    ];
    PathElement::new(path, style)
}

/// The legend as a column beside the plot, one entry per series.
pub(super) fn draw_legend(area: &Area, keys: &[(String, Key)]) -> Drawn {
    let font = font(LABEL_SIZE).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (name, key)) in keys.iter().enumerate() {
        let y = 24 + 22 * i as i32;
        match *key {
            Key::LineMark(c, shape) => {
                area.draw(&PathElement::new(vec![(8, y), (30, y)], c.stroke_width(2)))?;
                let outline = Polygon::new(shape_points(shape, 4), c.filled());
                area.draw(&(EmptyElement::at((19, y)) + outline))?;
            }
            Key::Dot(c) => area.draw(&Circle::new((19, y), 4, c.filled()))?,
            Key::Band(c) => area.draw(&Rectangle::new(
                [(8, y - 6), (30, y + 6)],
                c.mix(0.25).filled(),
            ))?,
        }
        area.draw(&Text::new(short(name, LEGEND_CHARS), (38, y), font.clone()))?;
    }
    Ok(())
}
