//! Loading rig files: text → [`RawRig`] → checks → [`Rig`]. Board files named by virtual boards are loaded and
//! validated here too. Every failure is a located [`FileError`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::load_ports;
use super::load_virtual;
use super::raw::{RawBoard, RawRig, RawUsb};
use super::spec::{BoardSpec, ProbeSelector, Rig, VirtualWiring, Wiring};
use crate::transport::Selector;
use tomlfile::{FileError, KeyPath, Source};

impl Rig {
    /// Reads and validates a rig file (and the board files it names).
    pub fn load(path: &Path) -> Result<Rig, FileError> {
        Rig::from_source(&Source::read(path)?)
    }

    /// Parses and validates rig-file text that claims to be at `path` (relative paths resolve from there).
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Rig, FileError> {
        Rig::from_source(&Source::new(text.to_string(), path))
    }

    fn from_source(src: &Source) -> Result<Rig, FileError> {
        let raw: RawRig = src.parse()?;
        let root = KeyPath::root();
        if raw.name.trim().is_empty() {
            return Err(src.invalid(&root.key("name"), "must not be empty"));
        }
        if raw.boards.is_empty() {
            return Err(src.invalid(
                &root.key("boards"),
                "a rig needs at least one [[boards]] entry",
            ));
        }
        let mut boards = raw
            .boards
            .iter()
            .enumerate()
            .map(|(i, b)| board(src, i, b, &raw))
            .collect::<Result<Vec<_>, _>>()?;
        unique(src, &boards)?;
        let controllers = controllers(src, &raw, &boards)?;
        let chamber = chamber(src, &raw, &mut boards)?;
        Ok(Rig {
            name: raw.name,
            description: raw.description,
            path: src.path().to_path_buf(),
            controllers,
            chamber,
            boards,
        })
    }
}

fn board(src: &Source, i: usize, raw: &RawBoard, rig: &RawRig) -> Result<BoardSpec, FileError> {
    let key = KeyPath::root().key("boards").index(i);
    if raw.name.trim().is_empty() {
        return Err(src.invalid(&key.key("name"), "must not be empty"));
    }
    if !(4_000_000..=26_000_000).contains(&raw.hse_hz) || !raw.hse_hz.is_multiple_of(1_000_000) {
        return Err(src.invalid(
            &key.key("hse_hz"),
            "must be a whole number of MHz in 4..=26 MHz (AN2606)",
        ));
    }
    let probe = raw
        .probe
        .as_deref()
        .map(|p| {
            ProbeSelector::parse(p).map_err(|problem| {
                src.invalid(
                    &key.key("probe"),
                    format!("{p:?}: {problem}; expected VID:PID[:SERIAL] in hex, e.g. 0483:374b:066DFF..."),
                )
            })
        })
        .transpose()?;
    let wiring = wiring(src, &key, i, raw, rig)?;
    let usb = usb(src, &key.key("usb"), &raw.usb, &wiring)?;
    if let Wiring::Virtual(v) = &wiring {
        same_hse(src, &key, raw, &v.config)?;
    }
    Ok(BoardSpec {
        name: raw.name.clone(),
        chip: raw.chip.clone(),
        hse_hz: raw.hse_hz,
        hse_kind: raw.hse_kind,
        usb,
        probe,
        wiring,
    })
}

fn wiring(
    src: &Source,
    key: &KeyPath,
    i: usize,
    raw: &RawBoard,
    rig: &RawRig,
) -> Result<Wiring, FileError> {
    match (&raw.board_file, &raw.controller, raw.channel) {
        (Some(file), None, None) => {
            let path = src.resolve(file);
            let config = vboard::BoardConfig::load(&path)
                .map_err(|e| src.referenced(&key.key("board_file"), "board file", &path, e))?;
            let port = u8::try_from(i + 1)
                .map_err(|_| src.invalid(key, "a virtual rig has at most 255 boards"))?;
            let seed = raw.seed.unwrap_or(i as u64 + 1);
            let faults = load_virtual::board_faults(src, rig, i, raw.faults.as_ref())?;
            Ok(Wiring::Virtual(Box::new(VirtualWiring {
                board_file: path,
                config,
                seed,
                port,
                faults,
                // Set from the rig's [chamber] once every board is known to be virtual.
                chamber_time_constant: std::time::Duration::ZERO,
            })))
        }
        (Some(_), _, _) => Err(src.invalid(
            &key.key("board_file"),
            "a virtual board has no `controller` or `channel`",
        )),
        (None, _, None) => Err(src.invalid(
            key,
            "needs `board_file` (virtual board) or `channel` (real board on a rig controller)",
        )),
        (None, named, Some(channel)) => {
            if raw.seed.is_some() {
                return Err(src.invalid(&key.key("seed"), "only virtual boards have a seed"));
            }
            if raw.faults.is_some() {
                return Err(src.invalid(
                    &key.key("faults"),
                    "only virtual boards have `faults`: a real rig fails by itself",
                ));
            }
            let controller = controller_name(src, key, named.as_deref(), rig)?;
            Ok(Wiring::Controller {
                controller,
                channel,
            })
        }
    }
}

fn controller_name(
    src: &Source,
    key: &KeyPath,
    named: Option<&str>,
    rig: &RawRig,
) -> Result<String, FileError> {
    let names: Vec<&String> = rig.controllers.keys().collect();
    match named {
        Some(n) if rig.controllers.contains_key(n) => Ok(n.to_string()),
        Some(n) => Err(src.invalid(
            &key.key("controller"),
            format!("no [controllers.{n}] in this rig (have {names:?})"),
        )),
        None if names.len() == 1 => Ok(names[0].clone()),
        None if names.is_empty() => {
            Err(src.invalid(key, "`channel` needs a [controllers.NAME] table"))
        }
        None => Err(src.invalid(
            key,
            format!("name the rig controller: `controller = ...` (one of {names:?})"),
        )),
    }
}

fn usb(src: &Source, key: &KeyPath, raw: &RawUsb, wiring: &Wiring) -> Result<Selector, FileError> {
    let mut selector = Selector::default();
    if let Some(s) = &raw.vid_pid {
        let parsed = Selector::parse_vid_pid(s)
            .map_err(|e| src.invalid(&key.key("vid_pid"), e.to_string()))?;
        selector.vid_pid = Some(parsed);
    }
    if let Some(p) = &raw.path {
        let parsed =
            Selector::parse_path(p).map_err(|e| src.invalid(&key.key("path"), e.to_string()))?;
        selector.path = Some(parsed);
    }
    if let Some(s) = &raw.serial {
        if s.trim().is_empty() {
            return Err(src.invalid(&key.key("serial"), "must not be empty"));
        }
        selector.serial = Some(s.clone());
    }
    match wiring {
        Wiring::Virtual(v) if selector.path.is_none() => {
            selector.path = Some(format!("0-{}", v.port))
        }
        Wiring::Controller { .. } if selector.path.is_none() && selector.serial.is_none() => {
            return Err(src.invalid(
                key,
                "a real board needs `usb.serial` or `usb.path` to tell it from the others",
            ));
        }
        _ => {}
    }
    Ok(selector)
}

fn same_hse(
    src: &Source,
    key: &KeyPath,
    raw: &RawBoard,
    config: &vboard::BoardConfig,
) -> Result<(), FileError> {
    if config.hse.frequency_hz != raw.hse_hz {
        let file_hz = config.hse.frequency_hz;
        return Err(src.invalid(
            &key.key("hse_hz"),
            format!("{} Hz, but the board file says {file_hz} Hz", raw.hse_hz),
        ));
    }
    let file_kind = match config.hse.kind {
        vboard::HseKind::Crystal => super::HseKind::Crystal,
        vboard::HseKind::Oscillator => super::HseKind::Oscillator,
    };
    if file_kind != raw.hse_kind {
        return Err(src.invalid(
            &key.key("hse_kind"),
            format!("{:?}, but the board file says {file_kind:?}", raw.hse_kind),
        ));
    }
    Ok(())
}

/// Names, USB selectors, probes and controller channels must each pick out one board; virtual and real
/// boards never share a rig.
fn unique(src: &Source, boards: &[BoardSpec]) -> Result<(), FileError> {
    let mut seen: BTreeSet<(&str, String)> = BTreeSet::new();
    let virtual_first = matches!(boards[0].wiring, Wiring::Virtual(_));
    for (i, b) in boards.iter().enumerate() {
        let key = KeyPath::root().key("boards").index(i);
        if matches!(b.wiring, Wiring::Virtual(_)) != virtual_first {
            return Err(src.invalid(&key, "virtual and real boards cannot share a rig"));
        }
        let mut claims = vec![("name", b.name.clone()), ("usb", b.usb.describe())];
        if let Some(p) = b.probe.as_ref().filter(|p| p.serial.is_some()) {
            claims.push(("probe", p.to_string()));
        }
        if let Wiring::Controller {
            controller,
            channel,
        } = &b.wiring
        {
            claims.push(("channel", format!("{controller}/{channel}")));
        }
        for (what, value) in claims {
            if !seen.insert((what, value.clone())) {
                let field = if what == "usb" {
                    key.key("usb")
                } else {
                    key.key(what)
                };
                return Err(src.invalid(
                    &field,
                    format!("{value} is already used by an earlier board"),
                ));
            }
        }
    }
    Ok(())
}

/// A real rig's SCPI chamber; a virtual rig has none, and its `[chamber]` only sets how slowly its boards
/// follow a set-point.
fn chamber(
    src: &Source,
    raw: &RawRig,
    boards: &mut [BoardSpec],
) -> Result<Option<super::ChamberSpec>, FileError> {
    let virtual_wirings: Vec<&mut VirtualWiring> = boards
        .iter_mut()
        .filter_map(|b| match &mut b.wiring {
            Wiring::Virtual(w) => Some(w.as_mut()),
            Wiring::Controller { .. } => None,
        })
        .collect();
    if virtual_wirings.is_empty() {
        load_virtual::refuse_on_real(src, raw)?;
        return raw
            .chamber
            .as_ref()
            .map(|c| load_ports::chamber(src, c))
            .transpose();
    }
    if let Some(c) = &raw.chamber {
        let time_constant = load_virtual::chamber_time_constant(src, c)?;
        for w in virtual_wirings {
            w.chamber_time_constant = time_constant;
        }
    }
    Ok(None)
}

fn controllers(
    src: &Source,
    raw: &RawRig,
    boards: &[BoardSpec],
) -> Result<BTreeMap<String, super::ControllerSpec>, FileError> {
    let mut out = BTreeMap::new();
    for (name, c) in &raw.controllers {
        let channels: Vec<u16> = boards
            .iter()
            .filter_map(|b| match &b.wiring {
                Wiring::Controller {
                    controller,
                    channel,
                } if controller == name => Some(*channel),
                _ => None,
            })
            .collect();
        let key = KeyPath::root().key("controllers").key(name);
        out.insert(
            name.clone(),
            load_ports::controller(src, &key, c, &channels)?,
        );
    }
    Ok(out)
}
