//! SCPI instruments over raw TCP (the LXI socket, port 5025 on a real supply; a loopback port here): the real
//! rig code talks to a simulated bench supply and chamber that keeps an error queue, can answer late, and can
//! drop the connection. `*IDN?` when the rig opens, `SYST:ERR?` after every command, the supply current read
//! per channel.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hil::rig::{Rig, RigControl, RigErrorKind, SerialRig};

/// How the simulated instrument misbehaves.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Normal,
    /// Answers queries this late.
    Late(Duration),
    /// Closes the connection after every command it answered or carried out (an instrument that drops idle
    /// sockets).
    DropAfterEach,
    /// Closes the connection on the next query without answering it.
    DropOnQuery,
}

#[derive(Default)]
struct State {
    outputs: [bool; 3],
    queue: VecDeque<String>,
    received: Vec<String>,
    connections: u32,
    setpoint: f64,
}

/// A three-output supply and a chamber on one loopback port.
struct Instrument {
    address: String,
    state: Arc<Mutex<State>>,
    mode: Arc<Mutex<Mode>>,
}

impl Instrument {
    fn start() -> Instrument {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let state = Arc::new(Mutex::new(State {
            setpoint: 25.0,
            ..State::default()
        }));
        let mode = Arc::new(Mutex::new(Mode::Normal));
        let (s, m) = (state.clone(), mode.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                s.lock().unwrap().connections += 1;
                let (s, m) = (s.clone(), m.clone());
                std::thread::spawn(move || serve(conn, &s, &m));
            }
        });
        Instrument {
            address,
            state,
            mode,
        }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

fn serve(conn: TcpStream, state: &Mutex<State>, mode: &Mutex<Mode>) {
    let mut out = conn.try_clone().unwrap();
    for line in BufReader::new(conn).lines() {
        let Ok(line) = line else { return };
        let line = line.trim().to_string();
        let mode = *mode.lock().unwrap();
        let query = line.contains('?');
        if mode == Mode::DropOnQuery && query && line != "SYST:ERR?" && line != "*IDN?" {
            return;
        }
        let reply = answer(&line, &mut state.lock().unwrap());
        if let Some(reply) = reply {
            if let Mode::Late(d) = mode {
                std::thread::sleep(d);
            }
            if out.write_all(format!("{reply}\n").as_bytes()).is_err() {
                return;
            }
        }
        // After the error-queue read that follows every command: the next command finds the socket closed.
        if mode == Mode::DropAfterEach && line == "SYST:ERR?" {
            return;
        }
    }
}

fn answer(line: &str, s: &mut State) -> Option<String> {
    s.received.push(line.to_string());
    let channel = |text: &str| -> Option<usize> {
        let inner = text.split("(@").nth(1)?.strip_suffix(')')?;
        inner.parse::<usize>().ok().filter(|c| (1..=3).contains(c))
    };
    match line {
        "*IDN?" => Some("ACME Instruments,PSU-3303,SN0042,1.2.7".into()),
        "SYST:ERR?" => Some(
            s.queue
                .pop_front()
                .unwrap_or_else(|| "+0,\"No error\"".into()),
        ),
        "MEAS:TEMP?" => Some(format!("{:+.2E}", s.setpoint)),
        l if l.starts_with("SOUR:TEMP ") => {
            s.setpoint = l[10..].trim().parse().unwrap_or(s.setpoint);
            None
        }
        l if l.starts_with("OUTP ") => {
            let on = l.starts_with("OUTP ON,");
            match channel(l) {
                Some(c) => s.outputs[c - 1] = on,
                None => s.queue.push_back("-222,\"Data out of range\"".into()),
            }
            None
        }
        l if l.starts_with("MEAS:CURR? ") => match channel(l) {
            Some(c) => Some(
                if s.outputs[c - 1] {
                    "4.8200E-02"
                } else {
                    "0.0000E+00"
                }
                .into(),
            ),
            None => {
                s.queue.push_back("-222,\"Data out of range\"".into());
                None
            }
        },
        _ => {
            s.queue.push_back("-113,\"Undefined header\"".into());
            None
        }
    }
}

const RIG: &str = r#"name = "lxi"
[controllers.psu]
port = "tcp:ADDRESS"
timeout_ms = 500
scpi = true
[controllers.psu.commands]
power_on = { send = "OUTP ON,(@{channel})" }
power_off = { send = "OUTP OFF,(@{channel})" }
current = { send = "MEAS:CURR? (@{channel})", expect = '([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)' }
[chamber]
port = "tcp:ADDRESS"
timeout_ms = 500
scpi = true
set_point = { send = "SOUR:TEMP {celsius}" }
read = { send = "MEAS:TEMP?", expect = '([-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)' }
[[boards]]
name = "a"
hse_hz = 25_000_000
hse_kind = "oscillator"
usb = { path = "1-1.2" }
channel = CHANNEL
"#;

fn bench(channel: u16) -> (Instrument, SerialRig, Rig) {
    let instrument = Instrument::start();
    let text = RIG
        .replace("ADDRESS", &instrument.address)
        .replace("CHANNEL", &channel.to_string());
    let rig = Rig::from_toml_str(&text, &PathBuf::from("lxi.toml")).unwrap();
    let serial = SerialRig::open(&rig).unwrap();
    (instrument, serial, rig)
}

#[test]
fn the_supply_switches_its_output_and_reads_the_current_and_the_chamber_its_set_point() {
    let (instrument, serial, rig) = bench(2);
    // *IDN? of both, logged when the rig opened.
    assert_eq!(serial.identities.len(), 2);
    assert_eq!(
        serial.identities[0].idn,
        "ACME Instruments,PSU-3303,SN0042,1.2.7"
    );
    let mut control = serial.control(&rig.boards[0]).unwrap();
    control.power(true).unwrap();
    assert!(instrument.state().outputs[1]);
    let amps = control.supply_current().unwrap().unwrap();
    assert!((amps - 0.0482).abs() < 1e-9, "{amps}");
    control.power(false).unwrap();
    assert_eq!(control.supply_current().unwrap(), Some(0.0));
    control.set_temperature(40.0).unwrap();
    assert_eq!(control.temperature().unwrap(), Some(40.0));
    // Every command is followed by a look at the error queue.
    let received = instrument.state().received.clone();
    let commands: Vec<&String> = received.iter().filter(|l| *l != "SYST:ERR?").collect();
    assert_eq!(
        commands,
        [
            "*IDN?",
            "*IDN?",
            "OUTP ON,(@2)",
            "MEAS:CURR? (@2)",
            "OUTP OFF,(@2)",
            "MEAS:CURR? (@2)",
            "SOUR:TEMP 40.0",
            "MEAS:TEMP?"
        ]
    );
    assert_eq!(received.len(), commands.len() * 2);
}

/// A command the instrument rejects puts an entry in its error queue: that entry is the error, naming the
/// command, and the queue is emptied, so the next command is not blamed for it.
#[test]
fn an_entry_in_the_error_queue_fails_the_command_that_caused_it() {
    let (instrument, serial, rig) = bench(7); // the supply has three outputs
    let mut control = serial.control(&rig.boards[0]).unwrap();
    let err = control.power(true).unwrap_err();
    assert_eq!(err.kind(), RigErrorKind::Instrument);
    let text = err.to_string();
    assert!(
        text.contains("-222,\"Data out of range\"") && text.contains("OUTP ON,(@7)"),
        "{text}"
    );
    // A rejected query sends no reply: the queue's entry is reported, not a timeout.
    let t = Instant::now();
    let err = control.supply_current().unwrap_err();
    assert_eq!(err.kind(), RigErrorKind::Instrument, "{err}");
    assert!(t.elapsed() < Duration::from_secs(2));
    assert!(instrument.state().queue.is_empty());
}

#[test]
fn a_reply_later_than_the_timeout_is_a_rig_timeout() {
    let (instrument, serial, rig) = bench(1);
    let mut control = serial.control(&rig.boards[0]).unwrap();
    instrument.set(Mode::Late(Duration::from_millis(900)));
    let err = control.supply_current().unwrap_err();
    assert_eq!(err.kind(), RigErrorKind::Timeout, "{err}");
    assert!(err.to_string().contains("within 500 ms"), "{err}");
}

/// Instruments close idle sockets: a command that finds its connection closed connects again and is sent, not
/// failed; one whose reply never comes because the instrument closed mid-command is a rig I/O failure, and the
/// next command works again.
#[test]
fn a_dropped_connection_is_reopened() {
    let (instrument, serial, rig) = bench(1);
    let mut control = serial.control(&rig.boards[0]).unwrap();
    instrument.set(Mode::DropAfterEach);
    for on in [true, false, true] {
        control.power(on).unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(instrument.state().outputs[0]);
    assert!(instrument.state().connections >= 3, "reconnected each time");
    instrument.set(Mode::DropOnQuery);
    let err = control.supply_current().unwrap_err();
    assert_eq!(err.kind(), RigErrorKind::Io, "{err}");
    assert!(err.to_string().contains("tcp:127.0.0.1:"), "{err}");
    instrument.set(Mode::Normal);
    assert_eq!(control.supply_current().unwrap(), Some(0.0482));
}

#[test]
fn no_instrument_at_the_address_stops_the_rig_from_opening() {
    // A port nobody listens on: bind one, then close it.
    let address = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let text = RIG.replace("ADDRESS", &address).replace("CHANNEL", "1");
    let rig = Rig::from_toml_str(&text, &PathBuf::from("lxi.toml")).unwrap();
    let err = SerialRig::open(&rig).err().expect("nothing listens there");
    assert_eq!(err.kind(), RigErrorKind::Io);
    assert!(err.to_string().contains(&format!("tcp:{address}")), "{err}");
}
