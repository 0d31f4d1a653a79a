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
    #[serde(default)]
    pub boards: Vec<RawBoard>,
}

/// A serial rig controller: its port keys (serde's `flatten` cannot be combined with `deny_unknown_fields`,
/// so they are repeated in [`RawChamber`]) and its commands.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawController {
    pub port: String,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default = "default_line_ending")]
    pub line_ending: LineEnding,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    pub commands: RawCommands,
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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommand {
    pub send: String,
    pub expect: Option<String>,
    pub timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChamber {
    pub port: String,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default = "default_line_ending")]
    pub line_ending: LineEnding,
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    pub set_point: RawCommand,
    pub read: RawCommand,
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
}

/// dfu-util's selector forms: `vid_pid` (`-d`), `serial` (`-S`), `path` (`-p`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUsb {
    pub vid_pid: Option<String>,
    pub serial: Option<String>,
    pub path: Option<String>,
}

fn default_chip() -> String {
    DEFAULT_CHIP.to_string()
}
fn default_baud() -> u32 {
    115_200
}
fn default_line_ending() -> LineEnding {
    LineEnding::Lf
}
fn default_timeout_ms() -> u64 {
    1000
}
