//! SVG charts embedded inline in report.html: plain numbers in, an SVG `String` out. Pure and deterministic (the same
//! input gives the same bytes, so HTML snapshots are stable); no font files, scripts or network. Must not read CSV
//! rows or compute statistics: the report's statistics hand these functions ready rates and intervals.

use std::ops::Range;

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Chart size in pixels; lane charts grow by [`LANE_PX`] per board past [`MAX_FIXED_LANES`] boards.
const WIDTH: u32 = 720;
const HEIGHT: u32 = 300;
const LANE_PX: u32 = 22;
const MAX_FIXED_LANES: u32 = 8;
/// Height of the "no data" placeholder.
const MESSAGE_HEIGHT: u32 = 120;
/// Width of the legend column on the right of charts with several series; keeps the legend off the data.
const LEGEND_WIDTH: u32 = 180;
const LEGEND_CHARS: usize = 19;
/// plotters writes `font-size = size / 1.24`, so these give whole pixel sizes (16, 12, 11) in the SVG.
const TITLE_SIZE: f64 = 19.84;
const LABEL_SIZE: f64 = 14.88;
const NOTE_SIZE: f64 = 13.64;
/// Rough width of one 12 px sans-serif character, for fitting labels.
const CHAR_PX: u32 = 7;
const FONT: &str = "sans-serif";

/// Most points per outcome that [`usb_error_scatter`] draws; past this it keeps an even stride.
pub const MAX_SCATTER_POINTS: usize = 2_500;
/// The scatter's x axis never goes past this, so one broken clock reading cannot squash the rest; points beyond it
/// are drawn on the edge.
/// The largest USB clock error a real HSE misdetection can cause: one whole MHz off on a 4 MHz HSE is 25 %.
/// Beyond that a reading is broken and goes on the edge.
const SCATTER_LIMIT_PPM: f64 = 300_000.0;

/// Tableau 10: distinct and colour-blind friendly enough for a handful of boards.
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];
const PASS_COLOUR: RGBColor = RGBColor(31, 119, 180);
const FAIL_COLOUR: RGBColor = RGBColor(214, 39, 40);
const BAND_COLOUR: RGBColor = RGBColor(44, 160, 44);
const GRID_COLOUR: RGBColor = RGBColor(225, 225, 225);

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawError = DrawingAreaErrorKind<std::io::Error>;
type Drawn = Result<(), DrawError>;
type RateChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
type LaneChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Slots>>;
type BarChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Slots, RangedCoordf64>>;
/// A rate point ready to draw: `(x, rate, low, high)`, the last three in percent.
type Plotted = (f64, f64, f64, f64);

/// A failure rate with its 95 % interval, in percent (`0.0..=100.0`), over `n` trials.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatePoint {
    /// Where the point sits on the x axis (°C for [`rate_vs_temperature`]; ignored by [`rate_bars`]).
    pub x: f64,
    pub rate: f64,
    pub low: f64,
    pub high: f64,
    pub n: u64,
}

impl RatePoint {
    /// `(rate, low, high)` clamped to 0–100 % with `low <= rate <= high`, or `None` when a value is not finite.
    fn checked(&self) -> Option<(f64, f64, f64)> {
        let finite = [self.x, self.rate, self.low, self.high]
            .iter()
            .all(|v| v.is_finite());
        let pct = |v: f64| v.clamp(0.0, 100.0);
        let rate = pct(self.rate);
        finite.then(|| (rate, pct(self.low).min(rate), pct(self.high).max(rate)))
    }
}

/// Failures over time, one lane per board: a mark at each failure's time, in hours on the run's clock.
pub fn failure_timeline(boards: &[String], failures: &[(usize, f64)], duration_s: f64) -> String {
    let title = "Failures over time";
    if boards.is_empty() {
        return message_svg(title, "no data: no boards");
    }
    let marks: Vec<(usize, f64)> = failures
        .iter()
        .filter(|&&(board, t)| board < boards.len() && t.is_finite() && t >= 0.0)
        .map(|&(board, t)| (board, t / 3600.0))
        .collect();
    let last = marks
        .iter()
        .map(|m| m.1)
        .fold(duration_s.max(0.0) / 3600.0, f64::max);
    let hours = if last > 0.0 { last } else { 1.0 };
    let names = names_with_counts(boards, marks.iter().map(|m| m.0));
    render(title, (WIDTH, lanes_height(boards.len())), |root| {
        let area = root.titled(title, font(TITLE_SIZE))?;
        let mut chart = lane_chart(&area, &names, 0.0..hours)?;
        let (hour_label, lane_label) = (number_label(hours), |v: &f64| lane_name(&names, *v));
        mesh(&mut chart, "time since start (h)", "board (failures)")
            .x_labels(10)
            .x_label_formatter(&hour_label)
            .y_label_formatter(&lane_label)
            .draw()?;
        let style = FAIL_COLOUR.mix(0.75).stroke_width(2);
        chart.draw_series(marks.iter().map(|&(board, h)| {
            let y = lane_y(boards.len(), board);
            PathElement::new(vec![(h, y - 0.3), (h, y + 0.3)], style)
        }))?;
        Ok(())
    })
}

/// Failure rate (%) against temperature (°C), one line-and-points series per board, with 95 % interval whiskers.
/// Series sharing a temperature are nudged apart sideways so their whiskers stay visible.
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
    let (x0, x1) = padded_extent(series.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)));
    let top = rate_top(series.iter().flat_map(|(_, p)| p.iter().map(|q| q.3)));
    let keys: Vec<(String, Key)> = (series.iter().enumerate())
        .map(|(i, (name, _))| (name.to_string(), Key::LineDot(colour(i))))
        .collect();
    render(title, (WIDTH, HEIGHT), |root| {
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
            draw_rate_series(&mut chart, &shifted, colour(i))?;
        }
        draw_legend(&legend, &keys)
    })
}

/// One clock reading to place on the scatter.
#[derive(Debug, Clone, Copy)]
struct Reading {
    /// Position in the caller's slice: seeds the jitter, so the same input lands in the same place.
    index: usize,
    board: usize,
    ppm: f64,
    failed: bool,
}

/// USB clock error (ppm, x) per cycle, passed and failed cycles in two colours, over the shaded ±`tolerance_ppm`
/// USB full-speed tolerance band (the target description's); y is the board's lane, jittered deterministically so thousands of points stay readable.
/// The caller samples; past [`MAX_SCATTER_POINTS`] per outcome this keeps an even stride. The axis covers every
/// plausible point (up to ±300,000 ppm); broken readings beyond are drawn on its edges and counted in the axis
/// description.
pub fn usb_error_scatter(
    boards: &[String],
    points: &[(usize, f64, bool)],
    tolerance_ppm: f64,
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
    let x_desc = match readings.iter().filter(|r| r.ppm.abs() > limit).count() {
        0 => "USB clock error (ppm)".to_string(),
        n => format!("USB clock error (ppm); {n} off-scale shown on the edges"),
    };
    let failures = readings.iter().filter(|r| r.failed).count();
    let keys = [
        (
            format!("passed ({})", readings.len() - failures),
            Key::Dot(PASS_COLOUR),
        ),
        (format!("failed ({failures})"), Key::Dot(FAIL_COLOUR)),
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

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
enum Key {
    LineDot(RGBColor),
    Dot(RGBColor),
    Band(RGBColor),
}

/// Draws the SVG into a string; a drawing error (which a string target does not produce in practice) becomes a
/// placeholder saying so rather than a panic in the report.
fn render(title: &str, size: (u32, u32), draw: impl FnOnce(&Area) -> Drawn) -> String {
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
fn compact(svg: &str) -> String {
    svg.replace(" opacity=\"1\"", "")
        .replace(" stroke=\"none\" stroke-width=\"1\"", "")
}

/// A small SVG with the title and a message, such as "no data". Written by hand so that it cannot fail.
fn message_svg(title: &str, message: &str) -> String {
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

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// A chart builder with the margins every chart shares and a y label area `y_label_px` wide.
fn chart_on<'a, 'b>(area: &'a Area<'b>, y_label_px: u32) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut builder = ChartBuilder::on(area);
    builder
        .margin_left(8)
        .margin_right(20)
        .x_label_area_size(40)
        .y_label_area_size(y_label_px);
    builder
}

/// A chart with one lane per board (named by `names`, board 0 on top) and `x` across.
fn lane_chart<'a, 'b>(
    area: &'a Area<'b>,
    names: &[String],
    x: Range<f64>,
) -> Result<LaneChart<'a, 'b>, DrawError> {
    chart_on(area, label_width(names)).build_cartesian_2d(x, Slots::new(names.len(), 1))
}

/// The mesh every chart shares: light grid lines on the ticks only, 12 px labels, the axis descriptions.
fn mesh<'a, 'b, 'c, X, Y>(
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

/// The tolerance band, then the passed readings, then the failed ones on top; each outcome strided to at most
/// [`MAX_SCATTER_POINTS`], values past `limit` drawn on the edge.
fn draw_readings(
    chart: &mut LaneChart<'_, '_>,
    readings: &[Reading],
    limit: f64,
    tolerance_ppm: f64,
) -> Drawn {
    let lanes = chart.y_range();
    let band = [(-tolerance_ppm, lanes.start), (tolerance_ppm, lanes.end)];
    let boards = (lanes.end + 0.5) as usize;
    chart.draw_series([Rectangle::new(band, BAND_COLOUR.mix(0.12).filled())])?;
    for (failed, radius, style) in [
        (false, 2, PASS_COLOUR.mix(0.45)),
        (true, 3, FAIL_COLOUR.mix(0.85)),
    ] {
        let dots = stride(readings.iter().filter(|r| r.failed == failed)).map(|r| {
            let y = lane_y(boards, r.board) + jitter(r.index);
            Circle::new((r.ppm.clamp(-limit, limit), y), radius, style.filled())
        });
        chart.draw_series(dots)?;
    }
    Ok(())
}

/// One bar per `(rate, low, high)` in percent with its whisker, and the rate above it when `decimals` is given.
fn draw_bars(
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

/// One series of `(x, rate, low, high)` in percent: whiskers, then the line, then the points on top.
fn draw_rate_series(chart: &mut RateChart<'_, '_>, points: &[Plotted], colour: RGBColor) -> Drawn {
    let cap = (chart.x_range().end - chart.x_range().start) * 0.008;
    let whiskers = points
        .iter()
        .map(|&(x, _, lo, hi)| whisker(x, lo, hi, cap, colour.mix(0.7)));
    chart.draw_series(whiskers)?;
    chart.draw_series(LineSeries::new(
        points.iter().map(|p| (p.0, p.1)),
        colour.stroke_width(2),
    ))?;
    chart.draw_series(
        points
            .iter()
            .map(|p| Circle::new((p.0, p.1), 3, colour.filled())),
    )?;
    Ok(())
}

/// An interval from `low` to `high` at `x`, with caps `cap` wide either side, as one path.
fn whisker<S: Into<ShapeStyle>>(
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
fn draw_legend(area: &Area, keys: &[(String, Key)]) -> Drawn {
    let font = font(LABEL_SIZE).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (name, key)) in keys.iter().enumerate() {
        let y = 24 + 22 * i as i32;
        match *key {
            Key::LineDot(c) => {
                area.draw(&PathElement::new(vec![(8, y), (30, y)], c.stroke_width(2)))?;
                area.draw(&Circle::new((19, y), 3, c.filled()))?;
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

/// Half-width of the scatter's x axis: the tolerance band and every point a clock can really produce (a
/// misdetected HSE puts USB tens of thousands of ppm off: those points are the finding), never past
/// [`SCATTER_LIMIT_PPM`], beyond which readings are broken and drawn on the edges.
fn scatter_limit(ppm: impl Iterator<Item = f64>, tolerance_ppm: f64) -> f64 {
    let max = ppm
        .map(f64::abs)
        .filter(|p| *p <= SCATTER_LIMIT_PPM)
        .fold(0.0, f64::max);
    (max * 1.1).clamp(tolerance_ppm * 1.4, SCATTER_LIMIT_PPM)
}

/// A linear axis over `count` slots (board lanes, bars) centred on `0.0, 1.0, ...`, ticked on every `every`-th slot,
/// so that each tick gets the slot's name as its label.
struct Slots {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Slots {
    fn new(count: usize, every: usize) -> Self {
        let ticks = (0..count).step_by(every.max(1)).map(|i| i as f64).collect();
        Slots {
            inner: (-0.5..count as f64 - 0.5).into(),
            ticks,
        }
    }
}

impl Ranged for Slots {
    type ValueType = f64;
    type FormatOption = DefaultFormatting;

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }
}

/// Each board's name (shortened) with its failure count, e.g. `F746-A (3)`.
fn names_with_counts(boards: &[String], failed_boards: impl Iterator<Item = usize>) -> Vec<String> {
    let mut counts = vec![0usize; boards.len()];
    failed_boards.for_each(|board| counts[board] += 1);
    boards
        .iter()
        .zip(&counts)
        .map(|(b, c)| format!("{} ({c})", short(b, 22)))
        .collect()
}

fn lane_y(boards: usize, board: usize) -> f64 {
    (boards - 1 - board) as f64
}

fn lane_name(names: &[String], y: f64) -> String {
    let lane = y.round() as usize;
    names
        .len()
        .checked_sub(lane + 1)
        .and_then(|i| names.get(i))
        .cloned()
        .unwrap_or_default()
}

fn lanes_height(boards: usize) -> u32 {
    HEIGHT + LANE_PX * (boards as u32).saturating_sub(MAX_FIXED_LANES)
}

/// The y label area wide enough for the longest board label.
fn label_width(names: &[String]) -> u32 {
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) as u32;
    (longest * CHAR_PX + 36).clamp(64, 200)
}

/// A deterministic offset in `-0.32..0.32` for point `i`, from a SplitMix64 step.
fn jitter(i: usize) -> f64 {
    let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.64
}

/// At most [`MAX_SCATTER_POINTS`] items, evenly spread over the input.
fn stride<'a, T: 'a>(items: impl Iterator<Item = &'a T> + Clone) -> impl Iterator<Item = &'a T> {
    let step = items.clone().count().div_ceil(MAX_SCATTER_POINTS).max(1);
    items.step_by(step)
}

fn sorted_percent(points: &[RatePoint]) -> Vec<Plotted> {
    let mut out: Vec<_> = points
        .iter()
        .filter_map(|p| p.checked().map(|(r, lo, hi)| (p.x, r, lo, hi)))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// The data's extent with 5 % padding either side (±5 around a single value).
fn padded_extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let pad = if hi > lo { (hi - lo) * 0.05 } else { 5.0 };
    (lo - pad, hi + pad)
}

/// The top of a percent axis: a little above the highest interval end, never below 0.1 %.
fn rate_top(highs: impl Iterator<Item = f64>) -> f64 {
    (highs.fold(0.0, f64::max) * 1.1).clamp(0.1, 100.0)
}

/// Decimals for tick labels on an axis spanning `span`: 0 from 10 up, 1 from 1 up, else 2.
fn decimals(span: f64) -> usize {
    match span {
        t if t < 1.0 => 2,
        t if t < 10.0 => 1,
        _ => 0,
    }
}

fn number_label(span: f64) -> impl Fn(&f64) -> String {
    let decimals = decimals(span);
    move |v| format!("{v:.decimals$}")
}

/// `name` cut to `max` characters with an ellipsis.
fn short(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    name.chars().take(max - 1).chain(['…']).collect()
}

/// A text style; built from `f64` here because the mesh rounds plain `(family, size)` pairs to whole sizes.
fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size))
}

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

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
                usb_error_scatter(&b, &points, 2_500.0),
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
            "time since start (h)",
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
            usb_error_scatter(&boards(), &[], 2_500.0),
            usb_error_scatter(&[], &[(0, 10.0, false)], 2_500.0),
            rate_bars("Failure rate per step", "step", &[]),
        ];
        for svg in charts {
            assert!(
                texts(&svg).iter().any(|t| t.starts_with("no data")),
                "{svg}"
            );
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
        );
        assert!(texts(&svg).iter().any(|t| t == "failed (1)"));
        assert!(texts(&svg).iter().any(|t| t == "passed (0)"));
    }

    #[test]
    fn scatter_caps_each_outcome() {
        let points: Vec<(usize, f64, bool)> = (0..3 * MAX_SCATTER_POINTS)
            .map(|i| (0, i as f64 % 5000.0, false))
            .collect();
        let svg = usb_error_scatter(&boards(), &points, 2_500.0);
        assert!(svg.matches("<circle").count() <= MAX_SCATTER_POINTS + 2);
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
}
