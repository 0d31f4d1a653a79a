//! Issue 6, end to end on a real USB stack: `hil vboard serve` plugs the virtual board into a QEMU guest's xHCI
//! controller over usbredir, and the guest's Linux kernel, `lsusb` and `dfu-util` talk to it like silicon.
//! Needs QEMU and a Debian kernel (fixtures/guest/prepare.sh installs and fetches them), so it is ignored by
//! default: `cargo test -p hil-cli --test guest -- --ignored` runs it (not yet part of CI).
//! `guest_dfu_util_and_hil_round_trip` runs fixtures/guest/tests/dfu-full.sh: dfu-util and our `hil` (rusb backend)
//! each read the option bytes, write and read back 256 KiB and leave, in one boot; it prints their timings.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::sleep;
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Kills and reaps the server, whatever happens to the test.
struct Server(Child);

/// What one guest boot printed: its serial console, QEMU's stderr and exit status, and the server's stderr.
struct Boot {
    console: String,
    ctx: String,
    ok: bool,
    server: Vec<String>,
}

/// Builds an initramfs running `test` (with `extra` binaries in /bin), serves `board` over usbredir and boots the
/// guest against it, bounded by `timeout_s` (QEMU) and the per-step timeouts of the test script.
fn boot(test: &str, extra: &[&Path], timeout_s: u32) -> Boot {
    let root = root();
    let guest = root.join("fixtures/guest");
    sh(&guest.join("prepare.sh"), &[], &[]);

    let dir = std::env::temp_dir().join(format!(
        "hil-guest-{}-{}",
        std::process::id(),
        test.replace('/', "_")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let initrd = dir.join("test.cpio");
    let test = guest.join(test);
    let mut args = vec![initrd.as_path()];
    args.extend_from_slice(extra);
    sh(
        &guest.join("build-initramfs.sh"),
        &args,
        &[("GUEST_TEST", &test)],
    );

    let sock = dir.join("board.sock");
    let _ = std::fs::remove_file(&sock);
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_hil"))
            .args(["vboard", "serve"])
            .arg(board())
            .args(["--seed", "1", "--listen"])
            .arg(format!("unix:{}", sock.display()))
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hil vboard serve starts"),
    );
    // The server's stderr, line by line, on a channel (it prints each connection's counts when it closes).
    let (tx, rx) = mpsc::channel();
    let stderr = server.0.stderr.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
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
        .env("GUEST_TIMEOUT", timeout_s.to_string())
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
    // QEMU has exited, so the server closes the connection; wait (bounded) for its summary line.
    let mut lines = Vec::new();
    let t0 = Instant::now();
    while let Some(left) = Duration::from_secs(5).checked_sub(t0.elapsed()) {
        match rx.recv_timeout(left) {
            Ok(l) => {
                let done = l.contains(" closed");
                lines.push(l);
                if done {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    drop(server);
    let ctx = format!(
        "console:\n{console}\nstderr:\n{}\nserver:\n{}",
        String::from_utf8_lossy(&o.stderr),
        lines.join("\n")
    );
    Boot {
        console,
        ctx,
        ok: o.status.success(),
        server: lines,
    }
}

fn board() -> PathBuf {
    root().join("fixtures/boards/healthy-25mhz.toml")
}

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
    let Boot {
        console, ctx, ok, ..
    } = boot("tests/dfu-basic.sh", &[], 120);
    assert!(ok, "QEMU failed\n{ctx}");
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

/// The option bytes `hil dfu read-option-bytes --virtual` prints on the host for the same board, as lowercase hex.
fn host_option_bytes() -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_hil"))
        .args(["dfu", "read-option-bytes", "--virtual"])
        .arg(board())
        .args(["--seed", "1"])
        .output()
        .expect("hil runs");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "host read-option-bytes failed: {out}");
    out.lines()
        .filter(|l| l.starts_with("1FFF00"))
        .flat_map(|l| l.split_whitespace().skip(1))
        .map(str::to_ascii_lowercase)
        .collect()
}

#[test]
#[ignore = "boots a QEMU guest; run with -- --ignored after fixtures/guest/prepare.sh"]
fn guest_dfu_util_and_hil_round_trip() {
    let host_ob = host_option_bytes();
    assert_eq!(host_ob.len(), 64, "host option bytes: {host_ob}");
    assert!(host_ob.starts_with("ffaa0055"), "{host_ob}");

    let hil = Path::new(env!("CARGO_BIN_EXE_hil"));
    let Boot {
        console,
        ctx,
        ok,
        server,
    } = boot("tests/dfu-full.sh", &[hil], 240);
    let r = results(&console);
    let get = |k: &str| r.get(k).map(String::as_str).unwrap_or("-");
    let transfers = server
        .iter()
        .find_map(|l| l.split_once(" closed: "))
        .and_then(|(_, s)| s.split_whitespace().next())
        .unwrap_or("?");

    // The figures first, so a failing run still shows them.
    eprintln!("guest timings (s, /proc/uptime):    dfu-util     hil");
    for (what, du, h) in [
        ("option bytes (32 B)", "du_ob", "hil_ob"),
        ("256 KiB download / flash", "du_download", "hil_flash"),
        ("256 KiB upload", "du_upload", "hil_upload"),
        ("leave", "du_leave", "-"),
        ("re-enumeration seen after", "du_reenum", "hil_reenum"),
        ("list", "-", "hil_list"),
    ] {
        eprintln!(
            "  {what:<28} {:>10} {:>7}",
            get(&format!("t_{du}")),
            get(&format!("t_{h}"))
        );
    }
    eprintln!("  (hil flash includes erase, write, verify read-back and leave; dfu-util download is erase + write)");
    eprintln!("server: {transfers} control transfers for the whole boot");
    for l in &server {
        eprintln!("  {l}");
    }

    assert!(ok, "QEMU failed\n{ctx}");
    assert!(console.contains("@@MODULES ok"), "{ctx}");
    assert_eq!(get("device"), "present", "{ctx}");
    assert_eq!(get("img_size"), "262144", "{ctx}");
    for k in [
        "du_ob",
        "du_download",
        "du_upload",
        "du_cmp",
        "du_leave",
        "hil_list",
        "hil_ob",
        "hil_flash",
        "hil_upload",
        "hil_cmp",
    ] {
        assert_eq!(get(k), "ok", "{k}\n{ctx}");
    }
    assert!(get("du_reenum").starts_with("ok:"), "du_reenum\n{ctx}");
    assert!(get("hil_reenum").starts_with("ok:"), "hil_reenum\n{ctx}");
    // (a) all 32 option bytes, dfu-util and hil in the guest against hil on the host.
    assert_eq!(get("du_ob_hex"), host_ob, "dfu-util option bytes\n{ctx}");
    assert_eq!(get("hil_ob_hex"), host_ob, "hil option bytes\n{ctx}");
    // (c) hil lists both alt settings and says the device came back after leave.
    let (list, _) = step(&console, "hil_list");
    assert!(
        list.iter().any(|l| l.starts_with("Found DFU: [0483:df11]")
            && l.contains("alt=0, name=\"@Internal Flash")),
        "{list:#?}"
    );
    assert!(
        list.iter()
            .any(|l| l.contains("alt=1, name=\"@Option Bytes")),
        "{list:#?}"
    );
    let (flash, _) = step(&console, "hil_flash");
    let flash = flash.join("\n");
    assert!(flash.contains("Flashed 262144 bytes"), "{flash}");
    assert!(flash.contains("verified"), "{flash}");
    assert!(flash.contains("device re-enumerated"), "{flash}");
    assert!(console.contains("@@GUEST-END rc=0"), "{ctx}");
    assert!(
        server
            .iter()
            .any(|l| l.contains(" closed: ") && l.contains("0 stalled, 0 timed out, 0 I/O errors")),
        "{server:#?}"
    );
}
