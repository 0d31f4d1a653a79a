//! Validating the steps of one cycle: per-kind fields, timeouts and retries with their defaults, the order
//! DFU steps need, and whether the rig can do each step for every board under test.

use std::time::Duration;

use super::raw::{Level, RawDefaults, RawImage, RawStep};
use super::spec::{Action, ExecStep, ImageSource, Step, EXEC_PLACEHOLDERS};
use crate::clocks::{MemoryMap, TargetDescription};
use crate::dfu::WRITE_ALIGNMENT;
use crate::image::{Format, Image};
use crate::rig::{BoardSpec, Rig, Wiring};
use tomlfile::{FileError, KeyPath, Source};

const MAX_STEP_MS: u64 = 3_600_000;
const MAX_RETRIES: u32 = 100;

/// Validated steps, with the rig and the boards under test to check capabilities against.
pub(crate) fn steps(
    src: &Source,
    raw: &[RawStep],
    defaults: &RawDefaults,
    rig: &Rig,
    boards: &[&BoardSpec],
) -> Result<Vec<Step>, FileError> {
    let root = KeyPath::root().key("steps");
    if raw.is_empty() {
        return Err(src.invalid(&root, "a cycle needs at least one [[steps]] entry"));
    }
    let mut connected = false;
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let key = root.index(i);
        let step = step(src, &key, r, defaults)?;
        connected = order(src, &key, &step.action, connected)?;
        capable(src, &key, &step.action, rig, boards)?;
        out.push(step);
    }
    Ok(out)
}

fn step(
    src: &Source,
    key: &KeyPath,
    raw: &RawStep,
    defaults: &RawDefaults,
) -> Result<Step, FileError> {
    let action = action(src, key, raw)?;
    let (timeout_ms, retries) = raw.common();
    let timeout_ms = timeout_ms
        .or(defaults.step_timeout_ms)
        .unwrap_or_else(|| default_timeout_ms(&action));
    let timeout_key = key.key("timeout_ms");
    if timeout_ms == 0 || timeout_ms > MAX_STEP_MS {
        return Err(src.invalid(&timeout_key, format!("must be 1..={MAX_STEP_MS} ms")));
    }
    let timeout = Duration::from_millis(timeout_ms);
    let retries = retries.unwrap_or(defaults.step_retries);
    if retries > MAX_RETRIES {
        return Err(src.invalid(&key.key("retries"), format!("must be 0..={MAX_RETRIES}")));
    }
    if let Action::MeasureSysclk { window } | Action::MeasureHsi { window } = action {
        if window >= timeout {
            return Err(src.invalid(
                &key.key("window_ms"),
                "must be shorter than the step's timeout",
            ));
        }
    }
    Ok(Step {
        action,
        timeout,
        retries,
    })
}

fn action(src: &Source, key: &KeyPath, raw: &RawStep) -> Result<Action, FileError> {
    let ms = Duration::from_millis;
    let window = |w: Option<u64>| match w.unwrap_or(100) {
        w @ 1..=10_000 => Ok(ms(w)),
        _ => Err(src.invalid(&key.key("window_ms"), "must be 1..=10000 ms")),
    };
    Ok(match raw {
        RawStep::PowerCycle { off_ms, .. } => match off_ms.unwrap_or(200) {
            off @ 0..=60_000 => Action::PowerCycle { off: ms(off) },
            _ => return Err(src.invalid(&key.key("off_ms"), "must be 0..=60000 ms")),
        },
        RawStep::Boot0 { level, .. } => Action::Boot0 {
            high: *level == Level::High,
        },
        RawStep::Reset { .. } => Action::Reset,
        RawStep::WaitEnumeration { .. } => Action::WaitEnumeration,
        RawStep::DfuConnect { .. } => Action::DfuConnect,
        RawStep::ReadOptionBytes { .. } => Action::ReadOptionBytes,
        RawStep::ReadClocks { .. } => Action::ReadClocks,
        RawStep::MeasureSysclk { window_ms, .. } => Action::MeasureSysclk {
            window: window(*window_ms)?,
        },
        RawStep::MeasureHsi { window_ms, .. } => Action::MeasureHsi {
            window: window(*window_ms)?,
        },
        RawStep::Flash {
            image: img,
            address,
            verify,
            ..
        } => {
            let image = image(src, &key.key("image"), img)?;
            let address = load_address(src, key, &image, *address)?;
            if let Some(address) = address {
                fits(src, key, &image, address)?;
            }
            if let ImageSource::File(path) = &image {
                file_fits(src, &key.key("image").key("path"), path, address)?;
            }
            Action::Flash {
                image,
                address,
                verify: *verify,
            }
        }
        RawStep::Leave { .. } => Action::Leave,
        RawStep::Delay { ms: time, .. } if *time <= MAX_STEP_MS => {
            Action::Delay { time: ms(*time) }
        }
        RawStep::Delay { .. } => {
            return Err(src.invalid(&key.key("ms"), format!("must be 0..={MAX_STEP_MS}")))
        }
        RawStep::Exec {
            command,
            pass,
            fail,
            ..
        } => Action::Exec(exec_step(src, key, command, pass, fail)?),
    })
}

/// The run folder's own files, which only hil writes: an exec step naming one in its command is refused.
const RECORD_FILES: [&str; 5] = [
    "cycles.csv",
    "steps.csv",
    "manifest.json",
    "inputs.json",
    "summary.json",
];

fn exec_step(
    src: &Source,
    key: &KeyPath,
    command: &[String],
    pass: &Option<String>,
    fail: &Option<String>,
) -> Result<ExecStep, FileError> {
    let command_key = key.key("command");
    if command.first().is_none_or(|p| p.trim().is_empty()) {
        return Err(src.invalid(
            &command_key,
            "must name a program first, e.g. [\"dfu-util\", \"-l\"]",
        ));
    }
    for arg in command {
        if let Some(p) = crate::rig::protocol::unknown_placeholder(arg, &EXEC_PLACEHOLDERS) {
            return Err(src.invalid(
                &command_key,
                format!(
                    "unknown placeholder {p}; allowed: {}",
                    EXEC_PLACEHOLDERS.join(", ")
                ),
            ));
        }
        if let Some(file) = RECORD_FILES.iter().find(|f| arg.contains(*f)) {
            return Err(src.invalid(
                &command_key,
                format!(
                    "names {file}, a record file of the run folder that only hil writes; write into {{exec_dir}}"
                ),
            ));
        }
    }
    for (name, pattern) in [("pass", pass), ("fail", fail)] {
        if let Some(p) = pattern {
            if let Err(e) = regex::Regex::new(&format!("(?m){p}")) {
                let why = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                return Err(src.invalid(&key.key(name), format!("not a valid regex: {why}")));
            }
        }
    }
    Ok(ExecStep {
        command: command.to_vec(),
        pass: pass.clone(),
        fail: fail.clone(),
    })
}

fn default_timeout_ms(action: &Action) -> u64 {
    let millis = |d: &Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    match action {
        Action::PowerCycle { off } => 2000 + millis(off),
        Action::Boot0 { .. } | Action::Reset => 1000,
        Action::MeasureSysclk { window } | Action::MeasureHsi { window } => 2000 + millis(window),
        Action::Flash { .. } => 60_000,
        Action::Delay { time } => 1000 + millis(time),
        Action::Exec(_) => 60_000,
        _ => 5000,
    }
}

/// The chip's memory map, from the built-in target description (fixtures/targets/stm32f7.toml).
fn flash() -> MemoryMap {
    TargetDescription::stm32f7().memory
}

fn image(src: &Source, key: &KeyPath, raw: &RawImage) -> Result<ImageSource, FileError> {
    match (raw.generate, &raw.path) {
        (Some(size), None) => {
            let flash_size = flash().flash_size;
            if size == 0 || size > u64::from(flash_size) {
                return Err(src.invalid(
                    &key.key("generate"),
                    format!("must be 1..={flash_size} bytes"),
                ));
            }
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            Ok(ImageSource::Generate {
                size,
                seed: raw.seed.unwrap_or(0),
            })
        }
        (None, Some(_)) if raw.seed.is_some() => {
            Err(src.invalid(&key.key("seed"), "only a generated image has a seed"))
        }
        (None, Some(path)) => {
            let resolved = src.resolve(path);
            if !resolved.is_file() {
                let shown = resolved.display();
                return Err(src.invalid(&key.key("path"), format!("{shown}: no such file")));
            }
            Ok(ImageSource::File(resolved))
        }
        _ => Err(src.invalid(
            key,
            "give exactly one of `generate = BYTES` or `path = \"file\"`",
        )),
    }
}

fn fits(src: &Source, key: &KeyPath, image: &ImageSource, address: u32) -> Result<(), FileError> {
    let m = flash();
    let end = u64::from(m.flash_base) + u64::from(m.flash_size);
    if !(u64::from(m.flash_base)..end).contains(&u64::from(address))
        || !address.is_multiple_of(WRITE_ALIGNMENT)
    {
        return Err(src.invalid(
            &key.key("address"),
            format!(
                "must be 8-byte aligned inside main flash {:#010x}..{end:#010x}",
                m.flash_base
            ),
        ));
    }
    if let ImageSource::Generate { size, .. } = image {
        if u64::from(address) + *size as u64 > end {
            return Err(src.invalid(
                &key.key("image").key("generate"),
                "image does not fit in flash at this address",
            ));
        }
    }
    Ok(())
}

/// Where a flash step's image goes: a generated or raw binary image at `address` (main flash's start by
/// default); a .hex, .elf or .dfu file carries its own addresses, and an `address` for it is an error.
fn load_address(
    src: &Source,
    key: &KeyPath,
    image: &ImageSource,
    address: Option<u32>,
) -> Result<Option<u32>, FileError> {
    let ImageSource::File(path) = image else {
        return Ok(Some(address.unwrap_or(flash().flash_base)));
    };
    let bytes = std::fs::read(path).map_err(|e| {
        src.invalid(
            &key.key("image").key("path"),
            format!("{}: {e}", path.display()),
        )
    })?;
    match Format::detect(path, &bytes) {
        Some(Format::Bin) | None => Ok(Some(address.unwrap_or(flash().flash_base))),
        Some(format) if address.is_some() => Err(src.invalid(
            &key.key("address"),
            format!("a {format} image carries its own addresses: remove `address` (only raw .bin needs one)"),
        )),
        Some(_) => Ok(None),
    }
}

/// A file image is read when the scenario loads: it must parse, and every segment must lie in main flash
/// and start 8-byte aligned, so a bad image is refused before the first cycle rather than failing every one.
fn file_fits(
    src: &Source,
    key: &KeyPath,
    path: &std::path::Path,
    address: Option<u32>,
) -> Result<(), FileError> {
    let image = Image::load(path, address).map_err(|e| src.invalid(key, e.to_string()))?;
    let m = flash();
    let end = u64::from(m.flash_base) + u64::from(m.flash_size);
    for seg in image.segments() {
        let (start, stop) = (
            u64::from(seg.address),
            u64::from(seg.address) + seg.data.len() as u64,
        );
        if start < u64::from(m.flash_base) || stop > end {
            return Err(src.invalid(
                key,
                format!(
                    "{}: {} bytes at {:#010x}..{stop:#010x} do not fit in main flash {:#010x}..{end:#010x}",
                    path.display(),
                    seg.data.len(),
                    seg.address,
                    m.flash_base
                ),
            ));
        }
        if !seg.address.is_multiple_of(WRITE_ALIGNMENT) {
            return Err(src.invalid(
                key,
                format!(
                    "{}: a segment starts at {:#010x}, not 8-byte aligned (the bootloader refuses it)",
                    path.display(),
                    seg.address
                ),
            ));
        }
    }
    Ok(())
}

/// DFU steps need an open DFU session: a `dfu_connect` since the last boot or leave. Returns the new state.
fn order(src: &Source, key: &KeyPath, action: &Action, connected: bool) -> Result<bool, FileError> {
    match action {
        Action::DfuConnect => Ok(true),
        // An exec step releases the board's USB device for its tool.
        Action::PowerCycle { .. } | Action::Reset | Action::Exec(_) => Ok(false),
        Action::ReadOptionBytes | Action::Flash { .. } | Action::Leave if !connected => Err(src
            .invalid(
                &key.key("kind"),
                format!(
                    "`{}` needs a `dfu_connect` step before it (after the last boot or leave)",
                    action.kind()
                ),
            )),
        Action::Leave => Ok(false),
        _ => Ok(connected),
    }
}

/// The rig must be able to do the step for every board under test.
fn capable(
    src: &Source,
    key: &KeyPath,
    action: &Action,
    rig: &Rig,
    boards: &[&BoardSpec],
) -> Result<(), FileError> {
    for board in boards {
        if let Action::Exec(exec) = action {
            exec_capable(src, key, exec, board)?;
        }
        let Wiring::Controller { controller, .. } = &board.wiring else {
            continue;
        };
        let spec = &rig.controllers[controller];
        let missing = match action {
            Action::Boot0 { high: true } => {
                spec.boot0_high.is_none().then_some("commands.boot0_high")
            }
            Action::Boot0 { high: false } => {
                spec.boot0_low.is_none().then_some("commands.boot0_low")
            }
            Action::Reset => spec.reset_pulse.is_none().then_some("commands.reset_pulse"),
            _ => None,
        };
        if let Some(command) = missing {
            let msg = format!(
                "board {} is on controller {controller:?}, which has no {command}",
                board.name
            );
            return Err(src.invalid(&key.key("kind"), msg));
        }
        let probe_step = matches!(
            action,
            Action::ReadClocks | Action::MeasureSysclk { .. } | Action::MeasureHsi { .. }
        );
        if probe_step && board.probe.is_none() {
            let msg = format!(
                "`{}` needs a probe, and board {} has none in the rig file",
                action.kind(),
                board.name
            );
            return Err(src.invalid(&key.key("kind"), msg));
        }
    }
    Ok(())
}

/// An exec step's `{usb_serial}` or `{usb_path}` needs every board under test to have one in the rig file.
fn exec_capable(
    src: &Source,
    key: &KeyPath,
    exec: &ExecStep,
    board: &BoardSpec,
) -> Result<(), FileError> {
    let uses = |name: &str| {
        exec.command
            .iter()
            .any(|a| a.contains(&format!("{{{name}}}")))
    };
    let missing = if uses("usb_serial") && board.usb.serial.is_none() {
        Some(("{usb_serial}", "usb = { serial = \"...\" }"))
    } else if uses("usb_path") && board.usb.path.is_none() {
        Some(("{usb_path}", "usb = { path = \"1-1.2\" }"))
    } else {
        None
    };
    match missing {
        Some((placeholder, wanted)) => Err(src.invalid(
            &key.key("command"),
            format!(
                "uses {placeholder}, and board {} has none in the rig file ({wanted})",
                board.name
            ),
        )),
        None => Ok(()),
    }
}
