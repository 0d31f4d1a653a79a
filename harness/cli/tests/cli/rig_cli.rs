//! `hil rig`: one rig action by hand, on a rig file whose commands are command lines (a script stands in for the
//! relay tool and logs what it was asked).

use std::path::Path;
use std::process::Command;

fn hil() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hil"))
}

/// A rig whose power commands append to `calls` in `dir`; `power_on` fails with the tool's error.
fn rig(dir: &Path) -> std::path::PathBuf {
    let calls = dir.join("calls").display().to_string();
    let text = format!(
        r#"name = "by-hand"
[controllers.relay.commands]
power_off = {{ exec = ["sh", "-c", "echo off {{channel}} >> {calls}; echo Switched outlet {{channel}} off"], expect = 'outlet {{channel}} off' }}
power_on = {{ exec = ["sh", "-c", "echo 'sispmctl: no GEMBIRD SiS-PM found' >&2; exit 1"] }}
[[boards]]
name = "a"
hse_hz = 25_000_000
hse_kind = "oscillator"
usb = {{ path = "1-1.2" }}
channel = 3
"#
    );
    let path = dir.join("rig.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_action_is_carried_out_on_the_boards_channel() {
    let dir = tempfile::tempdir().unwrap();
    let o = hil()
        .arg("rig")
        .arg(rig(dir.path()))
        .args(["a", "power-off"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("a: power-off: ok ("), "{out}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("calls")).unwrap(),
        "off 3\n"
    );
}

#[test]
fn a_failed_action_is_exit_1_with_the_tools_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = hil()
        .arg("rig")
        .arg(rig(dir.path()))
        .args(["a", "power-on"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("exit code 1")
            && err.contains("no GEMBIRD SiS-PM found")
            && err.ends_with("[rig]\n"),
        "{err}"
    );
}

#[test]
fn an_action_the_rig_cannot_do_or_a_board_it_lacks_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let rig = rig(dir.path());
    let o = hil()
        .arg("rig")
        .arg(&rig)
        .args(["a", "reset"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("this rig cannot pulse NRST"));
    let o = hil()
        .arg("rig")
        .arg(&rig)
        .args(["b", "power-on"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no board \"b\""),
        "{o:?}"
    );
    let virtual_bench =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/rigs/virtual-bench.toml");
    let o = hil()
        .arg("rig")
        .arg(virtual_bench)
        .args(["bench-01", "power-off"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("is a virtual board"),
        "{o:?}"
    );
}
