//! `hil vboard serve` as a process: the addresses it refuses (and says which flag), and a server with a rig
//! controller that answers, then stops cleanly on Ctrl-C. The protocol itself is tested in the usbredir
//! crate's tests and end to end in guest.rs.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{in_process_soak, root};

fn serve(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hil"));
    cmd.args(["vboard", "serve"])
        .args(args)
        .stdin(Stdio::null());
    cmd
}

fn dir(name: &str) -> PathBuf {
    crate::common::scratch(&format!("vboard_cli-{name}"))
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
    let mut ask = rig_client(&rig);
    // No VM has connected: the rig says so instead of pretending.
    let reply = ask("PWR 1 ON");
    assert!(reply.starts_with("ERR no board on channel 1"), "{reply:?}");
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

#[test]
fn power_ons_through_the_rig_boot_like_the_in_process_soak_cycles() {
    let d = dir("replay");
    let in_process: Vec<(u64, u8)> = in_process_soak(&d.join("reports"))
        .iter()
        .map(|r| (r.cycle, r.pllm.expect("in-process.toml reads the clocks")))
        .collect();
    assert_eq!(in_process.len(), 20);

    let (board, rig) = (d.join("b.sock"), d.join("rig.sock"));
    let drifting = root().join("fixtures/boards/drifting-25mhz.toml");
    let child = serve(&[
        drifting.to_str().unwrap(),
        "--seed",
        "3", // in-process.toml's seed
        "--listen",
        &format!("unix:{}", board.display()),
        "--rig",
        &format!("unix:{}", rig.display()),
    ])
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let _server = KillOnDrop(child);
    let mut ask = rig_client(&rig);
    // A connection is a board on channel 1, even before (or without) a usbredir hello.
    let _vm = UnixStream::connect(&board).unwrap();
    let t0 = Instant::now();
    while ask("TEMP 1?").starts_with("ERR no board") {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the connection never got channel 1"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut served = Vec::new();
    for cycle in 1..=20u64 {
        assert_eq!(ask("PWR 1 OFF"), "OK PWR 1 OFF");
        assert_eq!(ask("PWR 1 ON"), "OK PWR 1 ON");
        let clocks = ask("CLOCKS 1?");
        let pllm: u8 = clocks
            .strip_prefix("CLOCKS 1 PLLM ")
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("cycle {cycle}: {clocks}"));
        served.push((cycle, pllm));
    }
    assert_eq!(served, in_process, "(cycle, PLLM): served vs in process");
    let misdetected = served.iter().filter(|(_, m)| *m == 24).count();
    assert!(
        (1..20).contains(&misdetected),
        "{misdetected} of 20 misdetected"
    );
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Connects to the rig socket (waiting for it) and returns a function sending one line and returning the reply.
fn rig_client(path: &std::path::Path) -> impl FnMut(&str) -> String {
    let t0 = Instant::now();
    let stream = loop {
        match UnixStream::connect(path) {
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
    move |line: &str| {
        (&stream)
            .write_all(format!("{line}\r\n").as_bytes())
            .unwrap();
        let mut reply = String::new();
        reader.read_line(&mut reply).unwrap();
        reply.trim_end().to_string()
    }
}
