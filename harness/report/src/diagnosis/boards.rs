//! The second link: boards and their USB links, tested within the clock states so that a board is named
//! only for what its clocks do not explain; failures on in-spec boots shared by the boards alike; and the
//! infrastructure's failures, which are never a board's.

use std::collections::{BTreeMap, BTreeSet};

use records::ErrorKind;

use super::context::{within, Context};
use super::wording::{adjusted, list, mh_odds, of, p_text};
use super::{Cause, Kind, Link, Test, MIN_FAILURES};
use crate::evidence::{ClockState, Tally};
use crate::format::thousands;
use crate::stats::Table2x2;

const STATES: [ClockState; 5] = [
    ClockState::Misdetected,
    ClockState::UsbOff,
    ClockState::InSpec,
    ClockState::NotConfigured,
    ClockState::NotRead,
];

/// Errors of a transfer on the bus: what a bad cable, hub port or connector produces. Not a STALL: that is
/// a handshake the device sent.
fn transfer_error(kind: ErrorKind) -> bool {
    use ErrorKind::*;
    matches!(kind, Timeout | Disconnected | Io | Other | Protocol)
}

/// Board `b`'s failures in clock state `s` beyond the other boards' rate in that state: what the board, not
/// the clock state, accounts for.
pub fn excess_in(ctx: &Context, b: usize, s: ClockState) -> f64 {
    let m = ctx.at(b, s);
    let all = ctx.clock.get(&s).copied().unwrap_or_default();
    let (others_failed, others_judged) = (
        all.board_failures - m.board_failures,
        all.judged() - m.judged(),
    );
    // A clock state no other board had carries no contrast: its failures stay with the clock state.
    if others_judged == 0 {
        return 0.0;
    }
    let expected = m.judged() as f64 * others_failed as f64 / others_judged as f64;
    (m.board_failures as f64 - expected).max(0.0)
}

fn state_name(s: ClockState) -> &'static str {
    match s {
        ClockState::Misdetected => "misdetected HSE",
        ClockState::UsbOff => "USB clock off with the HSE right",
        ClockState::InSpec => "clocks in spec",
        ClockState::NotConfigured => "clocks not configured",
        ClockState::NotRead => "clocks not read",
    }
}

fn stratum(exposed: Tally, all: Tally) -> Table2x2 {
    super::context::table(exposed, all)
}

/// Every board against the other boards within the clock states (CMH), when there are other boards.
pub fn tests(ctx: &Context) -> Vec<Test> {
    if ctx.order.len() < 2 || ctx.total.board_failures == 0 {
        return Vec::new();
    }
    ctx.order
        .iter()
        .map(|&b| {
            let strata: Vec<Table2x2> = STATES
                .iter()
                .map(|&s| {
                    let all = ctx.clock.get(&s).copied().unwrap_or_default();
                    stratum(ctx.at(b, s), all)
                })
                .collect();
            let (cmh, how) = within(&strata);
            let mine = ctx.of_board(b);
            let rest_failures = ctx.total.board_failures - mine.board_failures;
            let rest_cycles = ctx.total.judged() - mine.judged();
            Test::stratified(
                format!("board:{}", ctx.name(b)),
                format!("Board {} against the other boards", ctx.name(b)),
                vec![ctx.name(b).to_string()],
                format!("{how} within the clock states"),
                (mine.board_failures, mine.judged()),
                (rest_failures, rest_cycles),
                &cmh,
            )
        })
        .collect()
}

/// The named boards and links, the common cause on in-spec boots; returns the named boards' indices.
pub fn findings<'t>(
    ctx: &Context,
    tested: &dyn Fn(&str) -> Option<&'t Test>,
    out: &mut Vec<Cause>,
) -> BTreeSet<usize> {
    let mut named = BTreeSet::new();
    for &b in &ctx.order {
        let Some(t) = tested(&format!("board:{}", ctx.name(b))) else {
            continue;
        };
        if !t.significant {
            continue;
        }
        named.insert(b);
        out.push(board_cause(ctx, b, t));
    }
    // In-spec failures a temperature trend already explains are not a second, shared cause.
    if !out.iter().any(|c| c.id == "temperature") {
        out.extend(common(ctx, &named));
    }
    named
}

/// A board that fails beyond its clocks: its link, its read protection, or the board itself.
fn board_cause(ctx: &Context, b: usize, t: &Test) -> Cause {
    let e = ctx.board(b);
    let name = ctx.name(b);
    // Its errors on boots whose clocks do not explain them.
    let mut kinds: BTreeMap<ErrorKind, u64> = BTreeMap::new();
    for (&(c, k), &n) in &e.errors {
        if !c.misclocked() {
            *kinds.entry(k).or_default() += n;
        }
    }
    // On a board misclocked on every boot, its own errors are among the misclocked ones.
    if kinds.is_empty() {
        for (&(_, k), &n) in &e.errors {
            *kinds.entry(k).or_default() += n;
        }
    }
    let unexplained: u64 = kinds.values().sum();
    let not_read = ctx.at(b, ClockState::NotRead);
    let clocks_unknown = not_read.board_failures * 2 > ctx.of_board(b).board_failures;
    let transfer: u64 = kinds
        .iter()
        .filter(|(k, _)| transfer_error(**k))
        .map(|(_, n)| n)
        .sum();
    let vendor = kinds.iter().any(|(k, _)| {
        e.first_detail
            .get(k)
            .is_some_and(|d| d.contains("errVENDOR"))
    });
    let (id, title, remedy) = if clocks_unknown {
        (
            "board",
            format!("Board {name} or its link (its clocks were not read)"),
            format!(
                "Add a read_clocks step: with the clocks not read, a clock cause (HSE misdetection) on {name} \
                 cannot be told from its link or the board itself."
            ),
        )
    } else if vendor {
        (
            "rdp",
            format!("Read protection on {name}"),
            "The bootloader refuses reads with errVENDOR while read protection is on. At level 1 only a Read \
             Unprotect (a mass erase) lifts it, and the harness never does that unasked; level 2 is permanent."
                .to_string(),
        )
    } else if transfer * 2 > unexplained {
        (
            "link",
            format!("{name}'s USB link (cable, hub port or connector)"),
            format!(
                "Swap {name}'s USB cable and hub port with a good board's and re-run: if the failures move with \
                 the cable or port, it is the link; if they stay, the board's USB (connector, D+/D− routing, \
                 ESD parts)."
            ),
        )
    } else {
        (
            "board",
            format!("Board {name}"),
            format!(
                "Compare {name}'s bootloader (version, descriptors, layout) and option bytes with a good board's."
            ),
        )
    };
    let errors: Vec<String> = {
        let mut v: Vec<(&ErrorKind, &u64)> = kinds.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        v.iter()
            .take(3)
            .map(|(k, n)| {
                let detail = e
                    .first_detail
                    .get(k)
                    .map(|d| format!(": \"{}\"", truncate(d, 100)))
                    .unwrap_or_default();
                format!("{} ×{n}{detail}", k.name())
            })
            .collect()
    };
    // What it accounts for: its failures beyond the other boards' rate in each clock state (the clock
    // states keep the rest, see clocks::apportion).
    let own: f64 = STATES.iter().map(|&s| excess_in(ctx, b, s)).sum();
    // Its boots against the other boards' boots in the same clock states.
    let (mut mine, mut others) = (Tally::default(), Tally::default());
    let mut states: Vec<&str> = Vec::new();
    for s in STATES {
        let m = ctx.at(b, s);
        if m.cycles == 0 {
            continue;
        }
        let mut all = ctx.clock.get(&s).copied().unwrap_or_default();
        if all.cycles == m.cycles {
            // No other board had this clock state: nothing to compare it with.
            continue;
        }
        all.cycles -= m.cycles;
        all.board_failures -= m.board_failures;
        all.infra_failures -= m.infra_failures;
        mine += m;
        others += all;
        states.push(state_name(s));
    }
    let odds = mh_odds(
        t.odds_ratio,
        "no failure on the other boards in the same clock states",
    );
    let finding = format!(
        "{title}: it fails beyond what its clocks explain — {} of its boots failed ({}), against {} of the other \
         boards' boots in the same clock states; {} more failures than the other boards' rates in those states predict ({odds}, {}, \
         Holm-adjusted {}). Its errors: {}.",
        of(mine.board_failures, mine.judged()),
        list(&states.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        of(others.board_failures, others.judged()),
        own.round(),
        p_text(t.log10_p),
        adjusted(t.log10_p_adjusted),
        list(&errors)
    );
    Cause {
        id: id.into(),
        kind: Kind::Cause,
        link: Link::Board,
        title,
        boards: vec![name.to_string()],
        cycles: ctx.of_board(b).cycles,
        failures: own.round() as u64,
        direction: None,
        finding,
        remedy,
        summary: String::new(),
        symptoms: Vec::new(),
        test: Some(t.clone()),
    }
}

/// Failures on boots whose clocks were in spec, on boards none of which stands out: a cause they share
/// (the hub, the host controller, the cabling, a shared supply).
fn common(ctx: &Context, named: &BTreeSet<usize>) -> Option<Cause> {
    let boards: Vec<usize> = ctx
        .order
        .iter()
        .copied()
        .filter(|b| !named.contains(b))
        .collect();
    let mut failures = 0;
    let mut cycles = 0;
    let mut failing = Vec::new();
    let mut kinds: BTreeMap<ErrorKind, u64> = BTreeMap::new();
    let clean = [ClockState::InSpec, ClockState::NotRead];
    for &b in &boards {
        let mut t = Tally::default();
        for s in clean {
            t += ctx.at(b, s);
        }
        cycles += t.judged();
        failures += t.board_failures;
        if t.board_failures > 0 {
            failing.push(b);
        }
        for (&(c, k), &n) in &ctx.board(b).errors {
            if clean.contains(&c) {
                *kinds.entry(k).or_default() += n;
            }
        }
    }
    // The named boards' failures on these boots that the others' rate accounts for are shared too.
    let mut shared_of_named = 0.0;
    for &b in named {
        for s in clean {
            let m = ctx.at(b, s);
            shared_of_named += m.board_failures as f64 - excess_in(ctx, b, s);
        }
    }
    let shared_of_named = shared_of_named.round().max(0.0) as u64;
    // Shared means on more than one board; one board of several failing alone, not significantly, is
    // not a finding (the paragraph says nothing explains it). A bench of one board cannot be compared at all.
    let single = ctx.order.len() == 1;
    if failures < MIN_FAILURES || (failing.len() < 2 && !single) {
        return None;
    }
    let transfer: u64 = kinds
        .iter()
        .filter(|(k, _)| transfer_error(**k))
        .map(|(_, n)| n)
        .sum();
    let errors: Vec<String> = kinds
        .iter()
        .map(|(k, n)| format!("{} ×{n}", k.name()))
        .collect();
    let shared = if transfer * 2 > failures {
        "transfer errors on the bus: suspect what the boards share — the hub, the host controller, the \
         cabling or the supply"
    } else {
        "errors of the boards themselves: compare their bootloader and option bytes with the specification"
    };
    Some(Cause {
        id: "shared_cause".into(),
        kind: Kind::Cause,
        link: Link::Board,
        title: "A cause the boards share, with their clocks in spec".into(),
        boards: ctx.names(failing.iter().copied()),
        cycles,
        failures: failures + shared_of_named,
        direction: None,
        finding: if single {
            format!(
                "Failures with the clocks in spec on the only board, {}: {} of its boots with in-spec clocks failed \
                 ({}). With one board, its own link or USB cannot be told from what a bench would share: {shared}.",
                ctx.name(ctx.order[0]),
                of(failures, cycles),
                list(&errors)
            )
        } else {
            format!(
                "Failures with the clocks in spec (or not read) on {} of {} boards alike, none of which stands out \
                 from the others (each was tested against the rest within the clock states): {} of their boots \
                 failed ({}){}: {shared}.",
                failing.len(),
                boards.len(),
                of(failures, cycles),
                list(&errors),
                if shared_of_named > 0 {
                    format!(
                        ", and {shared_of_named} failures of the boards named for causes of their own are what this \
                         same rate accounts for"
                    )
                } else {
                    String::new()
                }
            )
        },
        remedy: "Move the boards to another hub and host port, or run one board alone, and compare the rate."
            .into(),
        summary: String::new(),
        symptoms: Vec::new(),
        test: None,
    })
}

/// The rig's, the probe's and the host's failures, by board and kind.
pub fn infrastructure(ctx: &Context) -> Option<Cause> {
    let total = ctx.total.infra_failures;
    if total == 0 {
        return None;
    }
    let mut kinds: BTreeMap<ErrorKind, u64> = BTreeMap::new();
    let mut boards = Vec::new();
    let mut first = None;
    for &b in &ctx.order {
        let e = ctx.board(b);
        let n: u64 = e.infra_errors.values().sum();
        if n > 0 {
            boards.push((b, n));
        }
        for (k, m) in &e.infra_errors {
            *kinds.entry(*k).or_default() += m;
            if first.is_none() {
                first = e.first_detail.get(k).map(|d| (*k, d.clone()));
            }
        }
    }
    let per_board: Vec<String> = boards
        .iter()
        .map(|(b, n)| format!("{} {n}", ctx.name(*b)))
        .collect();
    let errors: Vec<String> = kinds
        .iter()
        .map(|(k, n)| format!("{} ×{n}", k.name()))
        .collect();
    let example = first
        .map(|(k, d)| format!(" First {}: \"{}\".", k.name(), truncate(&d, 100)))
        .unwrap_or_default();
    Some(Cause {
        id: "infrastructure".into(),
        kind: if total >= MIN_FAILURES {
            Kind::Cause
        } else {
            Kind::Anomaly
        },
        link: Link::Infrastructure,
        title: "Rig, probe or host (infrastructure)".into(),
        boards: ctx.names(boards.iter().map(|(b, _)| *b)),
        cycles: total,
        failures: total,
        direction: None,
        finding: format!(
            "{} cycles failed because of the rig, the probe or the host, not the board ({}; by board: {}): \
             they are not counted against the boards.{example}",
            thousands(total as f64),
            list(&errors),
            list(&per_board)
        ),
        remedy: "Check the rig controller, its port and the probe before the boards; `retry.on = \"rig\"` \
                 retries such cycles."
            .into(),
        summary: String::new(),
        symptoms: Vec::new(),
        test: None,
    })
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}
