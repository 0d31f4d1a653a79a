//! Axes and layout: the board-lane and bar slots, lane heights and labels, extents, strides and jitter.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::style::*;

/// Half-width of the scatter's x axis: the tolerance band and every point a clock can really produce (a
/// misdetected HSE puts USB tens of thousands of ppm off: those points are the finding), never past
/// [`SCATTER_LIMIT_PPM`], beyond which readings are broken and drawn on the edges.
pub(super) fn scatter_limit(ppm: impl Iterator<Item = f64>, tolerance_ppm: f64) -> f64 {
    let max = ppm
        .map(f64::abs)
        .filter(|p| *p <= SCATTER_LIMIT_PPM)
        .fold(0.0, f64::max);
    (max * 1.1).clamp(tolerance_ppm * 1.4, SCATTER_LIMIT_PPM)
}

/// A linear axis over `count` slots (board lanes, bars) centred on `0.0, 1.0, ...`, ticked on every `every`-th slot,
/// so that each tick gets the slot's name as its label.
pub(super) struct Slots {
    pub(super) inner: RangedCoordf64,
    pub(super) ticks: Vec<f64>,
}

impl Slots {
    pub(super) fn new(count: usize, every: usize) -> Self {
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
pub(super) fn names_with_counts(
    boards: &[String],
    failed_boards: impl Iterator<Item = usize>,
) -> Vec<String> {
    let mut counts = vec![0usize; boards.len()];
    failed_boards.for_each(|board| counts[board] += 1);
    boards
        .iter()
        .zip(&counts)
        .map(|(b, c)| format!("{} ({c})", short(b, 22)))
        .collect()
}

pub(super) fn lane_y(boards: usize, board: usize) -> f64 {
    (boards - 1 - board) as f64
}

pub(super) fn lane_name(names: &[String], y: f64) -> String {
    let lane = y.round() as usize;
    names
        .len()
        .checked_sub(lane + 1)
        .and_then(|i| names.get(i))
        .cloned()
        .unwrap_or_default()
}

pub(super) fn lanes_height(boards: usize) -> u32 {
    HEIGHT + LANE_PX * (boards as u32).saturating_sub(MAX_FIXED_LANES)
}

/// The y label area wide enough for the longest board label.
pub(super) fn label_width(names: &[String]) -> u32 {
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) as u32;
    (longest * CHAR_PX + 36).clamp(64, 200)
}

/// A deterministic offset in `-0.32..0.32` for point `i`, from a SplitMix64 step.
pub(super) fn jitter(i: usize) -> f64 {
    let mut z = (i as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((z >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.64
}

/// At most [`MAX_SCATTER_POINTS`] items, evenly spread over the input.
pub(super) fn stride<'a, T: 'a>(
    items: impl Iterator<Item = &'a T> + Clone,
) -> impl Iterator<Item = &'a T> {
    let step = items.clone().count().div_ceil(MAX_SCATTER_POINTS).max(1);
    items.step_by(step)
}

pub(super) fn sorted_percent(points: &[RatePoint]) -> Vec<Plotted> {
    let mut out: Vec<_> = points
        .iter()
        .filter_map(|p| p.checked().map(|(r, lo, hi)| (p.x, r, lo, hi)))
        .collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// The data's extent with 5 % padding either side (±5 around a single value).
pub(super) fn padded_extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let pad = if hi > lo { (hi - lo) * 0.05 } else { 5.0 };
    (lo - pad, hi + pad)
}

/// The top of a percent axis: a little above the highest interval end, never below 0.1 %.
pub(super) fn rate_top(highs: impl Iterator<Item = f64>) -> f64 {
    (highs.fold(0.0, f64::max) * 1.1).clamp(0.1, 100.0)
}

/// Decimals for tick labels on an axis spanning `span`: 0 from 10 up, 1 from 1 up, else 2.
pub(super) fn decimals(span: f64) -> usize {
    match span {
        t if t < 1.0 => 2,
        t if t < 10.0 => 1,
        _ => 0,
    }
}

pub(super) fn number_label(span: f64) -> impl Fn(&f64) -> String {
    let decimals = decimals(span);
    move |v| format!("{v:.decimals$}")
}

/// `name` cut to `max` characters with an ellipsis.
pub(super) fn short(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    name.chars().take(max - 1).chain(['…']).collect()
}

/// A text style; built from `f64` here because the mesh rounds plain `(family, size)` pairs to whole sizes.
pub(super) fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size))
}
