//! `hil rig`: one rig action on one board, by hand — to check a rig file's wiring before a soak (does `power-off`
//! really switch the right relay, hub port or supply output off?). A failed action is exit 1 with the rig's error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use hil::rig::{Rig, RigControl, SerialRig, Wiring};

#[derive(Args, Debug)]
pub struct RigArgs {
    /// Rig file
    pub rig: PathBuf,
    /// Board name in the rig file
    pub board: String,
    /// What to do
    #[arg(value_enum)]
    pub action: RigAction,
    /// Off time of a power-cycle, ms
    #[arg(long, value_name = "MS", default_value_t = 500)]
    pub off_ms: u64,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RigAction {
    PowerOn,
    PowerOff,
    PowerCycle,
    Boot0High,
    Boot0Low,
    Reset,
    Temperature,
    Current,
}

pub fn run(a: &RigArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let rig = Rig::load(&a.rig)?;
    let spec = rig.board(&a.board).with_context(|| {
        let names: Vec<&str> = rig.boards.iter().map(|b| b.name.as_str()).collect();
        format!(
            "no board {:?} in {} (boards: {})",
            a.board,
            a.rig.display(),
            names.join(", ")
        )
    })?;
    if matches!(spec.wiring, Wiring::Virtual(_)) {
        anyhow::bail!(
            "board {} is a virtual board: its rig lives inside `hil soak` (serve it with `hil vboard serve --rig` to \
             drive it from outside)",
            spec.name
        );
    }
    let serial = SerialRig::open(&rig)?;
    let mut control = serial.control(spec)?;
    let t0 = Instant::now();
    let result = act(control.as_mut(), a);
    let ms = t0.elapsed().as_millis();
    let action = a
        .action
        .to_possible_value()
        .map_or_else(|| format!("{:?}", a.action), |v| v.get_name().to_string());
    if result.is_ok() {
        if let Ok(Some(status)) = control.power_status() {
            writeln!(out, "{status}")?;
        }
    }
    match result {
        Ok(Some(reading)) => writeln!(out, "{}: {action}: {reading} ({ms} ms)", spec.name)?,
        Ok(None) => writeln!(out, "{}: {action}: ok ({ms} ms)", spec.name)?,
        Err(e) => {
            eprintln!(
                "hil: {}: {action}: {} [rig]",
                spec.name,
                hil::runner::chain(&e)
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn act(c: &mut dyn RigControl, a: &RigArgs) -> Result<Option<String>, hil::rig::RigError> {
    Ok(match a.action {
        RigAction::PowerOn => c.power(true).map(|()| None)?,
        RigAction::PowerOff => c.power(false).map(|()| None)?,
        RigAction::PowerCycle => {
            c.power(false)?;
            std::thread::sleep(Duration::from_millis(a.off_ms));
            c.power(true).map(|()| None)?
        }
        RigAction::Boot0High => c.boot0(true).map(|()| None)?,
        RigAction::Boot0Low => c.boot0(false).map(|()| None)?,
        RigAction::Reset => c.reset_pulse().map(|()| None)?,
        RigAction::Temperature => Some(match c.temperature()? {
            Some(t) => format!("{t:.1} °C"),
            None => "the rig measures no temperature".into(),
        }),
        RigAction::Current => Some(match c.supply_current()? {
            Some(a) => format!("{:.1} mA", a * 1e3),
            None => "the rig measures no supply current".into(),
        }),
    })
}
