//! Exec rig commands: a controller whose commands are command lines (uhubctl, labgrid-client, a PDU's CLI). A
//! shell script stands in for uhubctl here: it logs its arguments, keeps the port states in a file and prints
//! what uhubctl prints. Failures are rig failures with the command named: a non-zero exit, a timeout (the whole
//! process group killed), output that does not match, and a program that does not exist.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hil::rig::{Rig, RigControl, RigErrorKind, SerialRig};

/// A stand-in for `uhubctl -a on|off -l LOCATION -p PORT`: appends its arguments to `$DIR/calls`, keeps each
/// port's state in `$DIR/port-N` and prints uhubctl's report of the port. Like a real hub's HID device, it
/// serves one caller at a time ("device busy"). `FAIL=1` in `$DIR/mode` exits 1 with
/// uhubctl's error; `HANG` sleeps (with a child) for ever; `JUNK` prints something else.
const FAKE_UHUBCTL: &str = r#"#!/bin/sh
dir=$(dirname "$0")
echo "$*" >> "$dir/calls"
mode=$(cat "$dir/mode" 2>/dev/null)
# One caller at a time, as the HID device of a real hub or relay board allows ("device busy" otherwise).
mkdir "$dir/busy" 2>/dev/null || { echo "device busy" >&2; exit 1; }
trap 'rmdir "$dir/busy"' EXIT
case "$mode" in
  FAIL) echo "No compatible devices detected!" >&2; exit 1 ;;
  HANG) sleep 60 & wait; exit 0 ;;
  JUNK) echo "Current status for hub 1-1 [2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps]"; exit 0 ;;
esac
action=""; port=""
while [ $# -gt 0 ]; do
  case "$1" in
    -a) action=$2; shift 2 ;;
    -p) port=$2; shift 2 ;;
    *) shift ;;
  esac
done
state=$( [ "$action" = on ] && echo 0503 || echo 0000 )
word=$( [ "$action" = on ] && echo "power highspeed enable connect [0483:df11]" || echo off )
sleep 0.1
echo "$action" > "$dir/port-$port"
echo "Current status for hub 1-1 [2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps]"
echo "  Port $port: $state $word"
echo "Sent power $action request"
echo "New status for hub 1-1 [2109:2817 VIA Labs, Inc. USB2.0 Hub, USB 2.10, 4 ports, ppps]"
echo "  Port $port: $state $word"
"#;

/// A thermometer CLI: prints `temp: 23.5 C`.
const FAKE_THERMO: &str = "#!/bin/sh\necho \"sensor 1\"\necho \"temp: 23.5 C\"\n";

struct Bench {
    dir: tempfile::TempDir,
    rig: Rig,
}

impl Bench {
    fn new(extra: &str) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [("uhubctl", FAKE_UHUBCTL), ("thermo", FAKE_THERMO)] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let bin = dir.path().display().to_string();
        let extra = extra.replace("BIN", &bin);
        let text = format!(
            r#"name = "hub"
[controllers.hub]
timeout_ms = 2000
[controllers.hub.commands]
power_on = {{ exec = ["{bin}/uhubctl", "-a", "on", "-l", "1-1", "-p", "{{channel}}"], expect = 'Port {{channel}}: 0503 power' }}
power_off = {{ exec = ["{bin}/uhubctl", "-a", "off", "-l", "1-1", "-p", "{{channel}}"], expect = 'Port {{channel}}: 0000 off' }}
temperature = {{ exec = ["{bin}/thermo"], expect = 'temp: (-?[0-9.]+) C' }}
{extra}
[[boards]]
name = "a"
hse_hz = 25_000_000
hse_kind = "oscillator"
usb = {{ path = "1-1.2" }}
channel = 2
"#
        );
        let rig = Rig::from_toml_str(&text, &PathBuf::from("hub.toml")).unwrap();
        Bench { dir, rig }
    }

    fn control(&self) -> impl RigControl {
        SerialRig::open(&self.rig)
            .unwrap()
            .control(&self.rig.boards[0])
            .unwrap()
    }

    fn mode(&self, mode: &str) {
        std::fs::write(self.dir.path().join("mode"), mode).unwrap();
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }
}

#[test]
fn exec_commands_switch_the_port_with_the_channel_filled_in() {
    let b = Bench::new("");
    let mut rig = b.control();
    rig.power(false).unwrap();
    assert_eq!(b.file("port-2").trim(), "off");
    rig.power(true).unwrap();
    assert_eq!(b.file("port-2").trim(), "on");
    assert_eq!(
        b.file("calls").lines().collect::<Vec<_>>(),
        ["-a off -l 1-1 -p 2", "-a on -l 1-1 -p 2"]
    );
    // Capture group 1 of the output is the value, as for a serial temperature query.
    assert_eq!(rig.temperature().unwrap(), Some(23.5));
}

/// Boards on one controller power-cycle at the same moment: their commands take turns, so a tool that serves
/// one caller at a time (a YKUSH, a relay board) is never called twice at once.
#[test]
fn boards_on_one_controller_take_turns() {
    let b = Bench::new(
        r#"[[boards]]
name = "b"
hse_hz = 25_000_000
hse_kind = "oscillator"
usb = { path = "1-1.3" }
channel = 3
"#,
    );
    let rig = SerialRig::open(&b.rig).unwrap();
    let mut controls: Vec<_> = b
        .rig
        .boards
        .iter()
        .map(|board| rig.control(board).unwrap())
        .collect();
    std::thread::scope(|s| {
        let workers: Vec<_> = controls
            .iter_mut()
            .map(|c| {
                s.spawn(move || {
                    for _ in 0..3 {
                        c.power(false)?;
                        c.power(true)?;
                    }
                    Ok::<_, hil::rig::RigError>(())
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap().unwrap();
        }
    });
    assert_eq!(b.file("calls").lines().count(), 12);
    assert_eq!(
        (b.file("port-2").trim(), b.file("port-3").trim()),
        ("on", "on")
    );
}

#[test]
fn a_non_zero_exit_is_rig_exec_naming_the_command_and_its_error() {
    let b = Bench::new("");
    b.mode("FAIL");
    let err = b.control().power(true).unwrap_err();
    assert_eq!(err.kind(), RigErrorKind::Exec);
    let text = err.to_string();
    assert!(
        text.contains("uhubctl -a on -l 1-1 -p 2")
            && text.contains("exit code 1")
            && text.contains("No compatible devices detected!"),
        "{text}"
    );
}

#[test]
fn a_hung_command_is_a_rig_timeout_and_its_whole_group_is_killed() {
    let b = Bench::new("");
    b.mode("HANG");
    let t = Instant::now();
    let err = b.control().power(true).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    assert_eq!(err.kind(), RigErrorKind::Timeout);
    assert!(
        err.to_string().contains("did not finish within 2000 ms"),
        "{err}"
    );
}

#[test]
fn output_that_does_not_match_is_garbled_with_what_it_printed() {
    let b = Bench::new("");
    b.mode("JUNK");
    let err = b.control().power(false).unwrap_err();
    assert_eq!(err.kind(), RigErrorKind::Garbled);
    let text = err.to_string();
    assert!(
        text.contains("Port 2: 0000 off")
            && text.contains("it printed: Current status for hub 1-1"),
        "{text}"
    );
}

#[test]
fn a_program_that_does_not_exist_is_no_such_program_not_a_timeout() {
    let b = Bench::new(
        "reset_pulse = { exec = [\"no-such-relay-tool\", \"pulse\", \"{channel}\"], timeout_ms = 30000 }",
    );
    let t = Instant::now();
    let err = b.control().reset_pulse().unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(err.kind(), RigErrorKind::Exec);
    assert!(
        err.to_string()
            .contains("no such program \"no-such-relay-tool\""),
        "{err}"
    );
}

/// No shell is involved: an argument with shell syntax reaches the program as it is written.
#[test]
fn arguments_reach_the_program_verbatim() {
    let b = Bench::new(
        "boot0_high = { exec = [\"BIN/uhubctl\", \"-x\", \"$(touch BIN/pwned); a b\", \"-p\", \"{channel}\"] }",
    );
    b.control().boot0(true).unwrap(); // no `expect`: its exit code alone decides
    let calls = b.file("calls");
    assert!(calls.contains("-x $(touch"), "{calls}");
    assert!(!b.dir.path().join("pwned").exists());
}
