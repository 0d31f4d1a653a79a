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
pub(super) const PASS_COLOUR: RGBColor = RGBColor(31, 119, 180);
pub(super) const FAIL_COLOUR: RGBColor = RGBColor(214, 39, 40);
pub(super) const BAND_COLOUR: RGBColor = RGBColor(44, 160, 44);
pub(super) const GRID_COLOUR: RGBColor = RGBColor(225, 225, 225);

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
