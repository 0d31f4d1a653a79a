//! Turning what a user typed into probe-rs values: the probe selector and the chip name, with messages that
//! say what is wrong.

use probe_rs::config::{Registry, Target};
use probe_rs::probe::DebugProbeSelector;

use crate::clocks::ClockError;
use crate::rig::ProbeSelector;

/// probe-rs's name for the chip on the harness's boards.
pub const DEFAULT_CHIP: &str = "STM32F746ZGTx";

/// Parses `VID:PID[:SERIAL]` (hex ids) with a message that says what is wrong: the rig files' grammar
/// ([`ProbeSelector::parse`]), as probe-rs's selector.
pub fn parse_selector(input: &str) -> Result<DebugProbeSelector, ClockError> {
    let p = ProbeSelector::parse(input).map_err(|problem| ClockError::Selector {
        input: input.to_string(),
        problem,
    })?;
    Ok(probe_rs_selector(&p))
}

/// probe-rs's selector for a probe the harness names.
pub fn probe_rs_selector(p: &ProbeSelector) -> DebugProbeSelector {
    DebugProbeSelector {
        vendor_id: p.vid,
        product_id: p.pid,
        interface: None,
        serial_number: p.serial.clone(),
    }
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
