//! The real rig backend: opens each rig controller's serial port and the chamber once, and hands out one
//! [`SerialControl`] per board that speaks the rig file's line protocol on that board's channel, or runs its
//! `exec` command lines ([`super::exec`]). Must not touch USB or probes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use regex::Regex;

use super::error::RigError;
use super::exec;
use super::hub::{HubControl, HubPort};
use super::protocol::{check_reply, output_regex, render, reply_regex, Var};
use super::serial::SerialLine;
use super::spec::{BoardSpec, Command, CommandLine, PowerSwitch, Rig, Wiring};
use super::RigControl;

/// One controller (or the chamber) as its boards share it: its serial line, `None` when all its commands are
/// `exec`s. Its lock is held for the whole of each command, whatever runs it, so a controller runs one command at
/// a time: boards power-cycle at the same moment, and four `ykushcmd` or `usbrelay` processes at once on one HID
/// device fail with "device busy".
type Link = Arc<Mutex<Option<SerialLine>>>;

/// The open ports of a real rig.
pub struct SerialRig {
    controllers: BTreeMap<String, (Link, super::ControllerSpec)>,
    chamber: Option<(Link, super::ChamberSpec)>,
    /// Each SCPI instrument's `*IDN?` answer, for the run folder's manifest.
    pub identities: Vec<records::Instrument>,
}

impl SerialRig {
    /// Opens every controller port and the chamber port named in `rig`, and asks each SCPI instrument who it
    /// is (`*IDN?`, logged on stderr), so a wrong address or a mute instrument stops the run before it starts.
    pub fn open(rig: &Rig) -> Result<SerialRig, RigError> {
        let mut identities = Vec::new();
        let mut open = |name: &str, port: &super::PortSpec| -> Result<SerialLine, RigError> {
            let mut line = SerialLine::open(port)?;
            if line.scpi() {
                let idn = line.identify()?;
                line.check_errors("*IDN?")?;
                eprintln!("hil: rig instrument {name} ({}): *IDN? {idn}", port.path);
                identities.push(records::Instrument {
                    name: name.to_string(),
                    port: port.path.clone(),
                    idn,
                });
            }
            Ok(line)
        };
        let mut controllers = BTreeMap::new();
        for (name, spec) in &rig.controllers {
            let line = match &spec.port {
                Some(port) => Some(open(name, port)?),
                None => None,
            };
            controllers.insert(name.clone(), (Arc::new(Mutex::new(line)), spec.clone()));
        }
        let chamber = match &rig.chamber {
            Some(spec) => Some((
                Arc::new(Mutex::new(Some(open("chamber", &spec.port)?))),
                spec.clone(),
            )),
            None => None,
        };
        Ok(SerialRig {
            controllers,
            chamber,
            identities,
        })
    }

    /// The rig control of `board` (a board wired to one of this rig's controllers): its controller's commands,
    /// or its hub port.
    pub fn control(&self, board: &BoardSpec) -> Result<Box<dyn RigControl>, RigError> {
        let Wiring::Controller {
            controller,
            channel,
        } = &board.wiring
        else {
            return Err(RigError::NotConfigured {
                action: "drive a virtual board over a serial port",
            });
        };
        let (link, spec) = self
            .controllers
            .get(controller)
            .ok_or(RigError::NotConfigured {
                action: "reach this board's controller",
            })?;
        let (on, off) = match &spec.power {
            PowerSwitch::Commands { on, off } => (on, off),
            PowerSwitch::HubPort { hub, timeout } => {
                let port = u8::try_from(*channel).map_err(|_| RigError::Hub {
                    hub: hub.clone(),
                    port: 0,
                    why: format!("channel {channel} is not a hub port (1..=255)"),
                })?;
                return Ok(Box::new(HubControl::new(HubPort::open(
                    hub, port, *timeout,
                )?)));
            }
        };
        let vars = [("channel", channel.to_string())];
        let prep = |c: &Command| Prepared::new(c, &vars);
        let opt = |c: &Option<Command>| c.as_ref().map(prep).transpose();
        let chamber = match &self.chamber {
            Some((line, spec)) => Some((
                line.clone(),
                spec.set_point.clone(),
                Prepared::new(&spec.read, &[])?,
            )),
            None => None,
        };
        Ok(Box::new(SerialControl {
            link: link.clone(),
            power_on: prep(on)?,
            power_off: prep(off)?,
            boot0_high: opt(&spec.boot0_high)?,
            boot0_low: opt(&spec.boot0_low)?,
            reset_pulse: opt(&spec.reset_pulse)?,
            temperature: opt(&spec.temperature)?,
            current: opt(&spec.current)?,
            chamber,
        }))
    }
}

/// 0 K in °C: no chamber reads below it.
const ABSOLUTE_ZERO_C: f64 = -273.15;

/// A command with its placeholders filled in and its reply pattern compiled.
#[derive(Debug, Clone)]
struct Prepared {
    run: Filled,
    expect: Option<(String, Regex)>,
    timeout: Duration,
}

/// A [`CommandLine`] with its placeholders filled in.
#[derive(Debug, Clone)]
enum Filled {
    Send(String),
    Exec(Vec<String>),
}

impl Prepared {
    fn new(command: &Command, vars: &[Var<'_>]) -> Result<Prepared, RigError> {
        let exec = matches!(command.run, CommandLine::Exec(_));
        let expect = match &command.expect {
            Some(pattern) => {
                let re = if exec {
                    output_regex(pattern, vars)
                } else {
                    reply_regex(pattern, vars)
                };
                let re = re.map_err(|source| RigError::BadPattern {
                    pattern: pattern.clone(),
                    source,
                })?;
                Some((render(pattern, vars), re))
            }
            None => None,
        };
        let run = match &command.run {
            CommandLine::Send(line) => Filled::Send(render(line, vars)),
            CommandLine::Exec(argv) => Filled::Exec(argv.iter().map(|a| render(a, vars)).collect()),
        };
        Ok(Prepared {
            run,
            expect,
            timeout: command.timeout,
        })
    }

    /// Sends the line and judges the reply, or runs the command line and judges its exit and output;
    /// `Ok(Some(x))` when the reply carries a number.
    fn run(&self, link: &Link) -> Result<Option<f64>, RigError> {
        self.run_checked(link, |_| true, "")
    }

    /// As [`Prepared::run`], for a temperature reading: a value below absolute zero is a garbled reply, not a
    /// reading to record.
    fn run_temperature(&self, link: &Link) -> Result<Option<f64>, RigError> {
        self.run_checked(
            link,
            |celsius| celsius >= ABSOLUTE_ZERO_C,
            " with a temperature at or above absolute zero (-273.15 °C)",
        )
    }

    fn run_checked(
        &self,
        link: &Link,
        physical: impl Fn(f64) -> bool,
        requirement: &str,
    ) -> Result<Option<f64>, RigError> {
        let judge = |got: &str| match &self.expect {
            None => Ok(None),
            Some((_, pattern)) => match check_reply(pattern, got) {
                Ok(value) if value.is_none_or(&physical) => Ok(value),
                _ => Err(()),
            },
        };
        let expected = || {
            let e = self.expect.as_ref().map_or("", |(e, _)| e.as_str());
            format!("{e}{requirement}")
        };
        // Held until the command is done, an exec's too: one command at a time per controller.
        let mut turn = link.lock().unwrap_or_else(|e| e.into_inner());
        let argv = match &self.run {
            Filled::Exec(argv) => argv,
            Filled::Send(send) => {
                let line = turn.as_mut().ok_or(RigError::NotConfigured {
                    action: "send a line without a serial port",
                })?;
                line.send(send)?;
                let got = self
                    .expect
                    .as_ref()
                    .map(|_| line.read_line(send, self.timeout));
                // A SCPI instrument that rejected the command says why in its error queue (and sends no
                // reply to a rejected query): that is the error to report, not the missing reply.
                if line.scpi() {
                    match (line.check_errors(send), &got) {
                        (Err(e @ RigError::Instrument { .. }), _) => return Err(e),
                        // The command's own failure (no reply) is the one to report, not the queue's read.
                        (Err(_), Some(Err(_))) | (Ok(()), _) => {}
                        (Err(e), _) => return Err(e),
                    }
                }
                let Some(got) = got.transpose()? else {
                    return Ok(None);
                };
                return judge(&got).map_err(|()| RigError::Garbled {
                    port: line.name().to_string(),
                    command: send.clone(),
                    got,
                    expected: expected(),
                });
            }
        };
        let command = exec::display(argv);
        let done = exec::run(argv, self.timeout, None).map_err(|e| match e {
            exec::ExecError::Timeout { waited, partial } => RigError::ExecTimeout {
                command: command.clone(),
                waited_ms: waited.as_millis() as u64,
                stdout: partial.stdout,
            },
            other => RigError::Exec {
                command: command.clone(),
                why: other.to_string(),
            },
        })?;
        if !done.success() {
            let said = if done.stderr.trim().is_empty() {
                &done.stdout
            } else {
                &done.stderr
            };
            return Err(RigError::Exec {
                why: format!("{}{}", done.status(), super::error::output_tail(said)),
                command,
            });
        }
        judge(&done.stdout).map_err(|()| RigError::ExecGarbled {
            command,
            stdout: done.stdout,
            expected: expected(),
        })
    }
}

/// One board's rig control over the serial line protocol.
pub struct SerialControl {
    /// The controller: its serial port (`None` when all its commands are `exec`s).
    link: Link,
    power_on: Prepared,
    power_off: Prepared,
    boot0_high: Option<Prepared>,
    boot0_low: Option<Prepared>,
    reset_pulse: Option<Prepared>,
    temperature: Option<Prepared>,
    current: Option<Prepared>,
    /// Chamber port, set-point command (templated on `{celsius}`), read command.
    chamber: Option<(Link, Command, Prepared)>,
}

impl SerialControl {
    fn optional(&self, command: &Option<Prepared>, action: &'static str) -> Result<(), RigError> {
        let command = command.as_ref().ok_or(RigError::NotConfigured { action })?;
        command.run(&self.link).map(|_| ())
    }
}

impl RigControl for SerialControl {
    fn power(&mut self, on: bool) -> Result<(), RigError> {
        let command = if on { &self.power_on } else { &self.power_off };
        command.run(&self.link).map(|_| ())
    }

    fn boot0(&mut self, high: bool) -> Result<(), RigError> {
        if high {
            self.optional(&self.boot0_high, "drive BOOT0 high")
        } else {
            self.optional(&self.boot0_low, "drive BOOT0 low")
        }
    }

    fn reset_pulse(&mut self) -> Result<(), RigError> {
        self.optional(&self.reset_pulse, "pulse NRST")
    }

    fn temperature(&mut self) -> Result<Option<f64>, RigError> {
        match (&self.temperature, &self.chamber) {
            (Some(query), _) => query.run_temperature(&self.link),
            (None, Some((link, _, read))) => read.run_temperature(link),
            (None, None) => Ok(None),
        }
    }

    fn supply_current(&mut self) -> Result<Option<f64>, RigError> {
        match &self.current {
            Some(query) => query.run(&self.link),
            None => Ok(None),
        }
    }

    fn set_temperature(&mut self, celsius: f64) -> Result<(), RigError> {
        let (link, set_point, _) = self.chamber.as_ref().ok_or(RigError::NotConfigured {
            action: "set a chamber temperature",
        })?;
        let vars = [("celsius", format!("{celsius:.1}"))];
        Prepared::new(set_point, &vars)?.run(link).map(|_| ())
    }
}
