//! The charts' look: sizes, fonts, colours, the plotted point type and small text helpers.

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::axes::Slots;

/// Chart size in pixels; lane charts grow by [`LANE_PX`] per board past [`MAX_FIXED_LANES`] boards.
pub(super) const WIDTH: u32 = 720;
pub(super) const HEIGHT: u32 = 300;
pub(super) const LANE_PX: u32 = 22;
pub(super) const MAX_FIXED_LANES: u32 = 8;
/// Height of the "no data" placeholder.
pub(super) const MESSAGE_HEIGHT: u32 = 120;
/// Width of the legend column on the right of charts with several series; keeps the legend off the data.
pub(super) const LEGEND_WIDTH: u32 = 180;
pub(super) const LEGEND_CHARS: usize = 19;
/// plotters writes `font-size = size / 1.24`, so these give whole pixel sizes (16, 12, 11) in the SVG.
pub(super) const TITLE_SIZE: f64 = 19.84;
pub(super) const LABEL_SIZE: f64 = 14.88;
pub(super) const NOTE_SIZE: f64 = 13.64;
/// Rough width of one 12 px sans-serif character, for fitting labels.
pub(super) const CHAR_PX: u32 = 7;
pub(super) const FONT: &str = "sans-serif";

/// Most points per outcome that [`usb_error_scatter`] draws; past this it keeps an even stride.
pub const MAX_SCATTER_POINTS: usize = 2_500;
/// The scatter's x axis never goes past this, so one broken clock reading cannot squash the rest; points beyond it
/// are drawn on the edge.
/// The largest USB clock error a real HSE misdetection can cause: one whole MHz off on a 4 MHz HSE is 25 %.
/// Beyond that a reading is broken and goes on the edge.
pub(super) const SCATTER_LIMIT_PPM: f64 = 300_000.0;

/// Tableau 10: distinct and colour-blind friendly enough for a handful of boards.
pub(super) const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
];
/// Tableau 20 reordered so that the first 8 are Tableau 10's strong colours and the next 8 their light partners
/// (and the 2 it has left): 16 distinct colours for the series of one panel.
pub(super) const SERIES_PALETTE: [RGBColor; 16] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(174, 199, 232),
    RGBColor(255, 187, 120),
    RGBColor(152, 223, 138),
    RGBColor(255, 152, 150),
    RGBColor(197, 176, 213),
    RGBColor(196, 156, 148),
];
/// Most series in one panel; more go into further panels (small multiples).
pub const MAX_SERIES: usize = SERIES_PALETTE.len();

/// A point marker's shape, so that series differ by more than colour (and in black-and-white print).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Shape {
    Circle,
    Square,
    Triangle,
    Diamond,
}

pub(super) const SHAPES: [Shape; 4] = [
    Shape::Circle,
    Shape::Square,
    Shape::Triangle,
    Shape::Diamond,
];

/// The colour and marker of series `i` of a panel: every one of the first [`MAX_SERIES`] distinct in colour,
/// and the shapes cycle so that neighbours differ in shape too.
pub(super) fn series_mark(i: usize) -> (RGBColor, Shape) {
    (SERIES_PALETTE[i % MAX_SERIES], SHAPES[i % SHAPES.len()])
}

/// The outline of `shape`, `r` pixels from its centre, as a polygon around `(0, 0)`.
pub(super) fn shape_points(shape: Shape, r: i32) -> Vec<(i32, i32)> {
    match shape {
        Shape::Circle => (0..12)
            .map(|k| {
                let a = f64::from(k) * std::f64::consts::PI / 6.0;
                let r = f64::from(r);
                ((r * a.cos()).round() as i32, (r * a.sin()).round() as i32)
            })
            .collect(),
        Shape::Square => vec![
            (-r + 1, -r + 1),
            (r - 1, -r + 1),
            (r - 1, r - 1),
            (-r + 1, r - 1),
        ],
        Shape::Triangle => vec![(0, -r - 1), (r + 1, r), (-r - 1, r)],
        Shape::Diamond => vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)],
    }
}

pub(super) const PASS_COLOUR: RGBColor = RGBColor(31, 119, 180);
pub(super) const FAIL_COLOUR: RGBColor = RGBColor(214, 39, 40);
pub(super) const BAND_COLOUR: RGBColor = RGBColor(44, 160, 44);
pub(super) const GRID_COLOUR: RGBColor = RGBColor(225, 225, 225);
pub(super) const GRID_COLOUR_DARK: RGBColor = RGBColor(150, 150, 150);

pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(super) type DrawError = DrawingAreaErrorKind<std::io::Error>;
pub(super) type Drawn = Result<(), DrawError>;
pub(super) type RateChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
pub(super) type LaneChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Slots>>;
pub(super) type BarChart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<Slots, RangedCoordf64>>;
/// A rate point ready to draw: `(x, rate, low, high)`, the last three in percent.
pub(super) type Plotted = (f64, f64, f64, f64);

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
    pub(super) fn checked(&self) -> Option<(f64, f64, f64)> {
        let finite = [self.x, self.rate, self.low, self.high]
            .iter()
            .all(|v| v.is_finite());
        let pct = |v: f64| v.clamp(0.0, 100.0);
        let rate = pct(self.rate);
        finite.then(|| (rate, pct(self.low).min(rate), pct(self.high).max(rate)))
    }
}
