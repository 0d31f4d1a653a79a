//! The rig file as written: serde structs with `deny_unknown_fields`, no checks beyond TOML types.
//! [`super::load`] validates them into [`super::Rig`].

use std::collections::BTreeMap;

use serde::Deserialize;

use super::spec::{HseKind, LineEnding};

pub(crate) const DEFAULT_CHIP: &str = "STM32F746ZGTx";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRig {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub controllers: BTreeMap<String, RawController>,
    pub chamber: Option<RawChamber>,
    /// Virtual rigs only: how often the simulated controller and probe fail.
    pub faults: Option<RawFaults>,
    #[serde(default)]
    pub boards: Vec<RawBoard>,
}

/// A serial rig controller: its port keys (serde's `flatten` cannot be combined with `deny_unknown_fields`,
/// so they are repeated, optional, in [`RawChamber`]) and its commands.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawController {
    pub port: Option<String>,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default = "default_line_ending")]
    pub line_ending: LineEnding,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// The instrument speaks SCPI: `*IDN?` at start, `SYST:ERR?` after each command.
    #[serde(default)]
    pub scpi: bool,
    /// A USB hub that switches its ports' power, by location (`1-1.4`, uhubctl's `-l`): boards' channels are
    /// its ports. Instead of `commands`.
    pub hub: Option<String>,
    pub commands: Option<RawCommands>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommands {
    pub power_on: RawCommand,
    pub power_off: RawCommand,
    pub boot0_high: Option<RawCommand>,
    pub boot0_low: Option<RawCommand>,
    pub reset_pulse: Option<RawCommand>,
    pub temperature: Option<RawCommand>,
    /// The supply current a board draws, in amperes (a bench supply's `MEAS:CURR?`).
    pub current: Option<RawCommand>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommand {
    pub send: Option<String>,
    pub exec: Option<Vec<String>>,
    pub expect: Option<String>,
    pub timeout_ms: Option<u64>,
}

/// The chamber: a real rig's is a SCPI instrument (the port keys and the two commands, required there); a
/// virtual rig's acts on the boards directly and has only `time_constant_s`. The loader checks which.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChamber {
    pub port: Option<String>,
    pub baud: Option<u32>,
    pub line_ending: Option<LineEnding>,
    pub timeout_ms: Option<u64>,
    pub scpi: Option<bool>,
    pub set_point: Option<RawCommand>,
    pub read: Option<RawCommand>,
    pub time_constant_s: Option<f64>,
}

/// Fault rates of a virtual rig (`[faults]`) or of one virtual board (`[[boards]] faults`, key by key over
/// the rig's).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFaults {
    pub timeout_rate: Option<f64>,
    pub garbled_rate: Option<f64>,
    pub relay_stuck_rate: Option<f64>,
    pub probe_dropout_rate: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBoard {
    pub name: String,
    #[serde(default = "default_chip")]
    pub chip: String,
    pub hse_hz: u32,
    pub hse_kind: HseKind,
    #[serde(default)]
    pub usb: RawUsb,
    pub probe: Option<String>,
    pub controller: Option<String>,
    pub channel: Option<u16>,
    pub board_file: Option<String>,
    pub seed: Option<u64>,
    pub faults: Option<RawFaults>,
}

/// dfu-util's selector forms: `vid_pid` (`-d`), `serial` (`-S`), `path` (`-p`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUsb {
    pub vid_pid: Option<String>,
    pub serial: Option<String>,
    pub path: Option<String>,
}

pub(crate) const DEFAULT_BAUD: u32 = 115_200;
pub(crate) const DEFAULT_LINE_ENDING: LineEnding = LineEnding::Lf;
pub(crate) const DEFAULT_TIMEOUT_MS: u64 = 1000;

fn default_chip() -> String {
    DEFAULT_CHIP.to_string()
}
fn default_baud() -> u32 {
    DEFAULT_BAUD
}
fn default_line_ending() -> LineEnding {
    DEFAULT_LINE_ENDING
}
fn default_timeout_ms() -> u64 {
    DEFAULT_TIMEOUT_MS
}
