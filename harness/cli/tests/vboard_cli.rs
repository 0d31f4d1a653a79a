//! `hil vboard serve` as a process: the addresses it refuses (and says which flag), and a server with a rig
//! controller that answers, then stops cleanly on Ctrl-C. The protocol itself is tested in hil's usbredir
//! tests and end to end in guest.rs.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn serve(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hil"));
    cmd.args(["vboard", "serve"])
        .args(args)
        .stdin(Stdio::null());
    cmd
}

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("vboard_cli-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn refuses_non_loopback_addresses_and_names_the_flag() {
    let sock = dir("refuse").join("b.sock");
    let sock = format!("unix:{}", sock.display());
    for (args, flag) in [
        (vec!["--listen", "0.0.0.0:0"], "--listen"),
        (
            vec!["--listen", sock.as_str(), "--rig", "8.8.8.8:4000"],
            "--rig",
        ),
    ] {
        let o = serve(&args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(&format!("hil: {flag}: refusing")), "{err}");
        assert!(err.contains("--allow-remote"), "{err}");
    }
    let o = serve(&["--listen", "nowhere"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--listen: bad listen address \"nowhere\""),
        "{err}"
    );
}

#[test]
fn serves_a_rig_controller_and_stops_on_ctrl_c() {
    let d = dir("rig");
    let (board, rig) = (d.join("b.sock"), d.join("rig.sock"));
    let child = serve(&[
        "--listen",
        &format!("unix:{}", board.display()),
        "--rig",
        &format!("unix:{}", rig.display()),
    ])
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let t0 = Instant::now();
    let stream = loop {
        match UnixStream::connect(&rig) {
            Ok(s) => break s,
            Err(e) => {
                assert!(t0.elapsed() < Duration::from_secs(20), "no rig socket: {e}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut ask = |line: &str| {
        (&stream)
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
        let mut reply = String::new();
        reader.read_line(&mut reply).unwrap();
        reply
    };
    // No VM has connected: the rig says so instead of pretending.
    let reply = ask("PWR 1 ON");
    assert!(reply.starts_with("ERR no board on channel 1"), "{reply:?}");
    assert!(reply.ends_with("\r\n"), "{reply:?}");
    assert!(ask("PWR 1 SIDEWAYS").starts_with("ERR unknown command"));

    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("rig controller listening on unix:"), "{err}");
    assert!(err.contains("hil: stopped"), "{err}");
    assert!(!board.exists() && !rig.exists(), "socket files are removed");
}
