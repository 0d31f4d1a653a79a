//! End to end on a real USB stack: `hil vboard serve` plugs the virtual board into a QEMU guest's xHCI
//! controller over usbredir, and the guest's Linux kernel, `lsusb`, `dfu-util` and our own `hil` (rusb backend)
//! talk to it like silicon. Results come back over the serial console between `@@` markers.
//!
//! Needs QEMU, busybox, dfu-util, usbutils and a Debian kernel: every test first runs fixtures/guest/prepare.sh,
//! which installs and fetches them (root or password-less sudo). Where that is impossible the tests say SKIPPED and
//! pass, unless HIL_REQUIRE_GUEST is set (CI sets it): then they fail. One guest boots at a time (a lock), so the
//! timings are not skewed by a second QEMU on the same cores.
//! - `guest_enumerates_lists_and_reads_option_bytes`: lsusb -v, dfu-util -l, a dfu-util option-byte read (~5 s);
//! - `guest_dfu_util_and_hil_round_trip`: dfu-util and hil each read the option bytes, write and read back
//!   256 KiB and leave, timed and with the server's control-transfer count per operation (~40 s);
//! - `guest_dfu_util_shows_the_seed_symptom_on_a_misclocked_boot_only`: the drifting board power-cycled through
//!   the rig until it misdetects the HSE, then 20 dfu-util option-byte reads, and 5 on a healthy boot (~10 s);
//! - `guest_soak_fails_the_cycles_the_in_process_soak_fails`: 20 cycles of `hil soak` in the guest on the
//!   drifting board, power-cycled through the server's rig controller, against the same soak in process (~40 s);
//! - `guest_openocd_and_probe_rs_read_the_board_through_its_virtual_probe`: the board's virtual CMSIS-DAP probe as
//!   a second USB device; OpenOCD 0.12 and probe-rs (in `hil clocks --probe`) read the same registers, which
//!   equal the server's boot log and the board file (~50 s).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, MutexGuard, OnceLock};
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::{in_process_soak, root};
use records::{read_all, CycleRow, ErrorClass, OptionBytesCheck};

mod common;

/// Held for a whole guest boot; the first holder also runs prepare.sh. `None`: skip (prepare failed, not required).
fn guest_lock() -> Option<MutexGuard<'static, ()>> {
    static LOCK: Mutex<()> = Mutex::new(());
    static PREPARED: OnceLock<Result<(), String>> = OnceLock::new();
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let prepared = PREPARED.get_or_init(|| {
        let script = root().join("fixtures/guest/prepare.sh");
        let o = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run bash: {e}"))?;
        if o.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{} failed ({}):\n{}{}",
                script.display(),
                o.status,
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ))
        }
    });
    match prepared {
        Ok(()) => Some(guard),
        Err(e) if std::env::var_os("HIL_REQUIRE_GUEST").is_none() => {
            eprintln!("SKIPPED: the QEMU guest cannot be prepared here (CI sets HIL_REQUIRE_GUEST=1):\n{e}");
            None
        }
        Err(e) => {
            panic!("the QEMU guest is required (HIL_REQUIRE_GUEST) but cannot be prepared:\n{e}")
        }
    }
}

/// Kills and reaps the server, whatever happens to the test.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One guest boot: the test script to run, binaries to add, the board served and how.
struct Guest<'a> {
    test: &'a str,
    extra: Vec<PathBuf>,
    timeout_s: u32,
    board: PathBuf,
    seed: u64,
    /// Serve the rig controller too (the guest's /dev/ttyS1).
    rig: bool,
    /// Serve the board's virtual CMSIS-DAP probe too (a second USB device).
    probe: bool,
    /// Guest RAM in MiB.
    mem_mb: u32,
    /// `name=value` words for the kernel command line, which /init passes to the test script as variables.
    kernel_args: Vec<String>,
    /// Put the board behind QEMU's usb-hub with per-port power switching (its port 1, the guest's 1-1.1).
    hub: bool,
    /// An isolated network where 10.0.2.100:5025 is the rig socket (run.sh GUEST_NET; needs `rig`).
    net: bool,
}

impl<'a> Guest<'a> {
    fn new(test: &'a str) -> Self {
        Guest {
            test,
            extra: Vec::new(),
            timeout_s: 120,
            board: healthy_board(),
            seed: 1,
            rig: false,
            probe: false,
            mem_mb: 256,
            kernel_args: Vec::new(),
            hub: false,
            net: false,
        }
    }
}

/// What one guest boot printed: its serial console, QEMU's stderr and exit status, and the server's stderr.
struct Boot {
    console: String,
    ctx: String,
    ok: bool,
    server: Vec<String>,
}

/// Builds an initramfs running `g.test`, serves `g.board` over usbredir and boots the guest against it, bounded by
/// `g.timeout_s` (QEMU) and the per-step timeouts of the test script. Call with the guest lock held.
fn boot(g: &Guest<'_>) -> Boot {
    let guest = root().join("fixtures/guest");
    let dir = std::env::temp_dir().join(format!(
        "hil-guest-{}-{}",
        std::process::id(),
        g.test.replace('/', "_")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let initrd = dir.join("test.cpio");
    let test = guest.join(g.test);
    let mut args = vec![initrd.clone()];
    args.extend(g.extra.iter().cloned());
    let openocd = Path::new(if g.probe { "1" } else { "0" });
    sh(
        &guest.join("build-initramfs.sh"),
        &args,
        &[("GUEST_TEST", &test), ("GUEST_OPENOCD", openocd)],
    );

    let sock = dir.join("board.sock");
    let rig = dir.join("rig.sock");
    let probe = dir.join("probe.sock");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hil"));
    cmd.args(["vboard", "serve"])
        .arg(&g.board)
        .args(["--seed", &g.seed.to_string(), "--listen"])
        .arg(format!("unix:{}", sock.display()));
    if g.rig {
        cmd.arg("--rig").arg(format!("unix:{}", rig.display()));
    }
    if g.probe {
        cmd.arg("--probe-listen")
            .arg(format!("unix:{}", probe.display()));
    }
    let mut server = Server(
        cmd.stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hil vboard serve starts"),
    );
    // The server's stderr, line by line, on a channel (boots, connections and their counts when they close).
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
    while !sock.exists() || (g.rig && !rig.exists()) || (g.probe && !probe.exists()) {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "hil vboard serve never made {}",
            sock.display()
        );
        sleep(Duration::from_millis(50));
    }

    let t0 = Instant::now();
    let mut qemu = Command::new("bash");
    qemu.arg(guest.join("run.sh"))
        .arg(&initrd)
        .arg(&sock)
        .args(&g.kernel_args)
        .env("GUEST_TIMEOUT", g.timeout_s.to_string())
        .env("GUEST_MEM", g.mem_mb.to_string())
        .stdin(Stdio::null());
    if g.rig {
        qemu.env("GUEST_RIG", &rig);
    }
    if g.probe {
        qemu.env("GUEST_PROBE", &probe);
    }
    if g.net {
        qemu.env("GUEST_NET", "1").arg("guest_net=1");
    }
    if g.hub {
        qemu.env("GUEST_HUB", "1");
    }
    let o = qemu.output().expect("run.sh runs");
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
    let (mut board_closed, mut probe_closed) = (false, !g.probe);
    while let Some(left) = Duration::from_secs(5).checked_sub(t0.elapsed()) {
        match rx.recv_timeout(left) {
            Ok(l) => {
                board_closed |= l.starts_with("hil: usbredir connection") && l.contains(" closed");
                probe_closed |=
                    l.starts_with("hil: usbredir probe connection") && l.contains(" closed");
                lines.push(l);
                if board_closed && probe_closed {
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

fn healthy_board() -> PathBuf {
    root().join("fixtures/boards/healthy-25mhz.toml")
}

fn sh(script: &Path, args: &[PathBuf], envs: &[(&str, &Path)]) -> String {
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

/// Asserts that a `dfu-util -l` style listing has the ST bootloader's flash and option-byte alt settings; returns
/// its `Found DFU: [0483:df11]` lines.
fn lists_both_alts<'a>(list: &[&'a str]) -> Vec<&'a str> {
    let found: Vec<&str> = list
        .iter()
        .copied()
        .filter(|l| l.starts_with("Found DFU: [0483:df11]"))
        .collect();
    for alt in [
        "alt=0, name=\"@Internal Flash",
        "alt=1, name=\"@Option Bytes",
    ] {
        assert!(found.iter().any(|l| l.contains(alt)), "{alt}: {list:#?}");
    }
    found
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
fn guest_enumerates_lists_and_reads_option_bytes() {
    let Some(_guest) = guest_lock() else { return };
    let Boot {
        console, ctx, ok, ..
    } = boot(&Guest::new("tests/dfu-basic.sh"));
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
    let found = lists_both_alts(&list);
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
        .args(["dfu", "read-option-bytes"])
        .arg(format!("--virtual={}", healthy_board().display()))
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

/// The table of timings and control transfers the round trip prints (and README quotes).
fn print_figures(get: &dyn Fn(&str) -> String, transfers: &str) {
    eprintln!(
        "guest figures: wall time (s, /proc/uptime) and control transfers counted by the server\n\
         {:<30} {:>14} {:>14}",
        "", "dfu-util", "hil"
    );
    let cell = |op: &str| {
        if op == "-" {
            "-".to_string()
        } else {
            format!(
                "{} s / {}",
                get(&format!("t_{op}")),
                get(&format!("x_{op}"))
            )
        }
    };
    for (what, du, h) in [
        ("option bytes (32 B)", "du_ob", "hil_ob"),
        (
            "256 KiB download (erase+write)",
            "du_download",
            "hil_download",
        ),
        ("256 KiB upload", "du_upload", "hil_upload"),
        ("leave", "du_leave", "-"),
        ("flash+verify+leave 256 KiB", "-", "hil_flash"),
        ("list", "-", "hil_list"),
    ] {
        eprintln!("  {what:<30} {:>14} {:>14}", cell(du), cell(h));
    }
    eprintln!(
        "  re-enumeration seen after      {:>14} {:>14}",
        get("t_du_reenum"),
        get("t_hil_reenum")
    );
    eprintln!("server: {transfers} control transfers for the whole boot");
}

#[test]
fn guest_dfu_util_and_hil_round_trip() {
    let Some(_guest) = guest_lock() else { return };
    let host_ob = host_option_bytes();
    assert_eq!(host_ob.len(), 64, "host option bytes: {host_ob}");
    assert!(host_ob.starts_with("ffaa0055"), "{host_ob}");

    let mut g = Guest::new("tests/dfu-full.sh");
    g.extra.push(PathBuf::from(env!("CARGO_BIN_EXE_hil")));
    g.timeout_s = 300;
    g.rig = true; // for the server's transfer count (XFERS) around each operation
    let Boot {
        console,
        ctx,
        ok,
        server,
    } = boot(&g);
    let r = results(&console);
    let get = |k: &str| r.get(k).cloned().unwrap_or_else(|| "-".into());
    let transfers = server
        .iter()
        .find_map(|l| l.split_once(" closed: "))
        .and_then(|(_, s)| s.split_whitespace().next())
        .unwrap_or("?");
    // The figures first, so a failing run still shows them.
    print_figures(&get, transfers);
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
        "hil_download",
        "hil_upload",
        "hil_cmp",
        "hil_flash",
    ] {
        assert_eq!(get(k), "ok", "{k}\n{ctx}");
    }
    assert!(get("du_reenum").starts_with("ok:"), "du_reenum\n{ctx}");
    assert!(get("hil_reenum").starts_with("ok:"), "hil_reenum\n{ctx}");
    // (a) all 32 option bytes, dfu-util and hil in the guest against hil on the host.
    assert_eq!(get("du_ob_hex"), host_ob, "dfu-util option bytes\n{ctx}");
    assert_eq!(get("hil_ob_hex"), host_ob, "hil option bytes\n{ctx}");
    // (b) every operation was counted by the server, and the counts are what each tool's design implies.
    let x = |k: &str| -> u64 {
        get(&format!("x_{k}"))
            .parse()
            .unwrap_or_else(|_| panic!("no transfer count for {k}\n{ctx}"))
    };
    for op in ["du_ob", "hil_ob", "du_upload", "hil_upload"] {
        assert!(x(op) > 0, "{op}: the server counted no transfers\n{ctx}");
    }
    // 256 KiB is 128 blocks of 2 KiB: at least one DNLOAD and one GETSTATUS pair per block, and one UPLOAD per block.
    for op in ["du_download", "hil_download"] {
        assert!(x(op) >= 2 * 128, "{op}: {} transfers\n{ctx}", x(op));
    }
    assert!(x("du_upload") >= 128 && x("hil_upload") >= 128, "{ctx}");
    // dfu-util 0.11 sends a Set Address Pointer (DNLOAD + 2 GETSTATUS) before every block; hil sends one per run.
    assert!(
        x("hil_download") + 2 * 127 <= x("du_download"),
        "hil {} vs dfu-util {} transfers for the same download\n{ctx}",
        x("hil_download"),
        x("du_download")
    );
    // (c) hil lists both alt settings and says the device came back after leave.
    let (list, _) = step(&console, "hil_list");
    lists_both_alts(&list);
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

/// The CSV a guest test printed between `@@BEGIN name` and `@@END name`, parsed by our own record reader.
fn guest_csv(console: &str, name: &str, dir: &Path) -> Vec<CycleRow> {
    let (lines, rc) = step(console, name);
    assert_eq!(rc, Some(0), "{name} not printed");
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    read_all(&path).unwrap_or_else(|e| panic!("{name} from the guest: {e}"))
}

/// The cycles of `rows` that failed.
fn failed(rows: &[CycleRow]) -> Vec<u64> {
    rows.iter()
        .filter(|r| r.failed())
        .map(|r| r.cycle)
        .collect()
}

/// From the server's boot lines: the power-ons (cycles) whose boot misdetected the HSE.
fn misdetected_power_ons(server: &[String]) -> Vec<u64> {
    server
        .iter()
        .filter(|l| l.contains("MISDETECTED"))
        .filter_map(|l| l.split_once("(power-on "))
        .filter_map(|(_, rest)| rest.split(',').next()?.parse().ok())
        .collect()
}

#[test]
fn guest_soak_fails_the_cycles_the_in_process_soak_fails() {
    guest_soak_against_in_process("guest-soak", None, false, |rows, _| {
        assert!(rows.iter().all(|r| r.supply_current_ma.is_none()))
    });
}

/// The same soak powered by a SCPI bench supply on ttyS1 (the server answers `*IDN?`, `OUTP ON|OFF,(@1)`,
/// `MEAS:CURR? (@1)` and `SYST:ERR?`): the same cycles fail, and each cycle records the current the board drew at
/// its end, the board file's bootloader draw (the generated image is no application: the leave lands in the
/// bootloader again, as on silicon).
#[test]
fn guest_soak_powered_by_a_scpi_supply_records_the_supply_current() {
    guest_soak_against_in_process(
        "guest-soak-scpi",
        Some("guest-scpi.toml"),
        false,
        |rows, console| check_scpi_soak(rows, console, "/dev/ttyS1"),
    );
}

/// The same soak with the supply on the LAN: `tcp:10.0.2.100` (port 5025 by default) through the guest kernel's
/// TCP/IP stack and an e1000 NIC on QEMU's isolated user network, forwarded to the server's rig socket.
#[test]
fn guest_soak_powered_by_a_scpi_supply_over_tcp_records_the_supply_current() {
    guest_soak_against_in_process(
        "guest-soak-scpi-tcp",
        Some("guest-scpi-tcp.toml"),
        true,
        |rows, console| {
            let net = console
                .lines()
                .find(|l| l.starts_with("@@NET"))
                .unwrap_or_default();
            assert!(net.starts_with("@@NET up"), "the guest's network: {net:?}");
            check_scpi_soak(rows, console, "tcp:10.0.2.100:5025")
        },
    );
}

/// Each cycle recorded the current the board drew at its end (the board file's bootloader draw), and the run
/// folder's manifest names the supply as it answered `*IDN?` on `port`.
fn check_scpi_soak(rows: &[CycleRow], console: &str, port: &str) {
    let supply = vboard::BoardConfig::load(&root().join("fixtures/boards/drifting-25mhz.toml"))
        .unwrap()
        .supply;
    for r in rows {
        assert_eq!(
            r.supply_current_ma,
            Some(supply.bootloader_ma),
            "cycle {}: {r:?}",
            r.cycle
        );
    }
    let (lines, rc) = step(console, "manifest.json");
    assert_eq!(rc, Some(0), "manifest.json not printed");
    let manifest: records::Manifest = serde_json::from_str(&lines.join("\n")).unwrap();
    let idn = format!("hil,virtual bench supply,0,{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        manifest.instruments,
        [records::Instrument {
            name: "supply".into(),
            port: port.into(),
            idn
        }]
    );
}

/// The same soak with the board powered through exec rig commands: a script stands in for uhubctl, sending each
/// line to the rig controller on ttyS1 and printing the reply, which the rig file's `expect` judges. The same
/// cycles fail: what powers the board changes nothing the board does.
#[test]
fn guest_soak_powered_through_exec_rig_commands_fails_the_same_cycles() {
    guest_soak_against_in_process("guest-soak-exec", Some("guest-exec.toml"), false, |_, _| {});
}

fn guest_soak_against_in_process(
    name: &str,
    scenario: Option<&str>,
    net: bool,
    check: fn(&[CycleRow], &str),
) {
    let Some(_guest) = guest_lock() else { return };
    let dir = common::scratch(name);
    let in_process = in_process_soak(&dir.join("reports"));

    let mut g = Guest::new("tests/soak.sh");
    if let Some(s) = scenario {
        g.kernel_args.push(format!("guest_scenario={s}"));
    }
    g.extra.push(PathBuf::from(env!("CARGO_BIN_EXE_hil")));
    g.timeout_s = 600;
    g.board = root().join("fixtures/boards/drifting-25mhz.toml");
    g.seed = 3; // in-process.toml's seed
    g.rig = true;
    g.net = net;
    let Boot {
        console,
        ctx,
        ok,
        server,
    } = boot(&g);
    assert!(ok, "QEMU failed\n{ctx}");
    let r = results(&console);
    assert_eq!(
        r.get("rig_port").map(String::as_str),
        Some("present"),
        "{ctx}"
    );
    assert_eq!(r.get("soak_rc").map(String::as_str), Some("0"), "{ctx}");
    let guest = guest_csv(&console, "cycles.csv", &dir);
    let misdetected = misdetected_power_ons(&server);
    for l in server.iter().filter(|l| l.contains("(power-on ")) {
        eprintln!("{l}");
    }

    eprintln!("cycle  in process                guest (usbredir, Linux, rusb)   server's boot");
    for (ip, gr) in in_process.iter().zip(&guest) {
        let step = |r: &CycleRow| {
            if !r.failed() {
                "pass".to_string()
            } else {
                format!("fail at {}", r.failed_step)
            }
        };
        eprintln!(
            "{:>5}  {:<24} {:<31} {}",
            ip.cycle,
            format!(
                "{} (PLLM {})",
                step(ip),
                ip.pllm.map_or("-".into(), |m| m.to_string())
            ),
            step(gr),
            if misdetected.contains(&gr.cycle) {
                "HSE misdetected"
            } else {
                "ok"
            }
        );
    }

    // Every cycle recorded once, in order, at the temperature the rig controller reported.
    let cycles: Vec<u64> = guest.iter().map(|r| r.cycle).collect();
    assert_eq!(cycles, (1..=20).collect::<Vec<_>>(), "{ctx}");
    assert!(guest.iter().all(|r| r.temperature_c == Some(28.0)), "{ctx}");
    // The in-process soak fails exactly on the boots that misdetected the HSE (its clock reads say so)...
    let ip_failed = failed(&in_process);
    let ip_misdetected: Vec<u64> = in_process
        .iter()
        .filter(|r| r.pllm == Some(24))
        .map(|r| r.cycle)
        .collect();
    assert_eq!(ip_failed, ip_misdetected, "in process");
    assert!(
        !ip_failed.is_empty() && ip_failed.len() < 20,
        "seed 3 gives some failures, not only failures: {ip_failed:?}"
    );
    // ...and so does the guest soak: the same cycles, which are the power-ons the server saw misdetect.
    assert_eq!(failed(&guest), ip_failed, "guest vs in process\n{ctx}");
    assert_eq!(misdetected, ip_failed, "server's boots vs in process");
    // A failing board is data: each failure is the board's, at a USB step, with what went wrong; a DFU
    // request's failure carries the error libusb reported through the guest kernel.
    for row in guest.iter().filter(|r| r.failed()) {
        assert_eq!(
            row.error_class,
            Some(ErrorClass::Board),
            "cycle {}: {row:?}",
            row.cycle
        );
        assert!(
            row.error_kind.is_some() && !row.error_detail.is_empty(),
            "{row:?}"
        );
        match row.failed_step.as_str() {
            "dfu_connect" | "read_option_bytes" | "flash" | "leave" => assert!(
                row.error_detail.contains("libusb"),
                "cycle {}: {}",
                row.cycle,
                row.error_detail
            ),
            "wait_enumeration" => {}
            other => panic!("cycle {}: failed at {other}", row.cycle),
        }
    }
    // A passing cycle read all 32 option bytes over DFU (no SWD in a guest to compare them with).
    for row in guest.iter().filter(|r| !r.failed()) {
        assert_eq!(
            row.option_bytes_check,
            Some(OptionBytesCheck::DfuOnly),
            "cycle {}",
            row.cycle
        );
        assert!(
            row.option_bytes_hex.starts_with("FFAA0055"),
            "cycle {}: {}",
            row.cycle,
            row.option_bytes_hex
        );
    }
    check(&guest, &console);
}

#[test]
fn guest_dfu_util_shows_the_seed_symptom_on_a_misclocked_boot_only() {
    let Some(_guest) = guest_lock() else { return };
    let mut g = Guest::new("tests/symptom.sh");
    g.timeout_s = 300;
    g.board = root().join("fixtures/boards/drifting-25mhz.toml");
    g.seed = 3;
    g.rig = true;
    let Boot {
        console, ctx, ok, ..
    } = boot(&g);
    let r = results(&console);
    let get = |k: &str| r.get(k).cloned().unwrap_or_else(|| "-".into());
    eprintln!(
        "misclocked boot ({}): {} dfu-util option-byte reads failed; correctly clocked boot ({}): {} failed",
        get("clocks_24"),
        get("misclocked_failed"),
        get("clocks_25"),
        get("healthy_failed")
    );
    assert!(ok, "QEMU failed\n{ctx}");
    assert!(get("clocks_24").starts_with("CLOCKS 1 PLLM 24 "), "{ctx}");
    assert!(get("clocks_25").starts_with("CLOCKS 1 PLLM 25 "), "{ctx}");
    let failed = |k: &str| -> u32 {
        get(k)
            .split_once('/')
            .and_then(|(f, _)| f.parse().ok())
            .unwrap_or_else(|| panic!("{k}\n{ctx}"))
    };
    // The seed's symptom: on a boot that picked PLLM 24 for a 25 MHz HSE, reading the option bytes with dfu-util
    // fails (mostly at reading the alt setting's long name, which dfu-util needs for the memory layout); on a
    // correctly clocked boot it never does.
    assert!(failed("misclocked_failed") >= 1, "{ctx}");
    assert_eq!(failed("healthy_failed"), 0, "{ctx}");
    let mut why: BTreeMap<&str, u32> = BTreeMap::new();
    for i in 1..=20 {
        let (lines, rc) = step(&console, &format!("misclocked_{i}"));
        if rc != Some(0) {
            // (an error after a progress bar shares its line)
            for l in lines
                .iter()
                .filter_map(|l| l.find("dfu-util: ").map(|at| &l[at..]))
            {
                *why.entry(l).or_default() += 1;
            }
        }
    }
    eprintln!("dfu-util's errors on the misclocked boot: {why:#?}");
    let failing = (1..=20)
        .map(|i| step(&console, &format!("misclocked_{i}")))
        .find(|(_, rc)| *rc != Some(0))
        .map(|(lines, _)| lines.join("\n"))
        .unwrap_or_default();
    eprintln!("a failing dfu-util run:\n{failing}");
    // dfu-util says why in its own words (which transfer failed depends on the draws: the alt setting's name,
    // the status, or the upload itself).
    assert!(
        why.keys()
            .any(|l| l.contains("Fail") || l.contains("ERROR")),
        "{why:#?}"
    );
}

/// `mdw` lines of OpenOCD's output: address → the words read from it on.
fn openocd_words(console: &str) -> BTreeMap<u32, u32> {
    let mut words = BTreeMap::new();
    for line in step(console, "openocd").0 {
        let Some((addr, rest)) = line.split_once(": ") else {
            continue;
        };
        let Some(addr) = addr
            .strip_prefix("0x")
            .and_then(|a| u32::from_str_radix(a, 16).ok())
        else {
            continue;
        };
        for (i, w) in rest.split_whitespace().enumerate() {
            if let Ok(w) = u32::from_str_radix(w, 16) {
                words.insert(addr + 4 * i as u32, w);
            }
        }
    }
    words
}

/// The "Registers" block of `hil clocks`: name → value.
fn hil_registers(lines: &[&str]) -> BTreeMap<String, u32> {
    let mut regs = BTreeMap::new();
    let mut in_block = false;
    for l in lines {
        in_block = l.starts_with("Registers") || (in_block && l.starts_with(' '));
        if !in_block {
            continue;
        }
        let fields: Vec<&str> = l
            .trim_start_matches("Registers")
            .split_whitespace()
            .collect();
        for pair in fields.chunks(2) {
            if let [name, value] = pair {
                if let Ok(v) = u32::from_str_radix(value, 16) {
                    regs.insert(name.to_string(), v);
                }
            }
        }
    }
    regs
}

#[test]
fn guest_openocd_and_probe_rs_read_the_board_through_its_virtual_probe() {
    let Some(_guest) = guest_lock() else { return };
    let mut g = Guest::new("tests/openocd.sh");
    g.extra.push(PathBuf::from(env!("CARGO_BIN_EXE_hil")));
    g.probe = true;
    g.mem_mb = 512; // hil, OpenOCD and its scripts unpacked in RAM
    g.timeout_s = 240;
    let Boot {
        console,
        ctx,
        ok,
        server,
    } = boot(&g);
    assert!(ok, "QEMU failed\n{ctx}");
    let (lsusb, _) = step(&console, "lsusb");
    assert!(
        lsusb.iter().any(|l| l.contains("1209:0001"))
            && lsusb.iter().any(|l| l.contains("0483:df11")),
        "the board and its probe are both on the guest's bus\n{ctx}"
    );
    assert_eq!(
        step(&console, "openocd").1,
        Some(0),
        "OpenOCD connects, examines and reads\n{ctx}"
    );
    let ocd = openocd_words(&console);
    let (clocks, rc) = step(&console, "hil-clocks");
    assert_eq!(rc, Some(0), "hil clocks --probe (probe-rs)\n{ctx}");
    let hil = hil_registers(&clocks);
    // The independent peer and probe-rs read the same words.
    for (name, addr) in [
        ("RCC_CR", 0x4002_3800u32),
        ("RCC_PLLCFGR", 0x4002_3804),
        ("RCC_CFGR", 0x4002_3808),
        ("FLASH_OPTCR", 0x4002_3C14),
        ("FLASH_OPTCR1", 0x4002_3C18),
        ("DBGMCU_IDCODE", 0xE004_2000),
    ] {
        assert!(ocd.contains_key(&addr), "OpenOCD read {name}\n{ctx}");
        assert_eq!(
            hil.get(name),
            ocd.get(&addr),
            "{name}: probe-rs against OpenOCD\n{ctx}"
        );
    }
    // And both equal the ground truth: the server's boot log (PLLM) and the board file (UID, DEV_ID, CPUID).
    let pllm = server
        .iter()
        .find_map(|l| {
            l.split(" -> PLLM ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse::<u32>()
                .ok()
        })
        .unwrap_or_else(|| panic!("the server logged the boot\n{ctx}"));
    assert_eq!(ocd[&0x4002_3804] & 0x3F, pllm, "PLLM\n{ctx}");
    let uid = vboard::BoardConfig::load(&healthy_board())
        .unwrap()
        .memory
        .uid;
    assert_eq!(
        [ocd[&0x1FF0_F420], ocd[&0x1FF0_F424], ocd[&0x1FF0_F428]],
        uid,
        "UID\n{ctx}"
    );
    assert_eq!(ocd[&0xE004_2000] & 0xFFF, 0x449, "DEV_ID\n{ctx}");
    assert_eq!(
        ocd[&0xE000_ED00], 0x410F_C271,
        "CPUID: Cortex-M7 r0p1\n{ctx}"
    );
    assert!(
        clocks.iter().any(|l| l.contains(&format!("M {pllm},"))),
        "hil decodes the same PLLM\n{ctx}"
    );
    // SYSCLK measured with CYCCNT in real time, within the uncertainty hil states.
    let (sysclk, rc) = step(&console, "hil-clocks-sysclk");
    assert_eq!(rc, Some(0), "{ctx}");
    let line = sysclk
        .iter()
        .find(|l| l.starts_with("SYSCLK meas."))
        .unwrap_or_else(|| panic!("no SYSCLK measurement\n{ctx}"));
    let nums: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let (mhz, unc_hz) = (nums[0], nums[1]);
    assert!(
        (mhz * 1e6 - 60e6).abs() <= unc_hz,
        "SYSCLK {mhz} MHz ± {unc_hz} Hz against the model's 60 MHz\n{ctx}"
    );
    // The halting session path: probe-rs holds NRST, catches the reset vector and lets the ROM run; the output
    // says the core was halted, and the server saw the NRST boot.
    let (under_reset, rc) = step(&console, "hil-clocks-under-reset");
    assert_eq!(rc, Some(0), "--connect-under-reset\n{ctx}");
    assert!(
        under_reset
            .iter()
            .any(|l| l.contains("core halted") && l.contains("connected under reset")),
        "{ctx}"
    );
    assert!(
        server.iter().any(|l| l.contains("(NRST,")),
        "a pin-reset boot\n{ctx}"
    );
    // A selector no probe answers to is the probe's failure, named, with the probes that are there.
    let (wrong, rc) = step(&console, "hil-clocks-wrong-probe");
    assert_eq!(rc, Some(1), "{ctx}");
    let text = wrong.join("\n");
    assert!(
        text.contains("[probe]") && text.contains("1209:0002") && text.contains("1209:0001"),
        "{text}"
    );
}

/// The server's boot log, by power-on: (PLLM, the HSE frequency the bootloader measured in Hz, USB clock error in
/// ppm).
fn server_boots(server: &[String]) -> BTreeMap<u64, (u8, u32, f64)> {
    let mut boots = BTreeMap::new();
    for l in server {
        let Some((_, rest)) = l.split_once("(power-on ") else {
            continue;
        };
        let n: u64 = match rest.split(',').next().and_then(|s| s.parse().ok()) {
            Some(n) => n,
            None => continue,
        };
        let after = |key: &str| {
            l.split(key)
                .nth(1)
                .and_then(|s| s.split_whitespace().next())
        };
        let pllm = after(" -> PLLM ").and_then(|s| s.parse().ok());
        let hse = after("HSE measured ").and_then(|s| s.parse::<f64>().ok());
        let ppm = l
            .rsplit_once('(')
            .and_then(|(_, p)| p.split_whitespace().next()?.parse::<f64>().ok());
        if let (Some(m), Some(h), Some(p)) = (pllm, hse, ppm) {
            boots.insert(n, (m, (h * 1e6).round() as u32, p));
        }
    }
    boots
}

#[test]
fn guest_soak_reads_every_boots_clocks_over_swd_through_the_virtual_probe() {
    let Some(_guest) = guest_lock() else { return };
    let dir = common::scratch("guest-soak-probe");
    let mut g = Guest::new("tests/soak-probe.sh");
    g.extra.push(PathBuf::from(env!("CARGO_BIN_EXE_hil")));
    g.timeout_s = 600;
    g.board = root().join("fixtures/boards/drifting-25mhz.toml");
    g.seed = 3;
    g.rig = true;
    g.probe = true;
    g.mem_mb = 512;
    let Boot {
        console,
        ctx,
        ok,
        server,
    } = boot(&g);
    assert!(ok, "QEMU failed\n{ctx}");
    assert_eq!(
        results(&console).get("soak_rc").map(String::as_str),
        Some("0"),
        "{ctx}"
    );
    let rows = guest_csv(&console, "cycles.csv", &dir);
    let boots = server_boots(&server);
    assert_eq!(rows.len(), 12, "{ctx}");
    let mut misdetected = Vec::new();
    for r in &rows {
        let (pllm, hse_hz, ppm) = boots
            .get(&r.cycle)
            .copied()
            .unwrap_or_else(|| panic!("no boot logged for power-on {}\n{ctx}", r.cycle));
        // The clock columns come from probe-rs reading the board through the probe, cycle by cycle.
        assert_eq!(r.pllm, Some(pllm), "cycle {}: PLLM\n{ctx}", r.cycle);
        // The bootloader believes its measurement rounded to whole MHz, which is PLLM at a 1 MHz PLL input.
        let believed = (f64::from(hse_hz) / 1e6).round() as u32 * 1_000_000;
        assert_eq!(
            believed,
            u32::from(pllm) * 1_000_000,
            "cycle {}: the log agrees with itself",
            r.cycle
        );
        assert_eq!(
            r.detected_hse_hz,
            Some(believed),
            "cycle {}: detected HSE",
            r.cycle
        );
        // The server's error is against the crystal's own drawn offset, the harness's against the nominal HSE.
        let recorded = r.usb_clock_error_ppm.expect("USB clock error recorded");
        assert!(
            (recorded - ppm).abs() < 100.0,
            "cycle {}: USB {recorded} ppm against {ppm}",
            r.cycle
        );
        let (hz, unc) = (
            r.sysclk_measured_hz.expect("SYSCLK measured"),
            r.sysclk_measured_uncertainty_hz
                .expect("with its uncertainty"),
        );
        let sysclk = r.sysclk_hz.expect("SYSCLK decoded");
        assert!(
            (hz - sysclk).abs() <= unc,
            "cycle {}: SYSCLK {hz} ± {unc} against {sysclk}",
            r.cycle
        );
        if pllm == 24 {
            misdetected.push(r.cycle);
        }
    }
    // Failures fall on exactly the misdetected boots, as without the probe.
    assert_eq!(failed(&rows), misdetected, "{ctx}");
    assert!(
        !misdetected.is_empty() && misdetected.len() < 12,
        "{misdetected:?}"
    );
    // Power-ons 13 to 15, each read by `hil clocks --probe` alone, decode exactly as `hil clocks --virtual` decodes
    // the same power-on of the same board seed in process: misdetected and healthy boots alike.
    let seed = server
        .iter()
        .find_map(|l| {
            let rest = l.split("new board, seed ").nth(1)?;
            rest.split(|c: char| !c.is_ascii_digit()).next()
        })
        .unwrap_or_else(|| panic!("the server logged the board's seed\n{ctx}"));
    let mut kinds = Vec::new();
    for n in 13..=15u64 {
        let (probe, rc) = step(&console, &format!("clocks-{n}"));
        assert_eq!(rc, Some(0), "power-on {n}: hil clocks --probe\n{ctx}");
        let (pllm, _, _) = boots
            .get(&n)
            .copied()
            .unwrap_or_else(|| panic!("the server logged power-on {n}\n{ctx}"));
        let out = Command::new(env!("CARGO_BIN_EXE_hil"))
            .args(["clocks", "--no-dfu", "--hse-hz", "25000000", "--seed", seed])
            .arg(format!("--virtual={}", g.board.display()))
            .arg(format!("--power-on={n}"))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let in_process = String::from_utf8(out.stdout).unwrap();
        // Everything but the lines that name where the words came from.
        let decoded = |lines: Vec<&str>| -> Vec<String> {
            lines
                .into_iter()
                .filter(|l| !l.starts_with("Board") && !l.starts_with("Read through"))
                .map(|l| l.trim_end().to_string())
                .filter(|l| !l.is_empty())
                .collect()
        };
        let (probe, virt) = (decoded(probe), decoded(in_process.lines().collect()));
        assert_eq!(
            probe, virt,
            "power-on {n}: probe-rs through the guest against the in-process board\n{ctx}"
        );
        let text = probe.join("\n");
        assert!(text.contains(&format!("M {pllm},")), "{text}");
        if pllm == 24 {
            assert!(
                text.contains("+41,666.7 ppm") && text.contains("HSE MISDETECTED"),
                "{text}"
            );
        }
        kinds.push(pllm);
    }
    assert!(
        kinds.contains(&24) && kinds.contains(&25),
        "power-ons 13-15 hold a misdetected and a healthy boot: {kinds:?}"
    );
}

/// USB hub port power, as far as QEMU goes: the board sits behind QEMU's usb-hub with `port-power=on`, and hil
/// switches the port with SetPortFeature/ClearPortFeature PORT_POWER through the guest kernel. The hub reports the
/// port unpowered with nothing connected, then powered, and the kernel enumerates the board anew; a soak
/// power-cycles through the port. Not exercised: the board losing power. QEMU's hub raises no connection change
/// when the port goes off (the kernel keeps the device until the port comes back), and it does not tell the
/// usbredir server that VBUS went away (the protocol has no message for it), so the server sees one boot and a bus
/// reset per re-enumeration; on a bench, a board powered from the port boots again.
#[test]
fn guest_hub_port_power_switching_drops_and_returns_the_board() {
    let Some(_guest) = guest_lock() else { return };
    let dir = common::scratch("guest-hub");
    let mut g = Guest::new("tests/hub.sh");
    g.extra.push(PathBuf::from(env!("CARGO_BIN_EXE_hil")));
    g.timeout_s = 300;
    g.hub = true;
    let Boot {
        console,
        ctx,
        ok,
        server,
    } = boot(&g);
    assert!(ok, "QEMU failed\n{ctx}");
    let r = results(&console);
    let get = |k: &str| r.get(k).map(String::as_str).unwrap_or("-");
    assert_ne!(
        get("devnum_at_start"),
        "none",
        "the board is at 1-1.1\n{ctx}"
    );
    let (off, rc) = step(&console, "hub-off");
    assert_eq!(rc, Some(0), "{ctx}");
    assert!(
        off.iter().any(
            |l| l.contains("hub 1-1 port 1: wPortStatus 0x0000 (power off, nothing connected)")
        ),
        "the hub switched the port off\n{ctx}"
    );
    let (on, rc) = step(&console, "hub-on");
    assert_eq!(rc, Some(0), "{ctx}");
    assert!(
        on.iter()
            .any(|l| l.contains("hub 1-1 port 1:") && l.contains("(power on,")),
        "{ctx}"
    );
    assert_ne!(
        get("devnum_after_on"),
        get("devnum_at_start"),
        "the kernel enumerated the board anew after the port came back\n{ctx}"
    );
    assert_eq!(get("soak_rc"), "0", "{ctx}");
    let rows = guest_csv(&console, "cycles.csv", &dir);
    assert_eq!(rows.len(), 3, "{ctx}");
    assert!(rows.iter().all(|r| !r.failed()), "{rows:#?}");
    // What QEMU does not pass on: the server saw its one boot, never a power cycle.
    assert!(
        !server.iter().any(|l| l.contains("(power-on ")),
        "{server:#?}"
    );
}

/// dfu-util as a scenario's exec step (the seed's engineers ran their own tools): each cycle power-cycles the
/// drifting board, reads its clocks over SWD, then releases its USB device to dfu-util, which uploads 32 KiB of
/// flash. The exec step fails on exactly the misdetected boots, in dfu-util's own words, and the soak's diagnosis
/// names the HSE misdetection.
#[test]
fn guest_soak_with_a_dfu_util_exec_step_fails_on_the_misdetected_boots() {
    let Some(_guest) = guest_lock() else { return };
    let dir = common::scratch("guest-soak-dfu-util");
    let mut g = Guest::new("tests/soak-probe.sh");
    g.extra.push(PathBuf::from(env!("CARGO_BIN_EXE_hil")));
    g.timeout_s = 600;
    g.board = root().join("fixtures/boards/drifting-25mhz.toml");
    g.seed = 3;
    g.rig = true;
    g.probe = true;
    g.mem_mb = 512;
    g.kernel_args
        .push("guest_scenario=guest-dfu-util.toml".into());
    let Boot {
        console,
        ctx,
        ok,
        server,
    } = boot(&g);
    assert!(ok, "QEMU failed\n{ctx}");
    assert_eq!(
        results(&console).get("soak_rc").map(String::as_str),
        Some("0"),
        "{ctx}"
    );
    let rows = guest_csv(&console, "cycles.csv", &dir);
    assert_eq!(rows.len(), 12, "{ctx}");
    let boots = server_boots(&server);
    let misdetected: Vec<u64> = rows
        .iter()
        .filter(|r| boots.get(&r.cycle).map(|b| b.0) == Some(24))
        .map(|r| r.cycle)
        .collect();
    for r in &rows {
        eprintln!(
            "cycle {:>2}: PLLM {:?} {} {}",
            r.cycle,
            r.pllm,
            if r.failed() { "FAIL" } else { "pass" },
            r.error_detail
        );
        // The clock columns are this boot's, read over SWD before the tool ran.
        assert_eq!(
            r.pllm,
            boots.get(&r.cycle).map(|b| b.0),
            "cycle {}",
            r.cycle
        );
    }
    assert!(
        !misdetected.is_empty() && misdetected.len() < 12,
        "seed 3 misdetects some boots: {misdetected:?}"
    );
    assert_eq!(
        failed(&rows),
        misdetected,
        "dfu-util fails on exactly the misdetected boots\n{ctx}"
    );
    for r in rows.iter().filter(|r| r.failed()) {
        assert_eq!(r.failed_step, "exec", "{r:?}");
        assert_eq!(r.error_class, Some(ErrorClass::Board), "{r:?}");
        assert!(
            r.error_detail.contains("dfu-util -p 1-1 -a 0"),
            "{}",
            r.error_detail
        );
    }
    // Each run of the tool is a steps.csv row with its exit code, time and log.
    let (steps, _) = step(&console, "steps.csv");
    let exec_rows: Vec<&&str> = steps.iter().filter(|l| l.contains(",exec,")).collect();
    assert_eq!(exec_rows.len(), 12, "{ctx}");
    assert!(
        exec_rows
            .iter()
            .filter(|l| l.contains(",pass,"))
            .all(|l| l.contains("exit code 0, ") && l.contains("log: exec/drifting-room-c")),
        "{exec_rows:#?}"
    );
    // The soak's own diagnosis names the cause with its numbers.
    let (soak, _) = step(&console, "soak");
    let diagnosis = soak
        .iter()
        .find(|l| l.starts_with("Diagnosis:"))
        .unwrap_or_else(|| panic!("no diagnosis line\n{ctx}"));
    assert!(
        diagnosis.contains("one cause: HSE misdetected")
            && diagnosis.contains("PLLM=24 on 25 MHz")
            && diagnosis.contains("exec step"),
        "{diagnosis}"
    );
}

#[test]
fn guest_probe_faults_are_classified_probe_failures_with_a_clear_message() {
    let Some(_guest) = guest_lock() else { return };
    let dir = common::scratch("guest-probe-faults");
    // (board file's [debug] lines, whether the probe is served, what the message must say)
    let cases = [
        ("ap_ack = \"wait\"", true, "WAIT"),
        ("ap_ack = \"fault\"", true, "FAULT"),
        ("powers_up = false", true, "timeout"),
        ("", false, "not found"),
    ];
    for (debug, served, says) in cases {
        let board = dir.join(format!("board-{}.toml", says.replace(' ', "-")));
        std::fs::write(&board, format!("name = \"planted\"\n[debug]\n{debug}\n")).unwrap();
        let mut g = Guest::new("tests/probe-fault.sh");
        g.extra.push(PathBuf::from(env!("CARGO_BIN_EXE_hil")));
        g.board = board;
        g.probe = served;
        g.mem_mb = 512;
        g.timeout_s = 180;
        let Boot { console, ctx, .. } = boot(&g);
        let (lines, rc) = step(&console, "hil-clocks");
        let text = lines.join("\n");
        assert_eq!(
            rc,
            Some(1),
            "{debug}: a failure, not a hang or a success\n{ctx}"
        );
        assert!(
            text.contains("[probe]"),
            "{debug}: classified as the probe's\n{text}"
        );
        assert!(
            text.contains(says),
            "{debug}: the message says {says:?}\n{text}"
        );
        assert!(
            text.contains("RCC_CR") || !served,
            "{debug}: it names what it was reading\n{text}"
        );
    }
}

/// The probe connection's closing line: (DAP commands, SWD transfers).
fn swd_cost(server: &[String]) -> Option<(u64, u64)> {
    let line = server
        .iter()
        .find(|l| l.contains("probe connection 0 closed"))?;
    let rest = line.split("closed: ").nth(1)?;
    let mut nums = rest
        .split_whitespace()
        .filter_map(|w| w.trim_end_matches(',').parse().ok());
    Some((nums.next()?, nums.next()?))
}

#[test]
fn guest_swd_cost_of_one_clock_read_hil_against_openocd() {
    let Some(_guest) = guest_lock() else { return };
    let mut rows = Vec::new();
    for (tool, script, step_name) in [
        ("OpenOCD 0.12", "tests/swd-openocd.sh", "openocd"),
        ("hil clocks (probe-rs)", "tests/swd-hil.sh", "hil-clocks"),
    ] {
        let mut g = Guest::new(script);
        g.extra.push(PathBuf::from(env!("CARGO_BIN_EXE_hil")));
        g.probe = true;
        g.mem_mb = 512;
        let Boot {
            console,
            ctx,
            server,
            ..
        } = boot(&g);
        assert_eq!(step(&console, step_name).1, Some(0), "{tool}\n{ctx}");
        let (commands, transfers) = swd_cost(&server)
            .unwrap_or_else(|| panic!("the server counted the probe's work\n{ctx}"));
        assert!(commands > 0 && transfers > 0, "{ctx}");
        let t = results(&console).get("t_read").cloned().unwrap_or_default();
        rows.push((tool, commands, transfers, t));
    }
    eprintln!("one clock read through the virtual probe  DAP commands  SWD transfers  wall time in the guest (s)");
    for (tool, commands, transfers, t) in &rows {
        eprintln!("{tool:<40} {commands:>12} {transfers:>14}  {t}");
    }
    // hil reads runs of consecutive registers in one block: it needs no more of the wire than OpenOCD.
    assert!(
        rows[1].2 <= rows[0].2,
        "hil {} SWD transfers against OpenOCD's {}",
        rows[1].2,
        rows[0].2
    );
}
