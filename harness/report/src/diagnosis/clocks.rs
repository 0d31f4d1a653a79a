//! The first link of the chain: what the clocks were doing. Misdetected HSE, other PLL factors, a
//! bootloader that did not configure the clocks, and an HSE the bootloader cannot detect at all — each a
//! defect against the specification by itself, a cause when failures go with it.

use std::collections::BTreeMap;

use super::bands::{self, band, range_text};
use super::context::{table, Context};
use super::wording::{list, of, p_text, ppm, ppm_pct};
use super::{Cause, Kind, Link, Test, MIN_FAILURES};
use crate::evidence::{ClockState, Tally};
use crate::format::thousands;
use crate::stats::{cochran_armitage, fisher};

/// The clock states that are defects, with their ids and titles.
const STATES: [(ClockState, &str, &str); 3] = [
    (
        ClockState::Misdetected,
        "hse_misdetection",
        "HSE misdetected by the bootloader",
    ),
    (
        ClockState::UsbOff,
        "pll_factors",
        "USB clock out of tolerance with the HSE detected right (PLL factors)",
    ),
    (
        ClockState::NotConfigured,
        "bootloader_not_running",
        "Clocks not configured by the bootloader",
    ),
];

/// Boards with boots in `state`, by interned index, in name order.
fn boards_in(ctx: &Context, state: ClockState) -> Vec<usize> {
    ctx.order
        .iter()
        .copied()
        .filter(|&b| ctx.at(b, state).cycles > 0)
        .collect()
}

/// Fisher's test of each defective clock state against every other boot, where there are other boots.
pub fn tests(ctx: &Context) -> Vec<Test> {
    let mut out = Vec::new();
    if ctx.total.board_failures == 0 {
        return out;
    }
    for (state, id, title) in STATES {
        let Some(&exposed) = ctx.clock.get(&state) else {
            continue;
        };
        if exposed.judged() == 0 || exposed.judged() == ctx.total.judged() {
            continue;
        }
        let a = fisher(table(exposed, ctx.total));
        let t = a.table;
        out.push(Test {
            id: id.into(),
            title: title.into(),
            boards: ctx.names(boards_in(ctx, state)),
            method: "Fisher's exact test against every other boot".into(),
            exposed_failures: t.exposed_failed,
            exposed_cycles: t.exposed_failed + t.exposed_passed,
            unexposed_failures: t.unexposed_failed,
            unexposed_cycles: t.unexposed_failed + t.unexposed_passed,
            odds_ratio: a
                .odds_ratio
                .is_finite()
                .then_some(a.odds_ratio)
                .or((a.odds_ratio == f64::INFINITY).then_some(f64::INFINITY)),
            or_low: Some(a.or_low),
            or_high: Some(a.or_high),
            p_value: a.p_value,
            log10_p: a.log10_p,
            p_adjusted: 1.0,
            log10_p_adjusted: 0.0,
            direction: if a.phi > 0.0 { 1 } else { -1 },
            excess_failures: t.exposed_failed as f64,
            significant: false,
        });
    }
    out
}

/// Each defective clock state found, as a cause or an anomaly, and an HSE the ROM cannot detect.
pub fn findings<'t>(ctx: &Context, tested: &dyn Fn(&str) -> Option<&'t Test>) -> Vec<Cause> {
    let mut out = Vec::new();
    for (state, id, title) in STATES {
        let Some(&exposed) = ctx.clock.get(&state) else {
            continue;
        };
        if exposed.cycles == 0 {
            continue;
        }
        let test = tested(id).cloned();
        let every_boot = exposed.judged() == ctx.total.judged();
        let cause = match &test {
            Some(t) => t.significant,
            None => every_boot && exposed.board_failures >= MIN_FAILURES,
        };
        let boards = boards_in(ctx, state);
        // (direction, sentence) of what drives it, worked out once for the field, the finding and the summary.
        let driver = temperature_driver(ctx, state, &boards);
        let finding = match state {
            ClockState::Misdetected => {
                misdetection(ctx, exposed, &boards, test.as_ref(), driver.as_ref())
            }
            ClockState::UsbOff => pll_factors(ctx, exposed, &boards, test.as_ref()),
            _ => not_configured(ctx, exposed, &boards),
        };
        let remedy = match state {
            ClockState::Misdetected => misdetection_remedy(ctx, &boards),
            ClockState::UsbOff => "The ROM is expected to write PLLN=240, PLLP=/4, PLLQ=5 [inferred]: read \
                 RCC_PLLCFGR (0x40023804) while in DFU mode; other factors mean another ROM version, or code that \
                 ran before the bootloader."
                .into(),
            _ => "Check BOOT0 and the BOOT_ADD1 option byte (0x0040 selects the system memory at 0x00100000 \
                  when BOOT0 is high)."
                .into(),
        };
        out.push(Cause {
            id: id.into(),
            kind: if cause { Kind::Cause } else { Kind::Anomaly },
            link: Link::Clock,
            title: title.into(),
            boards: ctx.names(boards.iter().copied()),
            cycles: exposed.cycles,
            failures: exposed.board_failures,
            summary: summary(ctx, state, exposed, &boards, test.as_ref(), driver.as_ref()),
            direction: driver.map(|(d, _)| d),
            finding,
            remedy,
            symptoms: Vec::new(),
            test,
        });
    }
    out.extend(sysclk_anomaly(ctx, &out));
    out.extend(hse_out_of_range(ctx));
    out
}

/// The headline's sentence: what, on which boards, how often it failed against the rest, the trend.
fn summary(
    ctx: &Context,
    state: ClockState,
    exposed: Tally,
    boards: &[usize],
    test: Option<&Test>,
    driver: Option<&(String, String)>,
) -> String {
    let what = match state {
        ClockState::Misdetected => "HSE misdetected by the bootloader",
        ClockState::UsbOff => {
            "USB clock out of tolerance with the HSE detected right (other PLL factors)"
        }
        _ => "clocks not configured by the bootloader (it did not run)",
    };
    let all_boots = boards
        .iter()
        .all(|&b| ctx.at(b, state).cycles == ctx.of_board(b).cycles);
    let per_board: Vec<String> = if all_boots {
        vec![format!(
            "every boot of {}",
            list(&ctx.names(boards.iter().copied()))
        )]
    } else {
        boards
            .iter()
            .map(|&b| {
                let n = ctx.at(b, state);
                format!("{} {}", ctx.name(b), of(n.cycles, ctx.of_board(b).cycles))
            })
            .collect()
    };
    let numbers = match test {
        Some(t) => format!(
            "{} of these boots failed, against {} of the others ({})",
            of(t.exposed_failures, t.exposed_cycles),
            of(t.unexposed_failures, t.unexposed_cycles),
            p_text(t.log10_p)
        ),
        None if exposed.judged() == ctx.total.judged() => format!(
            "on every boot ({} of {}); {} of them failed",
            thousands(exposed.cycles as f64),
            thousands(ctx.total.cycles as f64),
            of(exposed.board_failures, exposed.judged())
        ),
        None => format!("{} failed", of(exposed.board_failures, exposed.judged())),
    };
    let driver = driver
        .map(|(d, _)| format!("; it rises as it gets {d}"))
        .unwrap_or_default();
    let usb = match state {
        ClockState::Misdetected => {
            // One USB clock error per (HSE, PLLM): an average across them would be a clock no boot had.
            let mut seen: BTreeMap<(u32, u8), crate::evidence::Mean> = BTreeMap::new();
            for &b in boards {
                let e = ctx.board(b);
                for (m, (_, u)) in &e.pllm {
                    seen.entry((e.true_hse_hz / 1_000_000, *m))
                        .or_default()
                        .merge(*u);
                }
            }
            let parts: Vec<String> = seen
                .iter()
                .filter_map(|((h, m), u)| {
                    u.mean()
                        .map(|u| format!("PLLM={m} on {h} MHz: USB {}", ppm(u)))
                })
                .collect();
            if parts.is_empty() {
                String::new()
            } else {
                format!("; {}", parts.join(", "))
            }
        }
        ClockState::UsbOff => {
            let parts: Vec<String> = boards
                .iter()
                .filter_map(|&b| ctx.board(b).usb_ppm_detected_right.mean().map(ppm))
                .collect::<std::collections::BTreeSet<String>>()
                .into_iter()
                .collect();
            if parts.is_empty() {
                String::new()
            } else {
                format!("; USB {}", list(&parts))
            }
        }
        _ => String::new(),
    };
    format!(
        "{what} on {} boots ({}{usb}): {numbers}{driver}.",
        thousands(exposed.cycles as f64),
        per_board.join(", ")
    )
}

/// "on 45 of 400 boots, and 40 of them failed, against 2 of 1,600 other boots (odds, p)", or "on every boot".
fn exposure_sentence(ctx: &Context, exposed: Tally, test: Option<&Test>) -> String {
    let judged_rest = ctx.total.judged() - exposed.judged();
    let failed = exposed.board_failures;
    match test {
        None if judged_rest == 0 => format!(
            "on every boot ({} of {}), and {} of them failed — present on every boot, so there is nothing to \
             contrast it with: it is named for what it is",
            thousands(exposed.cycles as f64),
            thousands(ctx.total.cycles as f64),
            thousands(failed as f64)
        ),
        None => format!(
            "on {} boots, {} of them failed",
            thousands(exposed.cycles as f64),
            failed
        ),
        Some(t) => {
            let odds = match (t.odds_ratio, t.or_low, t.or_high) {
                (Some(or), Some(lo), Some(hi)) => super::wording::odds_text(or, lo, hi),
                _ => "no odds ratio".into(),
            };
            format!(
                "on {} boots, and {} failed, against {} other boots ({odds}, {}, Holm-adjusted {})",
                thousands(t.exposed_cycles as f64),
                of(t.exposed_failures, t.exposed_cycles),
                of(t.unexposed_failures, t.unexposed_cycles),
                p_text(t.log10_p),
                super::wording::adjusted(t.log10_p_adjusted)
            )
        }
    }
}

fn misdetection(
    ctx: &Context,
    exposed: Tally,
    boards: &[usize],
    test: Option<&Test>,
    driver: Option<&(String, String)>,
) -> String {
    let names = ctx.names(boards.iter().copied());
    let per_board: Vec<String> = boards
        .iter()
        .map(|&b| {
            let e = ctx.board(b);
            let n = ctx.at(b, ClockState::Misdetected);
            let boots = ctx.of_board(b);
            let hse = e.true_hse_hz;
            let mut pllm: Vec<String> = e
                .pllm
                .iter()
                .map(|(m, (k, usb))| {
                    format!(
                        "PLLM={m} ×{} (USB {})",
                        thousands(*k as f64),
                        usb.mean().map_or("not read".into(), ppm)
                    )
                })
                .collect();
            pllm.truncate(3);
            let hsi = hsi_sentence(ctx, b);
            format!(
                "{} ({} MHz): misdetected on {} boots, {} failed, {}{hsi}",
                ctx.name(b),
                hse / 1_000_000,
                of(n.cycles, boots.cycles),
                thousands(n.board_failures as f64),
                pllm.join(", ")
            )
        })
        .collect();
    let mut hse: Vec<u32> = boards.iter().map(|&b| ctx.board(b).true_hse_hz).collect();
    hse.sort();
    hse.dedup();
    let edges: Vec<String> = hse
        .iter()
        .map(|&h| match band(h) {
            Some(bd) => format!(
                "{} MHz is detected right for HSI errors within {} always and {} sometimes",
                bd.hse_mhz,
                range_text(bd.always),
                range_text(bd.sometimes)
            ),
            None => format!(
                "the reference table has no band for {} MHz",
                f64::from(h) / 1e6
            ),
        })
        .collect();
    let driver = driver.map(|(_, s)| format!(" {s}")).unwrap_or_default();
    format!(
        "HSE misdetection on {}: the bootloader misdetected the HSE {}. {}. USB full speed allows ±{} ppm. \
         This is the HSE misdetection of AN2606: the bootloader measures the HSE against the HSI, and an HSI \
         outside its detection band for that HSE makes it pick the wrong PLLM ({} — reference table, \
         inferred).{driver}",
        list(&names),
        exposure_sentence(ctx, exposed, test),
        per_board.join("; "),
        thousands(ctx.tolerance_ppm),
        list(&edges),
    )
}

/// "; HSI +1.92 % on average (model; +1.2 … +2.6 %) against the 25 MHz band −1.71 … +1.65 % (always right),
/// −2.13 … +2.07 % (sometimes)".
fn hsi_sentence(ctx: &Context, b: usize) -> String {
    let e = ctx.board(b);
    let Some(mean) = e.hsi_ppm.mean() else {
        return String::new();
    };
    let source = if e.hsi_measured {
        "measured"
    } else {
        "the virtual board's model, not measured"
    };
    let mis = e
        .hsi_ppm_misdetected
        .mean()
        .map(|m| format!(", {} on the misdetected boots", ppm_pct(m)))
        .unwrap_or_default();
    format!(
        "; HSI error {} on average ({source}; {} … {}){mis}",
        ppm_pct(mean),
        ppm_pct(e.hsi_ppm.min),
        ppm_pct(e.hsi_ppm.max)
    )
}

fn misdetection_remedy(ctx: &Context, boards: &[usize]) -> String {
    let mut by_hse: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for &b in boards {
        by_hse
            .entry(ctx.board(b).true_hse_hz)
            .or_default()
            .push(ctx.name(b).to_string());
    }
    let keep: Vec<String> = by_hse
        .iter()
        .map(|(hse, names)| match band(*hse) {
            Some(bd) => format!(
                "for the {} MHz boards ({}) an HSI error within {}",
                bd.hse_mhz,
                list(names),
                range_text(bd.always)
            ),
            None => format!(
                "for the {} MHz boards ({}) an HSI within about 1 %",
                f64::from(*hse) / 1e6,
                list(names)
            ),
        })
        .collect();
    let eight = band(8_000_000).expect("the table has 8 MHz");
    format!(
        "Fit a lower-frequency HSE (8 MHz is detected right for HSI errors of ±{:.0} % and beyond), or keep \
         the HSI within the band at every temperature the boards see: {}.",
        eight.always.1,
        list(&keep)
    )
}

fn pll_factors(ctx: &Context, exposed: Tally, boards: &[usize], test: Option<&Test>) -> String {
    let per_board: Vec<String> = boards
        .iter()
        .map(|&b| {
            let e = ctx.board(b);
            let n = ctx.at(b, ClockState::UsbOff);
            let sysclk: Vec<String> = e.sysclk_values().into_iter().map(|(s, _)| s).collect();
            format!(
                "{}: {} boots, USB {} on average, SYSCLK {}",
                ctx.name(b),
                of(n.cycles, ctx.of_board(b).cycles),
                e.usb_ppm_detected_right
                    .mean()
                    .map_or("not read".into(), ppm),
                list(&sysclk)
            )
        })
        .collect();
    format!(
        "USB clock outside USB full speed's ±{} ppm although the bootloader detected the HSE right, {}: {}. \
         The bootloader's PLL factors are not the expected ones (PLLN=240, PLLP=/4, PLLQ=5 give 60 MHz SYSCLK \
         and 48 MHz USB).",
        thousands(ctx.tolerance_ppm),
        exposure_sentence(ctx, exposed, test),
        per_board.join("; ")
    )
}

fn not_configured(ctx: &Context, exposed: Tally, boards: &[usize]) -> String {
    let per_board: Vec<String> = boards
        .iter()
        .map(|&b| {
            let n = ctx.at(b, ClockState::NotConfigured);
            let step = ctx
                .board(b)
                .failed_steps
                .iter()
                .max_by_key(|(_, k)| **k)
                .map(|(s, k)| format!(", most failures at {s} ({k})"))
                .unwrap_or_default();
            format!(
                "{}: {} boots, {} failed{step}",
                ctx.name(b),
                of(n.cycles, ctx.of_board(b).cycles),
                n.board_failures
            )
        })
        .collect();
    format!(
        "The PLL was not running from the HSE on {} boots: the bootloader did not configure the clocks, so \
         it most likely did not run — {}.",
        thousands(exposed.cycles as f64),
        per_board.join("; ")
    )
}

/// SYSCLK other than 60 MHz on boots whose HSE was detected right and whose USB clock was in tolerance:
/// other PLL factors without a USB consequence (an anomaly), unless the USB finding already names them.
fn sysclk_anomaly(ctx: &Context, found: &[Cause]) -> Option<Cause> {
    if found.iter().any(|c| c.id == "pll_factors") {
        return None;
    }
    let boards: Vec<(usize, Vec<String>)> = ctx
        .order
        .iter()
        .filter_map(|&b| {
            let odd: Vec<String> = ctx
                .board(b)
                .sysclk_values()
                .iter()
                .filter(|(s, _)| s != "60 MHz")
                .map(|(s, n)| format!("{s} on {n} boots"))
                .collect();
            (!odd.is_empty()).then_some((b, odd))
        })
        .collect();
    if boards.is_empty() {
        return None;
    }
    let text: Vec<String> = boards
        .iter()
        .map(|(b, odd)| format!("{}: {}", ctx.name(*b), list(odd)))
        .collect();
    Some(Cause {
        id: "pll_factors".into(),
        kind: Kind::Anomaly,
        link: Link::Clock,
        title: "SYSCLK other than the bootloader's 60 MHz".into(),
        boards: ctx.names(boards.iter().map(|(b, _)| *b)),
        cycles: 0,
        failures: 0,
        direction: None,
        finding: format!(
            "SYSCLK other than 60 MHz with the HSE detected right — {}: PLL factors other than the \
             bootloader's expected PLLN=240, PLLP=/4.",
            text.join("; ")
        ),
        remedy: "Read RCC_PLLCFGR (0x40023804) while in DFU mode.".into(),
        summary: String::new(),
        symptoms: Vec::new(),
        test: None,
    })
}

/// Boards whose HSE the ROM cannot detect at all (not a whole MHz from 4 to 26 MHz).
fn hse_out_of_range(ctx: &Context) -> Option<Cause> {
    let boards: Vec<usize> = ctx
        .order
        .iter()
        .copied()
        .filter(|&b| !bands::detectable(ctx.board(b).true_hse_hz))
        .collect();
    if boards.is_empty() {
        return None;
    }
    let freqs: Vec<String> = boards
        .iter()
        .map(|&b| {
            format!(
                "{} ({} MHz)",
                ctx.name(b),
                f64::from(ctx.board(b).true_hse_hz) / 1e6
            )
        })
        .collect();
    Some(Cause {
        id: "hse_out_of_range".into(),
        kind: Kind::Anomaly,
        link: Link::Clock,
        title: "HSE the bootloader cannot detect".into(),
        boards: ctx.names(boards.iter().copied()),
        cycles: boards.iter().map(|&b| ctx.of_board(b).cycles).sum(),
        failures: 0,
        direction: None,
        finding: format!(
            "{}: the bootloader detects only a whole number of MHz from 4 to 26 MHz (AN2606).",
            list(&freqs)
        ),
        remedy: "Fit an HSE of a whole MHz within 4–26 MHz (8 MHz is the most robust).".into(),
        summary: String::new(),
        symptoms: Vec::new(),
        test: None,
    })
}

/// The temperature trend of a clock state on its boards (boots in that state against the boards' other
/// boots whose clocks were read, per °C): "Misdetection rises as it gets hotter (…)".
pub fn temperature_driver(
    ctx: &Context,
    state: ClockState,
    boards: &[usize],
) -> Option<(String, String)> {
    if !ctx.temperature_varies() {
        return None;
    }
    // Board by board: two boards drifting opposite ways are two trends, not one that cancels.
    let mut found: Vec<(i8, String)> = Vec::new();
    for &b in boards {
        let mut levels: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
        for (&(cb, c, t), n) in &ctx.cells {
            let Some(t) = t else { continue };
            if cb != b || c == ClockState::NotRead {
                continue;
            }
            let e = levels.entry(t).or_default();
            e.1 += n.cycles;
            if c == state {
                e.0 += n.cycles;
            }
        }
        if levels.len() < 2 {
            continue;
        }
        let x: Vec<u64> = levels.values().map(|v| v.0).collect();
        let n: Vec<u64> = levels.values().map(|v| v.1).collect();
        let s: Vec<f64> = levels.keys().map(|&t| t as f64).collect();
        let trend = cochran_armitage(&x, &n, &s);
        if trend.log10_p >= super::ALPHA.log10() || trend.direction == 0 {
            continue;
        }
        let at = |(t, (k, n)): (&i64, &(u64, u64))| {
            format!(
                "{} at {t} °C",
                super::wording::rate(*k as f64 / (*n).max(1) as f64)
            )
        };
        let (first, last) = (levels.iter().next()?, levels.iter().next_back()?);
        let (from, to) = if trend.direction > 0 {
            (at(first), at(last))
        } else {
            (at(last), at(first))
        };
        found.push((
            trend.direction,
            format!(
                "on {} from {from} to {to} (Cochran–Armitage trend, {})",
                ctx.name(b),
                p_text(trend.log10_p)
            ),
        ));
    }
    if found.is_empty() {
        return None;
    }
    let what = match state {
        ClockState::Misdetected => "Misdetection",
        _ => "It",
    };
    let mut parts = Vec::new();
    let mut dirs = Vec::new();
    for (d, word) in [(1i8, "hotter"), (-1, "colder")] {
        let of_dir: Vec<String> = found
            .iter()
            .filter(|(x, _)| *x == d)
            .map(|(_, s)| s.clone())
            .collect();
        if !of_dir.is_empty() {
            dirs.push(word);
            parts.push(format!("rises as it gets {word} {}", list(&of_dir)));
        }
    }
    let direction = if dirs.len() == 1 {
        dirs[0].to_string()
    } else {
        "hotter on some boards, colder on others".to_string()
    };
    Some((
        direction,
        format!(
            "{what} {}, as expected if temperature drives the HSI drift behind it.",
            parts.join("; it ")
        ),
    ))
}

/// What a clock state accounts for once the boards named for causes of their own have taken their excess
/// in it: so the failures the findings claim add up, and a condition on every boot is not the cause of a
/// lossy board's failures too. A clock state left with fewer than [`MIN_FAILURES`] failures and no
/// significant contrast becomes an anomaly.
pub fn apportion(
    ctx: &Context,
    findings: &mut [Cause],
    named_boards: &std::collections::BTreeSet<usize>,
) {
    for c in findings.iter_mut().filter(|c| c.link == Link::Clock) {
        let Some((state, _, _)) = STATES.iter().find(|(_, id, _)| *id == c.id) else {
            continue;
        };
        let by: Vec<(usize, f64)> = named_boards
            .iter()
            .map(|&b| (b, super::boards::excess_in(ctx, b, *state)))
            .filter(|(_, x)| x.round() > 0.0)
            .collect();
        let taken: f64 = by.iter().map(|(_, x)| x).sum();
        c.failures = c.failures.saturating_sub(taken.round() as u64);
        if !by.is_empty() {
            let whose: Vec<String> = by
                .iter()
                .map(|(b, x)| format!("{} {}", ctx.name(*b), x.round()))
                .collect();
            c.finding.push_str(&format!(
                " Of the failures on these boots, {} are beyond what this clock state explains on boards named \
                 for causes of their own ({}); it accounts for the other {}.",
                taken.round(),
                list(&whose),
                c.failures
            ));
        }
        // A cause accounts for at least MIN_FAILURES failures, whatever its test said.
        if c.kind == Kind::Cause && c.failures < MIN_FAILURES {
            c.kind = Kind::Anomaly;
        }
    }
}
