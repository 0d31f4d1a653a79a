//! Validating what only a virtual rig has: fault rates (`[faults]`, and each board's `faults` over them) and
//! the chamber's `time_constant_s`; and refusing them on a real rig, which fails and lags by itself. Every
//! failure names the dotted key it is about.

use std::time::Duration;

use super::raw::{RawChamber, RawFaults, RawRig};
use super::spec::FaultRates;
use tomlfile::{FileError, KeyPath, Source};

/// Longest chamber time constant a rig file may ask for: a day.
const MAX_TIME_CONSTANT_S: f64 = 86_400.0;

/// A virtual board's fault rates: its own `faults` (board `i`) key by key over the rig's `[faults]`.
pub(crate) fn board_faults(
    src: &Source,
    rig: &RawRig,
    i: usize,
    own: Option<&RawFaults>,
) -> Result<FaultRates, FileError> {
    let none = RawFaults::default();
    let rig_key = KeyPath::root().key("faults");
    let shared = rates(src, &rig_key, rig.faults.as_ref().unwrap_or(&none), None)?;
    let Some(own) = own else {
        return Ok(shared);
    };
    let key = KeyPath::root().key("boards").index(i).key("faults");
    rates(src, &key, own, Some(shared))
}

/// The rates of one `faults` table, each falling back to `base` (or 0) when not written.
fn rates(
    src: &Source,
    key: &KeyPath,
    raw: &RawFaults,
    base: Option<FaultRates>,
) -> Result<FaultRates, FileError> {
    let base = base.unwrap_or_default();
    let rate = |name: &str, value: Option<f64>, default: f64| match value {
        Some(r) if (0.0..=1.0).contains(&r) => Ok(r),
        Some(_) => Err(src.invalid(
            &key.key(name),
            "must be a fraction 0.0..=1.0 (a probability per command or read)",
        )),
        None => Ok(default),
    };
    let rates = FaultRates {
        timeout: rate("timeout_rate", raw.timeout_rate, base.timeout)?,
        garbled: rate("garbled_rate", raw.garbled_rate, base.garbled)?,
        relay_stuck: rate("relay_stuck_rate", raw.relay_stuck_rate, base.relay_stuck)?,
        probe_dropout: rate(
            "probe_dropout_rate",
            raw.probe_dropout_rate,
            base.probe_dropout,
        )?,
    };
    let command = rates.timeout + rates.garbled + rates.relay_stuck;
    if command > 1.0 {
        return Err(src.invalid(
            key,
            format!(
                "timeout_rate + garbled_rate + relay_stuck_rate is {command}: a command fails in one way at \
                 most, so they must add up to 1 or less"
            ),
        ));
    }
    Ok(rates)
}

/// The time constant of a virtual rig's chamber; a SCPI instrument's keys are refused here.
pub(crate) fn chamber_time_constant(src: &Source, raw: &RawChamber) -> Result<Duration, FileError> {
    let key = KeyPath::root().key("chamber");
    let scpi = [
        ("port", raw.port.is_some()),
        ("baud", raw.baud.is_some()),
        ("line_ending", raw.line_ending.is_some()),
        ("timeout_ms", raw.timeout_ms.is_some()),
        ("scpi", raw.scpi.is_some()),
        ("set_point", raw.set_point.is_some()),
        ("read", raw.read.is_some()),
    ];
    if let Some((name, _)) = scpi.iter().find(|(_, written)| *written) {
        return Err(src.invalid(
            &key.key(name),
            "a virtual rig's chamber acts on the boards directly: only `time_constant_s` may be set",
        ));
    }
    match raw.time_constant_s {
        None => Ok(Duration::ZERO),
        Some(s) if (0.0..=MAX_TIME_CONSTANT_S).contains(&s) => Ok(Duration::from_secs_f64(s)),
        Some(_) => Err(src.invalid(
            &key.key("time_constant_s"),
            format!(
                "must be 0..={MAX_TIME_CONSTANT_S} s (0: the boards follow the set-point at once)"
            ),
        )),
    }
}

/// A real rig with keys only a virtual rig has.
pub(crate) fn refuse_on_real(src: &Source, raw: &RawRig) -> Result<(), FileError> {
    if raw.faults.is_some() {
        return Err(src.invalid(
            &KeyPath::root().key("faults"),
            "only a virtual rig has [faults]: a real rig fails by itself",
        ));
    }
    let lag = raw.chamber.as_ref().and_then(|c| c.time_constant_s);
    if lag.is_some() {
        return Err(src.invalid(
            &KeyPath::root().key("chamber").key("time_constant_s"),
            "only a virtual rig's chamber has a time constant: a real chamber lags by itself",
        ));
    }
    Ok(())
}
