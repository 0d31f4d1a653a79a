//! Validating the instrument tables of a rig file: `[controllers.NAME]` and `[chamber]`, their ports and their
//! line-protocol commands. Every failure names the dotted key it is about.

use std::time::Duration;

use super::protocol::{output_regex, reply_regex, unknown_placeholder, Var};
use super::raw::{
    RawChamber, RawCommand, RawController, DEFAULT_BAUD, DEFAULT_LINE_ENDING, DEFAULT_TIMEOUT_MS,
};
use super::spec::{
    ChamberSpec, Command, CommandLine, ControllerSpec, LineEnding, PortSpec, PowerSwitch,
};
use tomlfile::{FileError, KeyPath, Source};

/// Longest reply wait a rig file may ask for.
const MAX_TIMEOUT_MS: u64 = 600_000;
/// Baud rates a USB-serial adapter or CDC device plausibly runs at.
const BAUD_RANGE: std::ops::RangeInclusive<u32> = 300..=4_000_000;

/// A validated controller; `channels` are the channels boards use on it (to check `{channel}` patterns).
pub(crate) fn controller(
    src: &Source,
    key: &KeyPath,
    raw: &RawController,
    channels: &[u16],
) -> Result<ControllerSpec, FileError> {
    let port = match &raw.port {
        Some(path) => Some(port(
            src,
            key,
            (path, raw.baud, raw.line_ending, raw.timeout_ms, raw.scpi),
        )?),
        None if raw.scpi => {
            return Err(src.invalid(
                &key.key("scpi"),
                "a SCPI instrument needs a `port` (a serial device or tcp:HOST:PORT)",
            ))
        }
        None => None,
    };
    let default_timeout = timeout(src, &key.key("timeout_ms"), raw.timeout_ms)?;
    let keys = key.key("commands");
    let c = match (&raw.hub, &raw.commands) {
        (Some(hub), None) => return hub_controller(src, key, hub, raw, channels, default_timeout),
        (Some(_), Some(_)) => return Err(src.invalid(
            &key.key("hub"),
            "a hub controller switches only its ports' power: give `hub` or `commands`, not both",
        )),
        (None, Some(c)) => c,
        (None, None) => return Err(src.invalid(
            key,
            "missing field `commands` (or `hub = \"1-1\"` for a USB hub's port power switching)",
        )),
    };
    let cmd = |name: &str, raw: &RawCommand, query: bool| {
        command(
            src,
            &keys.key(name),
            raw,
            (port.is_some(), default_timeout),
            &channel_vars(channels),
            query,
        )
    };
    let opt = |name: &str, raw: &Option<RawCommand>, query: bool| {
        raw.as_ref().map(|r| cmd(name, r, query)).transpose()
    };
    Ok(ControllerSpec {
        power: PowerSwitch::Commands {
            on: cmd("power_on", &c.power_on, false)?,
            off: cmd("power_off", &c.power_off, false)?,
        },
        boot0_high: opt("boot0_high", &c.boot0_high, false)?,
        boot0_low: opt("boot0_low", &c.boot0_low, false)?,
        reset_pulse: opt("reset_pulse", &c.reset_pulse, false)?,
        temperature: opt("temperature", &c.temperature, true)?,
        current: opt("current", &c.current, true)?,
        port,
    })
}

/// A hub controller: `hub` is a location in uhubctl's `-l` form (`1`, a root hub, or `1-1.4`), and every board's
/// channel a port number 1..=255 of that hub; no serial port, no commands.
fn hub_controller(
    src: &Source,
    key: &KeyPath,
    hub: &str,
    raw: &RawController,
    channels: &[u16],
    timeout: Duration,
) -> Result<ControllerSpec, FileError> {
    let valid = hub.split_once('-').map_or_else(
        || hub.parse::<u8>().is_ok(),
        |(bus, ports)| {
            bus.parse::<u8>().is_ok()
                && ports
                    .split('.')
                    .all(|p| p.parse::<u8>().is_ok_and(|p| p > 0))
        },
    );
    if !valid {
        return Err(src.invalid(
            &key.key("hub"),
            format!("{hub:?} is not a hub location: BUS or BUS-PORT[.PORT...] as uhubctl -l takes it, e.g. \"1-1.4\""),
        ));
    }
    if raw.port.is_some() || raw.scpi {
        let name = if raw.port.is_some() { "port" } else { "scpi" };
        return Err(src.invalid(
            &key.key(name),
            "a hub controller talks to the hub over USB: it has no serial port",
        ));
    }
    if let Some(c) = channels.iter().find(|c| **c == 0 || **c > 255) {
        return Err(src.invalid(
            key,
            format!("a board on this hub has channel {c}: hub ports are 1..=255"),
        ));
    }
    Ok(ControllerSpec {
        port: None,
        power: PowerSwitch::HubPort {
            hub: hub.to_string(),
            timeout,
        },
        boot0_high: None,
        boot0_low: None,
        reset_pulse: None,
        temperature: None,
        current: None,
    })
}

/// A validated SCPI temperature chamber (a real rig's).
pub(crate) fn chamber(src: &Source, raw: &RawChamber) -> Result<ChamberSpec, FileError> {
    let key = KeyPath::root().key("chamber");
    let missing = |name: &str| src.invalid(&key.key(name), format!("missing field `{name}`"));
    let path = raw.port.as_deref().ok_or_else(|| missing("port"))?;
    let set_point = raw.set_point.as_ref().ok_or_else(|| missing("set_point"))?;
    let read = raw.read.as_ref().ok_or_else(|| missing("read"))?;
    let port = port(
        src,
        &key,
        (
            path,
            raw.baud.unwrap_or(DEFAULT_BAUD),
            raw.line_ending.unwrap_or(DEFAULT_LINE_ENDING),
            raw.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
            raw.scpi.unwrap_or(false),
        ),
    )?;
    let set_vars = vec![vec![("celsius", "25.0".to_string())]];
    Ok(ChamberSpec {
        set_point: command(
            src,
            &key.key("set_point"),
            set_point,
            (true, port.timeout),
            &set_vars,
            false,
        )?,
        read: command(
            src,
            &key.key("read"),
            read,
            (true, port.timeout),
            &[vec![]],
            true,
        )?,
        port,
    })
}

fn channel_vars(channels: &[u16]) -> Vec<Vec<Var<'static>>> {
    let mut vars: Vec<_> = channels
        .iter()
        .map(|c| vec![("channel", c.to_string())])
        .collect();
    if vars.is_empty() {
        vars.push(vec![("channel", "0".to_string())]);
    }
    vars
}

fn port(
    src: &Source,
    key: &KeyPath,
    (path, baud, line_ending, timeout_ms, scpi): (&str, u32, LineEnding, u64, bool),
) -> Result<PortSpec, FileError> {
    if path.trim().is_empty() {
        return Err(src.invalid(&key.key("port"), "must name a serial device"));
    }
    let path = match path.strip_prefix(super::serial::TCP_PREFIX) {
        Some(address) => tcp_address(src, &key.key("port"), address)?,
        None => path.to_string(),
    };
    if !BAUD_RANGE.contains(&baud) {
        return Err(src.invalid(&key.key("baud"), "must be 300..=4000000"));
    }
    Ok(PortSpec {
        path,
        baud,
        line_ending,
        timeout: timeout(src, &key.key("timeout_ms"), timeout_ms)?,
        scpi,
    })
}

/// The raw SCPI socket port of LXI instruments.
const SCPI_PORT: u16 = 5025;

/// `HOST[:PORT]` of a `tcp:` port, as `tcp:HOST:PORT` (5025 when no port is given).
fn tcp_address(src: &Source, key: &KeyPath, address: &str) -> Result<String, FileError> {
    let bad = |why: &str| {
        src.invalid(
            key,
            format!("tcp:{address}: {why}; e.g. tcp:192.168.1.50:5025"),
        )
    };
    let (host, port) = match address.rsplit_once(':') {
        // An IPv6 literal is bracketed: tcp:[fe80::1]:5025.
        Some((host, port)) if !host.is_empty() && (!host.contains(':') || host.ends_with(']')) => {
            let port: u16 = port
                .parse()
                .map_err(|_| bad("the port is not a number 1..=65535"))?;
            if port == 0 {
                return Err(bad("the port is not a number 1..=65535"));
            }
            (host, port)
        }
        _ if address.trim().is_empty() => return Err(bad("no host")),
        _ => (address, SCPI_PORT),
    };
    if host.chars().any(char::is_whitespace) {
        return Err(bad("the host has spaces"));
    }
    Ok(format!("{}{host}:{port}", super::serial::TCP_PREFIX))
}

fn timeout(src: &Source, key: &KeyPath, ms: u64) -> Result<Duration, FileError> {
    if ms == 0 || ms > MAX_TIMEOUT_MS {
        return Err(src.invalid(key, format!("must be 1..={MAX_TIMEOUT_MS} ms")));
    }
    Ok(Duration::from_millis(ms))
}

/// One command. `vars` lists every placeholder set the command will be used with, so each expected-reply
/// pattern is compiled once here; a `query` must expect a reply whose capture group 1 is the number. `serial`:
/// whether there is a port for `send` lines, and the default timeout.
fn command(
    src: &Source,
    key: &KeyPath,
    raw: &RawCommand,
    (has_port, default_timeout): (bool, Duration),
    vars: &[Vec<Var<'_>>],
    query: bool,
) -> Result<Command, FileError> {
    let allowed: Vec<&str> = vars
        .first()
        .map(|v| v.iter().map(|(n, _)| *n).collect())
        .unwrap_or_default();
    let run = match (&raw.send, &raw.exec) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(src.invalid(
                key,
                "needs `send` (a line for the serial port) or `exec` (a command line to run), one of them",
            ))
        }
        (Some(send), None) => {
            if send.trim().is_empty() {
                return Err(src.invalid(&key.key("send"), "must not be empty"));
            }
            if send.contains(['\r', '\n']) {
                return Err(src.invalid(
                    &key.key("send"),
                    "must be one line (the line ending is added)",
                ));
            }
            if !has_port {
                return Err(src.invalid(
                    &key.key("send"),
                    "a `send` line needs the controller's serial `port` (or run a program with `exec`)",
                ));
            }
            placeholders(src, &key.key("send"), send, &allowed)?;
            CommandLine::Send(send.clone())
        }
        (None, Some(argv)) => {
            if argv.first().is_none_or(|p| p.trim().is_empty()) {
                return Err(src.invalid(
                    &key.key("exec"),
                    "must name a program first, e.g. [\"uhubctl\", \"-a\", \"off\"]",
                ));
            }
            for arg in argv {
                placeholders(src, &key.key("exec"), arg, &allowed)?;
            }
            CommandLine::Exec(argv.clone())
        }
    };
    let exec = matches!(run, CommandLine::Exec(_));
    if let Some(expect) = &raw.expect {
        placeholders(src, &key.key("expect"), expect, &allowed)?;
        compiles(src, &key.key("expect"), expect, vars, query, exec)?;
    } else if query {
        return Err(src.invalid(
            key,
            "a query needs `expect` with a capture group for the number",
        ));
    }
    let timeout = match raw.timeout_ms {
        Some(ms) => timeout(src, &key.key("timeout_ms"), ms)?,
        None => default_timeout,
    };
    Ok(Command {
        run,
        expect: raw.expect.clone(),
        timeout,
    })
}

fn placeholders(
    src: &Source,
    key: &KeyPath,
    text: &str,
    allowed: &[&str],
) -> Result<(), FileError> {
    match unknown_placeholder(text, allowed) {
        None => Ok(()),
        Some(p) => Err(src.invalid(
            key,
            format!("unknown placeholder {p}; allowed here: {allowed:?}"),
        )),
    }
}

fn compiles(
    src: &Source,
    key: &KeyPath,
    expect: &str,
    vars: &[Vec<Var<'_>>],
    query: bool,
    exec: bool,
) -> Result<(), FileError> {
    for v in vars {
        let re = if exec {
            output_regex(expect, v)
        } else {
            reply_regex(expect, v)
        };
        let re = re.map_err(|e| {
            let first = e
                .to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string();
            src.invalid(key, format!("not a valid regex: {first}"))
        })?;
        if query && re.captures_len() < 2 {
            return Err(src.invalid(key, "needs a capture group `( )` around the number"));
        }
    }
    Ok(())
}
