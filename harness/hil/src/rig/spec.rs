//! The validated rig: what is on the bench and how each board is wired. Built only by the loader
//! ([`Rig::load`]); holds no open ports and no run-time state.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::transport::Selector;

/// A bench of boards and the instruments around them, from a rig file.
#[derive(Debug, Clone)]
pub struct Rig {
    pub name: String,
    pub description: String,
    /// The rig file this came from.
    pub path: PathBuf,
    /// Serial rig controllers by name (`[controllers.NAME]`); empty for a virtual rig.
    pub controllers: BTreeMap<String, ControllerSpec>,
    /// The temperature chamber, if the bench has one.
    pub chamber: Option<ChamberSpec>,
    /// The boards, in file order (never empty).
    pub boards: Vec<BoardSpec>,
}

impl Rig {
    /// True when every board is a virtual board (a rig never mixes the two).
    pub fn is_virtual(&self) -> bool {
        self.boards
            .iter()
            .all(|b| matches!(b.wiring, Wiring::Virtual(_)))
    }

    /// The board called `name`.
    pub fn board(&self, name: &str) -> Option<&BoardSpec> {
        self.boards.iter().find(|b| b.name == name)
    }
}

/// One board on the bench.
#[derive(Debug, Clone)]
pub struct BoardSpec {
    pub name: String,
    /// probe-rs target name, e.g. `STM32F746ZGTx`.
    pub chip: String,
    /// The HSE actually fitted, Hz (what the bootloader should detect).
    pub hse_hz: u32,
    pub hse_kind: HseKind,
    /// Which USB device is this board's bootloader (dfu-util `-S` / `-p` forms).
    pub usb: Selector,
    /// The SWD probe wired to this board, if any.
    pub probe: Option<ProbeSelector>,
    pub wiring: Wiring,
}

/// What drives the HSE input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HseKind {
    Crystal,
    Oscillator,
}

/// How the harness powers, straps and resets a board.
#[derive(Debug, Clone)]
pub enum Wiring {
    /// A virtual board from a vboard board file, on virtual root-hub port `port` (USB path `0-PORT`).
    Virtual(Box<VirtualWiring>),
    /// Channel `channel` of the serial rig controller `controller`.
    Controller { controller: String, channel: u16 },
}

/// A virtual board: its validated board file, the seed of its random draws, and how its simulated
/// surroundings misbehave.
#[derive(Debug, Clone)]
pub struct VirtualWiring {
    pub board_file: PathBuf,
    pub config: vboard::BoardConfig,
    pub seed: u64,
    pub port: u8,
    /// The rig's `[faults]`, with this board's own `faults` over them.
    pub faults: FaultRates,
    /// The `[chamber]`'s `time_constant_s`: the board's die follows a set-point change exponentially with
    /// this time constant (zero: at once, the default).
    pub chamber_time_constant: Duration,
}

/// How often a virtual rig fails as a real one does, each a probability in 0..=1. All zero (the default)
/// is a rig that never fails, and then no fault is drawn at all.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultRates {
    /// Per controller command (power on, power off, BOOT0, NRST): no reply, the action is not carried out.
    pub timeout: f64,
    /// Per controller command: the action is carried out but the reply does not match.
    pub garbled: f64,
    /// Per power command: the command is acknowledged but the relay does not switch.
    pub relay_stuck: f64,
    /// Per clock read over SWD: the probe drops out.
    pub probe_dropout: f64,
}

impl FaultRates {
    /// True when the rig never fails.
    pub fn is_zero(&self) -> bool {
        *self == FaultRates::default()
    }
}

/// A probe in probe-rs's `VID:PID[:SERIAL]` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSelector {
    pub vid: u16,
    pub pid: u16,
    pub serial: Option<String>,
}

impl ProbeSelector {
    /// Parses `VID:PID` or `VID:PID:SERIAL` (hex ids of 1 to 4 digits, a non-empty serial that may itself hold
    /// colons): the one grammar of probe selectors, for rig files and `--probe`. The error says what is wrong.
    pub fn parse(s: &str) -> Result<ProbeSelector, String> {
        let mut parts = s.splitn(3, ':');
        let (vid, pid) = (parts.next().unwrap_or(""), parts.next());
        let Some(pid) = pid else {
            return Err("no ':' between VID and PID".into());
        };
        let hex = |x: &str| {
            let ok = (1..=4).contains(&x.len()) && x.bytes().all(|b| b.is_ascii_hexdigit());
            ok.then(|| u16::from_str_radix(x, 16).ok()).flatten()
        };
        let vid = hex(vid).ok_or_else(|| format!("VID {vid:?} is not 1 to 4 hex digits"))?;
        let pid = hex(pid).ok_or_else(|| format!("PID {pid:?} is not 1 to 4 hex digits"))?;
        let serial = match parts.next() {
            Some("") => return Err("the serial number after the second ':' is empty".into()),
            other => other.map(str::to_string),
        };
        Ok(ProbeSelector { vid, pid, serial })
    }
}

impl fmt::Display for ProbeSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04x}:{:04x}", self.vid, self.pid)?;
        match &self.serial {
            Some(serial) => write!(f, ":{serial}"),
            None => Ok(()),
        }
    }
}

/// A serial port and how lines are framed on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortSpec {
    /// Device path, e.g. `/dev/ttyACM0` or `/dev/serial/by-id/...`.
    pub path: String,
    pub baud: u32,
    pub line_ending: LineEnding,
    /// How long to wait for a reply unless the command sets its own.
    pub timeout: Duration,
    /// A SCPI instrument: its `*IDN?` is logged when the rig opens, and `SYST:ERR?` is read after every command,
    /// an entry in its error queue failing the command.
    pub scpi: bool,
}

/// What ends a command line we send (replies may end in CR, LF or both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineEnding {
    Lf,
    Cr,
    Crlf,
}

impl LineEnding {
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::Cr => "\r",
            LineEnding::Crlf => "\r\n",
        }
    }
}

/// One rig command: a line sent on the controller's serial port, or a command line run on this machine; and what
/// means success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub run: CommandLine,
    /// For a line: a regex the whole reply line must match. For an exec: a regex searched in its stdout (`^` and
    /// `$` match at line ends). Placeholders allowed; `None`: no reply is awaited (a line) or only the exit code
    /// counts (an exec). For queries, capture group 1 is the number.
    pub expect: Option<String>,
    pub timeout: Duration,
}

/// What a [`Command`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    /// `send`: the line, with `{channel}` or `{celsius}` placeholders.
    Send(String),
    /// `exec`: a program and its arguments, each with placeholders, run without a shell.
    Exec(Vec<String>),
}

/// A rig controller: a USB relay board or small MCU speaking a line protocol, or any command-line tool (uhubctl,
/// a PDU's CLI, labgrid-client), or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControllerSpec {
    /// The serial port `send` commands go to; `None` when every command is an `exec`.
    pub port: Option<PortSpec>,
    pub power: PowerSwitch,
    pub boot0_high: Option<Command>,
    pub boot0_low: Option<Command>,
    pub reset_pulse: Option<Command>,
    /// A temperature query (per channel or bench-wide); capture group 1 is °C.
    pub temperature: Option<Command>,
    /// A supply-current query per channel; capture group 1 is amperes.
    pub current: Option<Command>,
}

/// How a controller switches a board's power.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PowerSwitch {
    /// Its `power_on` and `power_off` commands.
    Commands { on: Command, off: Command },
    /// A USB hub's own per-port power switching: the hub at `hub` (uhubctl's `-l` form), the board's channel its
    /// port.
    HubPort { hub: String, timeout: Duration },
}

/// A SCPI temperature chamber on its own port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChamberSpec {
    pub port: PortSpec,
    /// Set-point command with a `{celsius}` placeholder.
    pub set_point: Command,
    /// Temperature read; capture group 1 is °C.
    pub read: Command,
}
