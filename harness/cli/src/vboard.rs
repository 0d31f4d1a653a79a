//! `hil vboard serve`: put a virtual board on a real USB stack. Listens for usbredir clients (QEMU's
//! `usb-redir` device, spice clients); each connection gets a fresh board. With `--rig` it also plays the rig
//! controller, so a soak inside the VM can power-cycle the board. Runs until Ctrl-C.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Subcommand};
use hil::backend::board_config;
use usbredir::{serve, serve_probes, serve_rig, ListenAddr, Listener, RigBoards, SessionConfig};

#[derive(Subcommand, Debug)]
pub enum VboardCommand {
    /// Serve a virtual board over usbredir (QEMU -device usb-redir), one fresh board per connection
    Serve(ServeArgs),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Board file (default: the built-in healthy 25 MHz board)
    #[arg(value_name = "BOARD_FILE")]
    pub board_file: Option<PathBuf>,
    /// Where to listen: unix:/path/sock, /path/sock, 127.0.0.1:PORT, [::1]:PORT or localhost:PORT
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// Run seed: connection N (from 0) draws like board seed N+1 of a virtual rig in a soak with this seed
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Capture every control transfer; connection N writes FILE-N.pcap (usbmon format)
    #[arg(long, value_name = "FILE.pcap")]
    pub capture: Option<PathBuf>,
    /// Also serve a rig controller here (PWR n ON|OFF, BOOT0 n 0|1, RST n MS, TEMP n?, XFERS n?), for a
    /// soak inside the VM: map it to a guest serial port (QEMU -chardev socket,path=...,id=rig -serial chardev:rig)
    #[arg(long, value_name = "ADDR")]
    pub rig: Option<String>,
    /// Also serve each board's virtual CMSIS-DAP v2 probe (1209:0001) here, as a second usbredir device: probe
    /// connection N is wired to the SWD port and NRST of board connection N (QEMU: a second -device usb-redir)
    #[arg(long, value_name = "ADDR")]
    pub probe_listen: Option<String>,
    /// Allow a TCP address that is not loopback (the board has no authentication: anyone who can
    /// connect gets full access to the device)
    #[arg(long)]
    pub allow_remote: bool,
    /// Connections served at once (each holds a board of about 1 MiB); more are closed at once
    #[arg(long, value_name = "N", default_value_t = usbredir::MAX_CONNECTIONS as u64,
          value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub max_connections: u64,
    /// Close a connection that has not sent its usbredir hello within this time
    #[arg(long, value_name = "MS", default_value_t = usbredir::HELLO_TIMEOUT.as_millis() as u64,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub hello_timeout_ms: u64,
}

pub fn run(command: &VboardCommand) -> anyhow::Result<ExitCode> {
    let VboardCommand::Serve(a) = command;
    let addr = ListenAddr::parse(&a.listen).context("--listen")?;
    let board = board_config(a.board_file.as_deref()).context("loading the board file")?;
    let mut config = SessionConfig::new(board, a.seed);
    config.capture = a.capture.clone();
    config.max_connections = usize::try_from(a.max_connections).unwrap_or(usize::MAX);
    config.hello_timeout = std::time::Duration::from_millis(a.hello_timeout_ms);
    let listener = Listener::bind(&addr, a.allow_remote).context("--listen")?;
    let rig = match &a.rig {
        Some(rig) => {
            let addr = ListenAddr::parse(rig).context("--rig")?;
            Some(Listener::bind(&addr, a.allow_remote).context("--rig")?)
        }
        None => None,
    };
    let probes = match &a.probe_listen {
        Some(p) => {
            let addr = ListenAddr::parse(p).context("--probe-listen")?;
            Some(Listener::bind(&addr, a.allow_remote).context("--probe-listen")?)
        }
        None => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed))
        .context("installing the Ctrl-C handler")?;
    eprintln!(
        "hil: virtual board listening on {} (usbredir); Ctrl-C to stop",
        listener.local_addr()
    );
    let rig_thread = match rig {
        Some(rig) => {
            let boards = RigBoards::new();
            config.rig = Some(boards.clone());
            eprintln!("hil: rig controller listening on {}", rig.local_addr());
            let stop = Arc::clone(&stop);
            Some(std::thread::spawn(move || {
                let served = serve_rig(&rig, &boards, &stop);
                if let Err(e) = &served {
                    // A VM relying on the rig cannot work without it: stop the whole server now, not at Ctrl-C.
                    eprintln!("hil: rig controller failed: {e}; stopping");
                    stop.store(true, Ordering::Relaxed);
                }
                served
            }))
        }
        None => None,
    };
    let probe_thread = probes.map(|probes| {
        eprintln!(
            "hil: CMSIS-DAP probes listening on {} (usbredir)",
            probes.local_addr()
        );
        let (config, stop) = (config.clone(), Arc::clone(&stop));
        std::thread::spawn(move || serve_probes(&probes, &config, &stop))
    });
    let served = serve(&listener, &config, &stop);
    stop.store(true, Ordering::Relaxed); // the rig thread ends with the server, however it ended
    let totals = served.context("serving")?;
    if let Some(t) = probe_thread {
        match t.join() {
            Ok(r) => r.context("serving the probes")?,
            Err(_) => anyhow::bail!("the probe server thread panicked"),
        }
    }
    if let Some(t) = rig_thread {
        match t.join() {
            Ok(r) => r.context("serving the rig controller")?,
            Err(_) => anyhow::bail!("the rig controller thread panicked"),
        }
    }
    eprintln!("hil: stopped; finished connections served {totals}");
    Ok(ExitCode::SUCCESS)
}
