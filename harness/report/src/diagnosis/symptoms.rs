//! The last links: what the host saw of the serial number and the option bytes. On misclocked boots these
//! are symptoms of the clock cause and are stated with it; on a board named for its link, symptoms of the
//! link; otherwise anomalies of their own — a consistent serial variant (a different bootloader formula,
//! benign), a serial that changes or fails intermittently (a link symptom with no failures to show for
//! it), option bytes that disagree with FLASH_OPTCR/OPTCR1, that are not factory, that do not boot the
//! system memory or that read-protect the chip.

use std::collections::{BTreeMap, BTreeSet};

use records::{OptionBytesCheck, SerialMatch};

use super::context::Context;
use super::wording::{list, of};
use super::{Cause, Kind, Link};
use crate::evidence::ClockState;

/// Factory option bytes of the F74x as read over DFU: USER 0xFF, RDP 0xAA (level 0), nWRP 0xFF, the IWDG
/// byte 0xFF, BOOT_ADD0 0x0080 (ITCM flash), BOOT_ADD1 0x0040 (system memory) — reference §4.3 [C3].
const FACTORY_USER: u8 = 0xFF;
const RDP_LEVEL0: u8 = 0xAA;
const RDP_LEVEL2: u8 = 0xCC;
const FACTORY_NWRP: u8 = 0xFF;
const FACTORY_WDG: u8 = 0xFF;
const FACTORY_BOOT_ADD0: u16 = 0x0080;
const SYSTEM_MEMORY_BOOT_ADD: u16 = 0x0040;

/// The option-byte fields a reader cares about, decoded from the 32 bytes read over DFU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OptionBytes {
    user: u8,
    rdp: u8,
    nwrp: u8,
    wdg: u8,
    boot_add0: u16,
    boot_add1: u16,
    complements_ok: bool,
}

fn decode(hex: &str) -> Option<OptionBytes> {
    if hex.len() != 64 {
        return None;
    }
    let b: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16))
        .collect::<Result<_, _>>()
        .ok()?;
    let complements_ok = [0usize, 8, 16, 24]
        .iter()
        .all(|&o| b[o + 2] == !b[o] && b[o + 3] == !b[o + 1]);
    Some(OptionBytes {
        user: b[0],
        rdp: b[1],
        nwrp: b[8],
        wdg: b[9],
        boot_add0: u16::from_le_bytes([b[16], b[17]]),
        boot_add1: u16::from_le_bytes([b[24], b[25]]),
        complements_ok,
    })
}

/// The fields that differ from the factory values, in words.
fn not_factory(ob: &OptionBytes) -> Vec<String> {
    let mut v = Vec::new();
    if ob.user != FACTORY_USER {
        v.push(format!("USER 0x{:02X} (factory 0xFF)", ob.user));
    }
    if ob.rdp != RDP_LEVEL0 {
        v.push(format!("RDP 0x{:02X} (factory 0xAA, level 0)", ob.rdp));
    }
    if ob.nwrp != FACTORY_NWRP {
        v.push(format!(
            "nWRP 0x{:02X}: write protection on (factory 0xFF)",
            ob.nwrp
        ));
    }
    if ob.wdg != FACTORY_WDG {
        v.push(format!(
            "IWDG_STDBY/IWDG_STOP byte 0x{:02X} (factory 0xFF)",
            ob.wdg
        ));
    }
    if ob.boot_add0 != FACTORY_BOOT_ADD0 {
        v.push(format!(
            "BOOT_ADD0 0x{:04X} → 0x{:08X} (factory 0x0080 → 0x00200000)",
            ob.boot_add0,
            u32::from(ob.boot_add0) << 14
        ));
    }
    if ob.boot_add1 != SYSTEM_MEMORY_BOOT_ADD {
        v.push(format!(
            "BOOT_ADD1 0x{:04X} → 0x{:08X} (factory 0x0040 → 0x00100000)",
            ob.boot_add1,
            u32::from(ob.boot_add1) << 14
        ));
    }
    if !ob.complements_ok {
        v.push("complement bytes that do not match their values".into());
    }
    v
}

/// Grouped anomaly text per id: (board, sentence).
type Found = BTreeMap<&'static str, Vec<(usize, String, u64)>>;

/// Attach the symptoms to their causes and add the anomalies that stand alone.
pub fn attach(ctx: &Context, findings: &mut Vec<Cause>, named_boards: &BTreeSet<usize>) {
    clock_symptoms(ctx, findings, named_boards);
    let mut found: Found = BTreeMap::new();
    for &b in &ctx.order {
        serial(ctx, b, findings, named_boards, &mut found);
        option_bytes(ctx, b, findings, named_boards, &mut found);
    }
    for (id, items) in found {
        let (title, remedy) = describe(id);
        findings.push(Cause {
            id: id.into(),
            kind: Kind::Anomaly,
            link: Link::Observation,
            title: title.into(),
            boards: ctx.names(items.iter().map(|(b, _, _)| *b)),
            cycles: items.iter().map(|(_, _, n)| n).sum(),
            failures: 0,
            direction: None,
            finding: format!(
                "{}: {}.",
                title,
                items
                    .iter()
                    .map(|(_, s, _)| s.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            remedy: remedy.into(),
            summary: String::new(),
            symptoms: Vec::new(),
            test: None,
        });
    }
}

fn describe(id: &str) -> (&'static str, &'static str) {
    match id {
        "serial_variant" => (
            "A consistent serial-number variant (benign)",
            "Nothing to fix: the board's bootloader derives its serial by another formula than ST's \
             documented one (an F765 is known to do so). Match boards by this serial, not by the formula.",
        ),
        "serial_varies" => (
            "A serial number that changes between boots",
            "Do not select this board by its serial number; use its USB port path.",
        ),
        "serial_intermittent" => (
            "An intermittently unreadable or wrong serial number",
            "A link symptom without failures to show for it yet: check the board's cable and hub port.",
        ),
        "option_bytes_mismatch" => (
            "Option bytes over DFU that disagree with FLASH_OPTCR/OPTCR1",
            "Option bytes programmed but not yet reloaded (no reset since), or a corrupted read: power-cycle \
             the board and compare again.",
        ),
        "rdp" => (
            "Read protection set (RDP not at level 0)",
            "Level 1 refuses reads until a Read Unprotect (a mass erase), which the harness never does unasked; \
             level 2 (0xCC) is permanent.",
        ),
        "boot_address" => (
            "A boot address that does not select the system memory",
            "With BOOT0 high the chip boots from BOOT_ADD1; 0x0040 selects the bootloader.",
        ),
        _ => (
            "Option bytes that are not factory",
            "Compare with the intended production option bytes.",
        ),
    }
}

/// Serial and option-byte trouble on misclocked boots, stated with the clock finding of that clock state
/// (misdetected boots with the HSE misdetection, boots with other PLL factors with those), by board.
fn clock_symptoms(ctx: &Context, findings: &mut [Cause], named: &BTreeSet<usize>) {
    for (state, id) in [
        (ClockState::Misdetected, "hse_misdetection"),
        (ClockState::UsbOff, "pll_factors"),
    ] {
        let (mut bad, mut seen, mut bad_rest, mut seen_rest) = (0, 0, 0, 0);
        let mut ob_failed: Vec<String> = Vec::new();
        let mut ob_mismatch: Vec<String> = Vec::new();
        let mut serial_boards: Vec<String> = Vec::new();
        // A board named for a cause of its own keeps its serial and option-byte trouble (see `serial`).
        for &b in ctx.order.iter().filter(|b| !named.contains(b)) {
            let e = ctx.board(b);
            let mut board_bad = 0;
            for (&(c, s), &n) in &e.serial {
                let wrong = s != SerialMatch::Match;
                if c == state {
                    seen += n;
                    if wrong {
                        bad += n;
                        board_bad += n;
                    }
                } else if !c.misclocked() {
                    seen_rest += n;
                    if wrong {
                        bad_rest += n;
                    }
                }
            }
            if board_bad > 0 {
                serial_boards.push(format!("{} {board_bad}", ctx.name(b)));
            }
            if let Some(&n) = e.option_bytes_failed.get(&state) {
                ob_failed.push(format!("{} {n}", ctx.name(b)));
            }
            let m = e
                .option_bytes
                .get(&(state, OptionBytesCheck::Mismatch))
                .copied()
                .unwrap_or(0);
            if m > 0 {
                ob_mismatch.push(format!("{} {m}", ctx.name(b)));
            }
        }
        let mut symptoms = Vec::new();
        if bad > 0 {
            let against = if seen_rest > 0 {
                format!(
                    ", against {} of the boots with good clocks",
                    of(bad_rest, seen_rest)
                )
            } else {
                String::new()
            };
            symptoms.push(format!(
                "the serial number was unreadable or wrong on {} of these boots that enumerated ({}){against}",
                of(bad, seen),
                list(&serial_boards),
            ));
        }
        if !ob_failed.is_empty() {
            symptoms.push(format!(
                "the option-byte read failed on these boots ({})",
                list(&ob_failed)
            ));
        }
        if !ob_mismatch.is_empty() {
            symptoms.push(format!(
                "the option bytes read over DFU disagreed with FLASH_OPTCR/OPTCR1 on these boots ({})",
                list(&ob_mismatch)
            ));
        }
        if let Some(c) = findings.iter_mut().find(|c| c.id == id) {
            c.symptoms.extend(symptoms);
        }
    }
}

/// The cause a board's link symptoms belong to: the board's own link or board cause, else a cause the
/// boards share (a serial unreadable on a board that happened not to fail shares the others' link).
fn link_of<'a>(findings: &'a mut [Cause], name: &str) -> Option<&'a mut Cause> {
    let own = findings
        .iter()
        .position(|c| (c.id == "link" || c.id == "board") && c.boards.iter().any(|b| b == name));
    let shared = findings.iter().position(|c| c.id == "shared_cause");
    own.or(shared).map(|i| &mut findings[i])
}

fn serial(
    ctx: &Context,
    b: usize,
    findings: &mut [Cause],
    named: &BTreeSet<usize>,
    found: &mut Found,
) {
    let e = ctx.board(b);
    let mut counts: BTreeMap<SerialMatch, u64> = BTreeMap::new();
    // A named board's serial trouble is its cause's in every clock state; another board's only where its
    // clocks do not explain it.
    for (&(c, s), &n) in &e.serial {
        if !c.misclocked() || named.contains(&b) {
            *counts.entry(s).or_default() += n;
        }
    }
    let get = |s| counts.get(&s).copied().unwrap_or(0);
    let (matching, wrong, unreadable) = (
        get(SerialMatch::Match),
        get(SerialMatch::Mismatch),
        get(SerialMatch::Unreadable),
    );
    let readable = matching + wrong;
    // Where the serial could not be compared (clocks not read), only unreadable ones are recorded: count them
    // against every boot of the board.
    let boots = if readable == 0 {
        ctx.of_board(b).cycles
    } else {
        readable + unreadable
    };
    if wrong + unreadable == 0 {
        return;
    }
    let name = ctx.name(b);
    let values: Vec<String> = e
        .wrong_serials
        .values
        .iter()
        .map(|(v, _)| v.clone())
        .collect();
    if wrong * 10 >= readable * 9 && wrong > 0 {
        if e.wrong_serials.count() == 1 {
            found.entry("serial_variant").or_default().push((
                b,
                format!(
                    "{name} reports {} on {} readable boots where ST's formula over its UID gives {}",
                    values[0],
                    of(wrong, readable),
                    if e.expected_serial.is_empty() {
                        "another value".into()
                    } else {
                        e.expected_serial.clone()
                    }
                ),
                wrong,
            ));
        } else {
            found.entry("serial_varies").or_default().push((
                b,
                format!(
                    "{name} reported {}{} different serial numbers on {} readable boots ({}{})",
                    if e.wrong_serials.others > 0 {
                        "at least "
                    } else {
                        ""
                    },
                    e.wrong_serials.count(),
                    thousands(readable),
                    list(&values.iter().take(3).cloned().collect::<Vec<_>>()),
                    if values.len() > 3 { ", …" } else { "" }
                ),
                wrong,
            ));
        }
        if unreadable == 0 {
            return;
        }
    }
    let text = format!(
        "{name}: serial unreadable on {} and differing from ST's formula on {} of its boots with clocks not \
         misclocked",
        of(unreadable, boots),
        of(
            if wrong * 10 >= readable * 9 { 0 } else { wrong },
            boots
        )
    );
    if let Some(c) =
        link_of(findings, name).filter(|c| named.contains(&b) || c.id == "shared_cause")
    {
        c.symptoms.push(text);
        return;
    }
    found
        .entry("serial_intermittent")
        .or_default()
        .push((b, text, wrong + unreadable));
}

fn thousands(n: u64) -> String {
    crate::format::thousands(n as f64)
}

fn option_bytes(
    ctx: &Context,
    b: usize,
    findings: &mut [Cause],
    named: &BTreeSet<usize>,
    found: &mut Found,
) {
    let e = ctx.board(b);
    let name = ctx.name(b);
    let (mut mismatch, mut compared) = (0, 0);
    for (&(c, k), &n) in &e.option_bytes {
        if c.misclocked() || k == OptionBytesCheck::DfuOnly {
            continue;
        }
        compared += n;
        if k == OptionBytesCheck::Mismatch {
            mismatch += n;
        }
    }
    if mismatch > 0 {
        let text = format!(
            "{name}: on {} boots the option bytes read over DFU disagreed with FLASH_OPTCR/OPTCR1 read over SWD",
            of(mismatch, compared)
        );
        match named
            .contains(&b)
            .then(|| link_of(findings, name))
            .flatten()
        {
            Some(c) => c.symptoms.push(text),
            None => found
                .entry("option_bytes_mismatch")
                .or_default()
                .push((b, text, mismatch)),
        }
    }
    // The option bytes as read (the most common block, when it decodes).
    let Some((hex, n)) = e.option_bytes_hex.values.iter().max_by_key(|(_, n)| *n) else {
        return;
    };
    let Some(ob) = decode(hex) else {
        return;
    };
    let rdp_cause = findings
        .iter()
        .any(|c| c.id == "rdp" && c.boards.iter().any(|x| x == name));
    let mut items: Vec<(&'static str, String)> = Vec::new();
    if ob.rdp != RDP_LEVEL0 && !rdp_cause {
        let level = if ob.rdp == RDP_LEVEL2 { 2 } else { 1 };
        items.push((
            "rdp",
            format!("{name}: RDP 0x{:02X}, level {level}, on {n} reads", ob.rdp),
        ));
    }
    if ob.boot_add1 != SYSTEM_MEMORY_BOOT_ADD {
        items.push((
            "boot_address",
            format!(
                "{name}: BOOT_ADD1 0x{:04X} boots 0x{:08X}, not the system memory (0x0040 → 0x00100000)",
                ob.boot_add1,
                u32::from(ob.boot_add1) << 14
            ),
        ));
    }
    let odd: Vec<String> = not_factory(&ob)
        .into_iter()
        .filter(|s| !s.starts_with("RDP") && !s.starts_with("BOOT_ADD1"))
        .collect();
    if !odd.is_empty() {
        items.push((
            "option_bytes_not_factory",
            format!("{name}: {}", list(&odd)),
        ));
    }
    // On a board named for a cause of its own, its option bytes are part of that finding (write protection
    // behind write errors, say), not a separate anomaly beside it.
    let own = findings.iter_mut().find(|c| {
        matches!(c.id.as_str(), "board" | "link" | "rdp")
            && named.contains(&b)
            && c.boards.iter().any(|x| x == name)
    });
    match own {
        Some(c) if !items.is_empty() => {
            let texts: Vec<String> = items.into_iter().map(|(_, t)| t).collect();
            c.finding.push_str(&format!(
                " Its option bytes are not factory — {}.",
                texts.join("; ")
            ));
        }
        _ => {
            for (id, text) in items {
                found.entry(id).or_default().push((b, text, *n));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factory_option_bytes_decode_as_factory() {
        let hex = "FFAA0055FFFFFFFFFFFF0000FFFFFFFF80007FFFFFFFFFFF4000BFFFFFFFFFFF";
        let ob = decode(hex).unwrap();
        assert_eq!((ob.rdp, ob.boot_add0, ob.boot_add1), (0xAA, 0x0080, 0x0040));
        assert!(ob.complements_ok);
        assert!(not_factory(&ob).is_empty());
    }

    #[test]
    fn a_boot_address_off_the_system_memory_is_named_with_its_address() {
        let hex = "FFAA0055FFFFFFFFFFFF0000FFFFFFFF80007FFFFFFFFFFF80007FFFFFFFFFFF";
        let ob = decode(hex).unwrap();
        let odd = not_factory(&ob);
        assert_eq!(
            odd,
            vec!["BOOT_ADD1 0x0080 → 0x00200000 (factory 0x0040 → 0x00100000)".to_string()]
        );
    }
}
