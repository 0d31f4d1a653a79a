//! Issue 6, end to end on a real USB stack: `hil vboard serve` plugs the virtual board into a QEMU guest's xHCI
//! controller over usbredir, and the guest's Linux kernel, `lsusb` and `dfu-util` talk to it like silicon.
//! Needs QEMU and a Debian kernel (fixtures/guest/prepare.sh installs and fetches them), so it is ignored by
//! default: `cargo test -p hil-cli --test guest -- --ignored` runs it (not yet part of CI).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Kills and reaps the server, whatever happens to the test.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sh(script: &Path, args: &[&Path], envs: &[(&str, &Path)]) -> String {
    let mut cmd = Command::new("bash");
    cmd.arg(script).args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let o = cmd.output().expect("bash runs");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{} failed ({}):\n{out}\n{}",
        script.display(),
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// The lines between `@@BEGIN name` and `@@END name rc=N`, and N.
fn step<'a>(console: &'a str, name: &str) -> (Vec<&'a str>, Option<i32>) {
    let mut lines = Vec::new();
    let mut inside = false;
    for l in console.lines() {
        let l = l.trim_end_matches('\r');
        if l == format!("@@BEGIN {name}") {
            inside = true;
        } else if let Some(rc) = l.strip_prefix(&format!("@@END {name} rc=")) {
            return (lines, rc.trim().parse().ok());
        } else if inside {
            lines.push(l);
        }
    }
    (lines, None)
}

fn results(console: &str) -> BTreeMap<String, String> {
    console
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').split_once("@@RESULT "))
        .filter_map(|(_, kv)| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
#[ignore = "boots a QEMU guest; run with -- --ignored after fixtures/guest/prepare.sh"]
fn guest_enumerates_lists_and_reads_option_bytes() {
    let root = root();
    let guest = root.join("fixtures/guest");
    sh(&guest.join("prepare.sh"), &[], &[]);

    let dir = std::env::temp_dir().join(format!("hil-guest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let initrd = dir.join("test.cpio");
    let test = guest.join("tests/dfu-basic.sh");
    sh(
        &guest.join("build-initramfs.sh"),
        &[&initrd],
        &[("GUEST_TEST", &test)],
    );

    let sock = dir.join("board.sock");
    let _ = std::fs::remove_file(&sock);
    let board = root.join("fixtures/boards/healthy-25mhz.toml");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_hil"))
            .args(["vboard", "serve"])
            .arg(&board)
            .args(["--seed", "1", "--listen"])
            .arg(format!("unix:{}", sock.display()))
            .stdin(Stdio::null())
            .spawn()
            .expect("hil vboard serve starts"),
    );
    let t0 = Instant::now();
    while !sock.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "hil vboard serve never made {}",
            sock.display()
        );
        sleep(Duration::from_millis(50));
    }

    let t0 = Instant::now();
    let o = Command::new("bash")
        .arg(guest.join("run.sh"))
        .arg(&initrd)
        .arg(&sock)
        .env("GUEST_TIMEOUT", "120")
        .stdin(Stdio::null())
        .output()
        .expect("run.sh runs");
    let console = String::from_utf8_lossy(&o.stdout).into_owned();
    eprintln!(
        "guest run: {:.1} s, {}",
        t0.elapsed().as_secs_f64(),
        o.status
    );
    let _ = std::fs::remove_dir_all(&dir);
    let ctx = format!(
        "console:\n{console}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "QEMU failed ({})\n{ctx}", o.status);
    assert!(console.contains("@@MODULES ok"), "{ctx}");
    let r = results(&console);
    assert_eq!(
        r.get("device").map(String::as_str),
        Some("present"),
        "{ctx}"
    );
    assert!(console.contains("@@GUEST-END rc=0"), "{ctx}");

    let (lsusb, rc) = step(&console, "lsusb-v");
    assert_eq!(rc, Some(0), "{ctx}");
    let lsusb = lsusb.join("\n");
    assert!(lsusb.contains("idVendor           0x0483"), "{lsusb}");
    assert!(lsusb.contains("idProduct          0xdf11"), "{lsusb}");
    assert!(lsusb.contains("@Internal Flash  /0x08000000/"), "{lsusb}");
    assert!(lsusb.contains("@Option Bytes  /0x1FFF0000/"), "{lsusb}");
    assert!(
        lsusb.contains("Device Firmware Upgrade Interface Descriptor"),
        "{lsusb}"
    );
    assert!(
        lsusb.contains("bcdDFUVersion                   1.1a"),
        "{lsusb}"
    );

    let (list, rc) = step(&console, "dfu-list");
    assert_eq!(rc, Some(0), "{ctx}");
    let found: Vec<_> = list
        .iter()
        .filter(|l| l.starts_with("Found DFU: [0483:df11]"))
        .collect();
    assert!(
        found
            .iter()
            .any(|l| l.contains("alt=0, name=\"@Internal Flash")),
        "{list:#?}"
    );
    assert!(
        found
            .iter()
            .any(|l| l.contains("alt=1, name=\"@Option Bytes")),
        "{list:#?}"
    );
    assert!(
        found.iter().all(|l| l.contains("cfg=1, intf=0")),
        "{list:#?}"
    );

    let (_, rc) = step(&console, "ob-upload");
    assert_eq!(rc, Some(0), "{ctx}");
    assert_eq!(r.get("ob_size").map(String::as_str), Some("32"), "{ctx}");
    let ob = r.get("ob_hex").cloned().unwrap_or_default();
    assert!(
        ob.starts_with("ffaa0055"),
        "option bytes read in the guest: {ob}"
    );
}
