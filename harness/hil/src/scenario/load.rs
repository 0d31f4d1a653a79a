//! Loading scenario files: text → [`RawScenario`] → checks → [`Scenario`], loading the rig file it names
//! (relative to the scenario file). Every failure is a located [`FileError`].

use std::path::Path;
use std::time::Duration;

use super::raw::{RawBoards, RawPass, RawPhase, RawScenario, RawStop};
use super::spec::{CycleRetry, Phase, PhaseLength, Scenario, StopRules};
use super::steps;
use crate::rig::Rig;
use records::Thresholds as PassThresholds;
use tomlfile::{FileError, KeyPath, Source};

/// Longest phase or run a scenario may ask for: 30 days.
const MAX_SECONDS: u64 = 30 * 24 * 3600;
/// A chamber set-point outside this is a typo, not a test.
const TEMPERATURE_RANGE: std::ops::RangeInclusive<f64> = -40.0..=125.0;

impl Scenario {
    /// Reads and validates a scenario file and the rig file it names.
    pub fn load(path: &Path) -> Result<Scenario, FileError> {
        Scenario::from_source(&Source::read(path)?)
    }

    /// Parses and validates scenario text that claims to be at `path` (relative paths resolve from there).
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Scenario, FileError> {
        Scenario::from_source(&Source::new(text.to_string(), path))
    }

    fn from_source(src: &Source) -> Result<Scenario, FileError> {
        let raw: RawScenario = src.parse()?;
        let root = KeyPath::root();
        if raw.name.trim().is_empty() {
            return Err(src.invalid(&root.key("name"), "must not be empty"));
        }
        let rig_path = src.resolve(&raw.rig);
        let rig = Rig::load(&rig_path)
            .map_err(|e| src.referenced(&root.key("rig"), "rig file", &rig_path, e))?;
        let boards = boards(src, &raw.boards, &rig)?;
        let chosen: Vec<_> = boards.iter().map(|&i| &rig.boards[i]).collect();
        let cycle = steps::steps(src, &raw.steps, &raw.defaults, &rig, &chosen)?;
        let phases = phases(src, &raw.phases, &rig)?;
        Ok(Scenario {
            name: raw.name,
            description: raw.description,
            path: src.path().to_path_buf(),
            boards,
            seed: raw.seed,
            phases,
            cycle,
            retry: CycleRetry {
                attempts: retry_attempts(src, raw.retry.cycle_attempts)?,
                on: raw.retry.on,
            },
            stop: stop(src, &raw.stop)?,
            pass: pass(src, &raw.pass)?,
            rig,
        })
    }
}

fn boards(src: &Source, raw: &RawBoards, rig: &Rig) -> Result<Vec<usize>, FileError> {
    let key = KeyPath::root().key("boards");
    let names = match raw {
        RawBoards::All => return Ok((0..rig.boards.len()).collect()),
        RawBoards::Named(names) if names.is_empty() => {
            return Err(src.invalid(&key, "list at least one board, or write \"all\""))
        }
        RawBoards::Named(names) => names,
    };
    let mut chosen: Vec<usize> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let index = rig
            .boards
            .iter()
            .position(|b| &b.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = rig.boards.iter().map(|b| b.name.as_str()).collect();
                src.invalid(
                    &key.index(i),
                    format!("no board {name:?} in rig {:?} (have {known:?})", rig.name),
                )
            })?;
        if chosen.contains(&index) {
            return Err(src.invalid(&key.index(i), format!("board {name:?} is listed twice")));
        }
        chosen.push(index);
    }
    chosen.sort_unstable();
    Ok(chosen)
}

fn phases(src: &Source, raw: &[RawPhase], rig: &Rig) -> Result<Vec<Phase>, FileError> {
    let root = KeyPath::root().key("phases");
    if raw.is_empty() {
        return Err(src.invalid(&root, "a scenario needs at least one [[phases]] entry"));
    }
    raw.iter()
        .enumerate()
        .map(|(i, p)| phase(src, &root.index(i), p, rig))
        .collect()
}

fn phase(src: &Source, key: &KeyPath, raw: &RawPhase, rig: &Rig) -> Result<Phase, FileError> {
    if raw.name.trim().is_empty() {
        return Err(src.invalid(&key.key("name"), "must not be empty"));
    }
    let length = match (raw.cycles, raw.duration_s) {
        (Some(n @ 1..), None) => PhaseLength::Cycles(n),
        (Some(_), None) => return Err(src.invalid(&key.key("cycles"), "must be at least 1")),
        (None, Some(s @ 1..=MAX_SECONDS)) => PhaseLength::Duration(Duration::from_secs(s)),
        (None, Some(_)) => {
            return Err(src.invalid(
                &key.key("duration_s"),
                format!("must be 1..={MAX_SECONDS} s"),
            ))
        }
        _ => return Err(src.invalid(key, "give exactly one of `cycles` or `duration_s`")),
    };
    if let Some(t) = raw.temperature_c {
        if !TEMPERATURE_RANGE.contains(&t) {
            return Err(src.invalid(&key.key("temperature_c"), "must be -40..=125 °C"));
        }
        if !rig.is_virtual() && rig.chamber.is_none() {
            let msg = format!(
                "rig {:?} has no [chamber] to set a temperature with",
                rig.name
            );
            return Err(src.invalid(&key.key("temperature_c"), msg));
        }
    }
    if raw.settle_s > MAX_SECONDS {
        return Err(src.invalid(&key.key("settle_s"), format!("must be 0..={MAX_SECONDS} s")));
    }
    Ok(Phase {
        name: raw.name.clone(),
        length,
        temperature_c: raw.temperature_c,
        settle: Duration::from_secs(raw.settle_s),
    })
}

fn retry_attempts(src: &Source, attempts: u32) -> Result<u32, FileError> {
    match attempts {
        0..=10 => Ok(attempts),
        _ => Err(src.invalid(
            &KeyPath::root().key("retry").key("cycle_attempts"),
            "must be 0..=10",
        )),
    }
}

fn stop(src: &Source, raw: &RawStop) -> Result<StopRules, FileError> {
    let key = KeyPath::root().key("stop");
    let positive = |name: &str, v: Option<u64>| match v {
        Some(0) => Err(src.invalid(
            &key.key(name),
            "must be at least 1 (leave it out for no limit)",
        )),
        other => Ok(other),
    };
    let seconds = positive("max_duration_s", raw.max_duration_s)?;
    if seconds.is_some_and(|s| s > MAX_SECONDS) {
        return Err(src.invalid(
            &key.key("max_duration_s"),
            format!("must be at most {MAX_SECONDS} s"),
        ));
    }
    Ok(StopRules {
        max_failures: positive("max_failures", raw.max_failures)?,
        max_consecutive_failures: positive(
            "max_consecutive_failures",
            raw.max_consecutive_failures,
        )?,
        max_duration: seconds.map(Duration::from_secs),
    })
}

fn pass(src: &Source, raw: &RawPass) -> Result<PassThresholds, FileError> {
    if !(0.0..=1.0).contains(&raw.max_failure_rate) {
        let key = KeyPath::root().key("pass").key("max_failure_rate");
        return Err(src.invalid(&key, "must be a fraction 0.0..=1.0 (0.01 = 1 %)"));
    }
    Ok(PassThresholds {
        max_failure_rate: raw.max_failure_rate,
        max_failures_per_board: raw.max_failures_per_board,
    })
}
