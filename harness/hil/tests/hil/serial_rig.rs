//! The serial rig backend over a pseudo-terminal pair: the real serialport code talks to a simulated rig
//! controller (and chamber) answering on the master side, which can be told to go silent or send garbage.

use std::fs::File;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;

use hil::rig::{Rig, RigControl, RigError, RigErrorKind, SerialRig};
use nix::pty::openpty;
use proptest::prelude::*;

/// How the simulated instrument answers.
#[derive(Clone, PartialEq)]
enum Mode {
    Normal,
    Silent,
    Garbage,
    BadNumber,
    BelowAbsoluteZero,
    /// These bytes as the whole reply, line ending (if any) included.
    Raw(Vec<u8>),
}

/// One simulated instrument on the master side of a pty; keeps the slave open so the master never sees EIO.
struct Sim {
    path: PathBuf,
    mode: Arc<Mutex<Mode>>,
    received: Arc<Mutex<Vec<String>>>,
    _slave: std::os::fd::OwnedFd,
}

impl Sim {
    fn start(answer: fn(&str) -> String) -> Sim {
        let pty = openpty(None, None).expect("openpty");
        let path = nix::unistd::ttyname(&pty.slave).expect("ttyname");
        let mode = Arc::new(Mutex::new(Mode::Normal));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (m, r) = (mode.clone(), received.clone());
        let master = File::from(pty.master);
        thread::spawn(move || serve(master, answer, m, r));
        Sim {
            path,
            mode,
            received,
            _slave: pty.slave,
        }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }
}

/// Reads CR/LF-ended lines until the pty closes and answers each per `mode`.
fn serve(
    mut master: File,
    answer: fn(&str) -> String,
    mode: Arc<Mutex<Mode>>,
    log: Arc<Mutex<Vec<String>>>,
) {
    let mut pending = Vec::new();
    let mut buf = [0u8; 256];
    while let Ok(n @ 1..) = master.read(&mut buf) {
        pending.extend_from_slice(&buf[..n]);
        while let Some(end) = pending.iter().position(|&b| b == b'\n' || b == b'\r') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line).trim().to_string();
            if line.is_empty() {
                continue;
            }
            log.lock().unwrap().push(line.clone());
            let reply = match &*mode.lock().unwrap() {
                Mode::Normal => format!("{}\r\n", answer(&line)).into_bytes(),
                Mode::Silent => continue,
                Mode::Garbage => b"#@!~\r\n".to_vec(),
                Mode::BadNumber => b"TEMP 3 hot\r\n".to_vec(),
                Mode::BelowAbsoluteZero => b"TEMP 3 -300.0\r\n".to_vec(),
                Mode::Raw(bytes) => bytes.clone(),
            };
            if master.write_all(&reply).is_err() {
                return;
            }
        }
    }
}

/// A relay controller: acknowledges `PWR n ON|OFF`, `BOOT0 n 1|0`, `RST n ms`; `TEMP n?` reads 24.5 °C.
fn controller(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    match words.as_slice() {
        ["PWR", ch, state] => format!("OK PWR {ch} {state}"),
        ["BOOT0", ch, level] => format!("OK BOOT0 {ch} {level}"),
        ["RST", ch, _ms] => format!("OK RST {ch}"),
        ["TEMP", ch] => format!("TEMP {} 24.5", ch.trim_end_matches('?')),
        _ => "ERR".to_string(),
    }
}

/// A SCPI chamber: `SOUR:TEMP x;*OPC?` answers 1, `MEAS:TEMP?` answers +2.950E+01.
fn chamber(line: &str) -> String {
    if line.starts_with("SOUR:TEMP ") {
        "1"
    } else {
        "+2.950E+01"
    }
    .to_string()
}

const RIG: &str = r#"
name = "pty"
[controllers.relays]
port = "CONTROLLER"
line_ending = "crlf"
timeout_ms = 300
[controllers.relays.commands]
power_on = { send = "PWR {channel} ON", expect = "OK PWR {channel} ON" }
power_off = { send = "PWR {channel} OFF", expect = "OK PWR {channel} OFF" }
boot0_high = { send = "BOOT0 {channel} 1", expect = "OK BOOT0 {channel} 1" }
boot0_low = { send = "BOOT0 {channel} 0", expect = "OK BOOT0 {channel} 0" }
reset_pulse = { send = "RST {channel} 20", expect = "OK RST {channel}" }
temperature = { send = "TEMP {channel}?", expect = 'TEMP {channel} (-?[0-9.]+)' }
[chamber]
port = "CHAMBER"
timeout_ms = 300
set_point = { send = "SOUR:TEMP {celsius};*OPC?", expect = "1" }
read = { send = "MEAS:TEMP?", expect = '([-+0-9.eE]+)' }
[[boards]]
name = "a"
hse_hz = 25_000_000
hse_kind = "oscillator"
usb = { serial = "S1" }
channel = 3
"#;

/// A simulated controller and chamber, and board `a`'s rig control talking to them.
fn bench() -> (Sim, Sim, impl RigControl) {
    let (relays, oven) = (Sim::start(controller), Sim::start(chamber));
    let text = RIG
        .replace("CONTROLLER", &relays.path.display().to_string())
        .replace("CHAMBER", &oven.path.display().to_string());
    let rig = Rig::from_toml_str(&text, &PathBuf::from("pty.toml")).unwrap();
    let serial = SerialRig::open(&rig).unwrap();
    let control = serial.control(&rig.boards[0]).unwrap();
    (relays, oven, control)
}

#[test]
fn every_command_round_trips() {
    let (relays, _oven, mut rig) = bench();
    rig.power(false).unwrap();
    rig.boot0(true).unwrap();
    rig.power(true).unwrap();
    rig.boot0(false).unwrap();
    rig.reset_pulse().unwrap();
    assert_eq!(rig.temperature().unwrap(), Some(24.5));
    assert_eq!(
        relays.received(),
        [
            "PWR 3 OFF",
            "BOOT0 3 1",
            "PWR 3 ON",
            "BOOT0 3 0",
            "RST 3 20",
            "TEMP 3?"
        ]
    );
}

#[test]
fn chamber_set_point_is_sent_and_acknowledged() {
    let (_relays, oven, mut rig) = bench();
    rig.set_temperature(35.0).unwrap();
    assert_eq!(oven.received(), ["SOUR:TEMP 35.0;*OPC?"]);
}

#[test]
fn silence_is_a_timeout() {
    let (relays, _oven, mut rig) = bench();
    relays.set(Mode::Silent);
    let err = rig.power(true).unwrap_err();
    assert_eq!(err.kind(), RigErrorKind::Timeout);
    assert!(
        matches!(&err, RigError::Timeout { command, waited_ms: 300, .. } if command == "PWR 3 ON"),
        "{err:?}"
    );
    relays.set(Mode::Normal);
    rig.power(true)
        .expect("the rig recovers once the controller answers again");
}

#[test]
fn garbage_is_garbled_with_what_was_expected() {
    let (relays, _oven, mut rig) = bench();
    relays.set(Mode::Garbage);
    let err = rig.reset_pulse().unwrap_err();
    assert_eq!(err.kind(), RigErrorKind::Garbled);
    match err {
        RigError::Garbled {
            got,
            expected,
            command,
            ..
        } => {
            assert_eq!(
                (got.as_str(), expected.as_str(), command.as_str()),
                ("#@!~", "OK RST 3", "RST 3 20")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_temperature_that_is_not_a_number_is_garbled() {
    let (relays, _oven, mut rig) = bench();
    relays.set(Mode::BadNumber);
    let err = rig.temperature().unwrap_err();
    assert!(
        matches!(&err, RigError::Garbled { got, .. } if got == "TEMP 3 hot"),
        "{err:?}"
    );
}

#[test]
fn a_temperature_below_absolute_zero_is_garbled_not_recorded() {
    let (relays, _oven, mut rig) = bench();
    relays.set(Mode::BelowAbsoluteZero);
    let err = rig.temperature().unwrap_err();
    assert_eq!(err.kind(), RigErrorKind::Garbled);
    assert!(err.to_string().contains("absolute zero"), "{err}");
}

#[test]
fn a_missing_port_is_an_io_error() {
    let text = RIG
        .replace("CONTROLLER", "/dev/no-such-rig-controller")
        .replace("CHAMBER", "/dev/null");
    let rig = Rig::from_toml_str(&text, &PathBuf::from("pty.toml")).unwrap();
    let err = SerialRig::open(&rig).err().expect("open must fail");
    assert_eq!(err.kind(), RigErrorKind::Io);
}

/// Replies a controller or chamber may send: any bytes ended by CR LF, the expected words with junk or a
/// number of any length, and a stream with no line ending longer than the line buffer.
fn reply_bytes() -> impl Strategy<Value = Vec<u8>> {
    let ended = |mut b: Vec<u8>| {
        b.extend_from_slice(b"\r\n");
        b
    };
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..300).prop_map(ended),
        3 => ("(TEMP 3 |OK PWR 3 |OK RST 3|\\+)?", "[-+0-9.eE]{0,40}|\\PC{0,20}")
            .prop_map(move |(a, b)| ended(format!("{a}{b}").into_bytes())),
        1 => (any::<u8>(), 4097..6000usize).prop_map(|(b, n)| vec![b | 0x40; n]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the controller and the chamber answer, a command is acknowledged, read as a finite number,
    /// or a rig error of its kind (timeout, garbled, I/O) — never a panic or a hang.
    #[test]
    fn any_reply_is_an_answer_or_a_rig_error(reply in reply_bytes()) {
        let (relays, oven, mut rig) = bench();
        relays.set(Mode::Raw(reply.clone()));
        oven.set(Mode::Raw(reply));
        let rig_error = |e: &RigError| {
            matches!(e.kind(), RigErrorKind::Timeout | RigErrorKind::Garbled | RigErrorKind::Io)
        };
        match rig.temperature() {
            Ok(Some(x)) => prop_assert!(x.is_finite(), "read {x}"),
            Ok(None) => {}
            Err(e) => prop_assert!(rig_error(&e), "{e:?}"),
        }
        if let Err(e) = rig.power(true) {
            prop_assert!(rig_error(&e), "{e:?}");
        }
        if let Err(e) = rig.set_temperature(30.0) {
            prop_assert!(rig_error(&e), "{e:?}");
        }
    }
}
