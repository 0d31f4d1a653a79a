//! Turning what a user typed into probe-rs values: the probe selector and the chip name, with messages that
//! say what is wrong.

use probe_rs::config::{Registry, Target};
use probe_rs::probe::DebugProbeSelector;

use crate::clocks::ClockError;

/// probe-rs's name for the chip on the harness's boards.
pub const DEFAULT_CHIP: &str = "STM32F746ZGTx";

/// Parses `VID:PID[:SERIAL]` (hex ids) with a message that says what is wrong.
pub fn parse_selector(input: &str) -> Result<DebugProbeSelector, ClockError> {
    let problem = |p: &str| ClockError::Selector {
        input: input.to_string(),
        problem: p.to_string(),
    };
    let mut parts = input.splitn(3, ':');
    let (vid, pid) = (parts.next().unwrap_or(""), parts.next());
    let Some(pid) = pid else {
        return Err(problem("no ':' between VID and PID"));
    };
    let hex = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex(vid) {
        return Err(problem(&format!("VID {vid:?} is not 1 to 4 hex digits")));
    }
    if !hex(pid.split('-').next().unwrap_or("")) {
        return Err(problem(&format!("PID {pid:?} is not 1 to 4 hex digits")));
    }
    input
        .parse::<DebugProbeSelector>()
        .map_err(|e| problem(&e.to_string()))
}

/// Looks up `name` among probe-rs's built-in targets.
pub fn find_chip(name: &str) -> Result<Target, ClockError> {
    let registry = Registry::from_builtin_families();
    registry.get_target_by_name(name).map_err(|_| {
        let prefix: String = name.chars().take(9).collect();
        let mut similar = registry.search_chips(&prefix);
        similar.truncate(6);
        ClockError::UnknownChip {
            name: name.to_string(),
            similar,
        }
    })
}
