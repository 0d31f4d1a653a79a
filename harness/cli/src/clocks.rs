//! `hil clocks`: read the STM32's clock registers over SWD (probe-rs) or from a virtual board, decode them,
//! derive the USB clock error, optionally measure SYSCLK and (intrusively) HSI, and print it all.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use dfuse::{Clock, SystemClock, VirtualClock};
use hil::clocks::{
    collect, render_text, AttachRecord, ClockError, ClocksReport, CollectOptions, Culprit,
    ReadPath, TargetDescription, UsbSide, VirtualMemory,
};
use hil::probe::{parse_selector, ProbeChip, ProbeOptions};
use hil::target::board_config;
use hil::transport::{list_usb, Selector, UsbTransport, VirtualBoard, VirtualTransport};
use vboard::Board;

use crate::output::error_chain;

/// How long a virtual board may take to attach to USB after power-on.
const VIRTUAL_ATTACH_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("chip_source").required(true).args(["probe", "virtual_board"])))]
pub struct ClocksArgs {
    /// Debug probe as VID:PID[:SERIAL] in hex, e.g. 0483:374b (ST-LINK/V2-1)
    #[arg(long, value_name = "VID:PID[:SERIAL]")]
    pub probe: Option<String>,
    /// probe-rs target name of the chip (default: the target file's, STM32F746ZGTx)
    #[arg(long, value_name = "NAME", requires = "probe")]
    pub chip: Option<String>,
    /// SWD clock in kHz
    #[arg(long, value_name = "KHZ", default_value_t = 1800, requires = "probe")]
    pub speed_khz: u32,
    /// Hold NRST while attaching (restarts the bootloader; uses a halting probe-rs session)
    #[arg(long, requires = "probe")]
    pub connect_under_reset: bool,
    /// Use a virtual STM32F746 board instead of a probe (optionally from BOARD_FILE; default: healthy 25 MHz)
    #[arg(long = "virtual", value_name = "BOARD_FILE", num_args = 0..=1, default_missing_value = "")]
    pub virtual_board: Option<String>,
    /// Seed for the virtual board's random draws; the same seed gives the same boot
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The board's true HSE frequency in Hz (required with --probe; default: the board file's)
    #[arg(long, value_name = "HZ")]
    pub hse_hz: Option<f64>,
    /// Measure SYSCLK with the DWT cycle counter against the host clock (not intrusive)
    #[arg(long)]
    pub measure_sysclk: bool,
    /// Measure HSI: INTRUSIVE, resets the board into a spin loop at reset clocks and back into the bootloader
    #[arg(long)]
    pub measure_hsi: bool,
    /// Measurement window in milliseconds (1..=15000; CYCCNT wraps after 2^32 cycles)
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub window_ms: u64,
    /// Target description file (default: the built-in fixtures/targets/stm32f7.toml)
    #[arg(long, value_name = "FILE")]
    pub target_file: Option<PathBuf>,
    /// Skip the USB side (serial and option bytes over DFU)
    #[arg(long)]
    pub no_dfu: bool,
    /// Per-request USB timeout in milliseconds for the DFU side
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub timeout_ms: u64,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: &ClocksArgs) -> anyhow::Result<ExitCode> {
    let target = match &a.target_file {
        Some(path) => TargetDescription::load(path)?,
        None => TargetDescription::stm32f7(),
    };
    if a.measure_hsi {
        eprintln!(
            "hil: --measure-hsi disturbs the board: it is reset into a spin loop at reset clocks (off USB), \
             then reset into the bootloader again, which re-detects HSE"
        );
    }
    let result = match &a.virtual_board {
        Some(file) => run_virtual(a, &target, (!file.is_empty()).then(|| Path::new(file))),
        None => run_probe(a, &target),
    };
    let report = match result? {
        Ok(report) => report,
        Err(e) if e.culprit() == Culprit::Harness => return Err(e.into()),
        Err(e) => {
            eprintln!("hil: {} [{}]", error_chain(&e), e.culprit().name());
            return Ok(ExitCode::from(1));
        }
    };
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        println!();
    } else {
        render_text(&mut out, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn options(a: &ClocksArgs, true_hse_hz: f64) -> CollectOptions {
    let window = Duration::from_millis(a.window_ms);
    CollectOptions {
        sysclk_window: a.measure_sysclk.then_some(window),
        hsi_window: a.measure_hsi.then_some(window),
        true_hse_hz,
    }
}

fn timeout(a: &ClocksArgs) -> Duration {
    Duration::from_millis(a.timeout_ms)
}

/// Harness problems (bad board file) are the outer `Err`; board and probe failures the inner one.
type Outcome = anyhow::Result<Result<ClocksReport, ClockError>>;

fn run_virtual(a: &ClocksArgs, target: &TargetDescription, file: Option<&Path>) -> Outcome {
    let config = board_config(file)?;
    let (true_hse, from) = match a.hse_hz {
        Some(hz) => (hz, "--hse-hz"),
        None => (f64::from(config.hse.frequency_hz), "board file"),
    };
    let name = format!("{} (virtual, seed {})", config.name(), a.seed);
    let clock = Arc::new(VirtualClock::new());
    let mut board = Board::new(config, a.seed);
    board.power_on(clock.now());
    let board = VirtualBoard::new(board);
    let usb = (!a.no_dfu).then(|| virtual_usb_side(&board, &clock, timeout(a)));
    let mut chip = VirtualMemory::new(board.clone(), clock.clone());
    let attached_at = clock.now();
    let usb_attach = board.lock().boot().map(|b| b.attach_at);
    let attach = AttachRecord {
        path: ReadPath::Virtual,
        connect_under_reset: false,
        attached_at_ms: ms(attached_at),
        after_usb_attach_ms: usb_attach.map(|u| ms(attached_at) - ms(u)),
        dfu_present_before: None,
        dfu_present_after: None,
    };
    let options = options(a, true_hse);
    Ok(collect(&mut chip, clock.as_ref(), target, &options)
        .map(|c| ClocksReport::new(name, from.into(), attach, c, usb)))
}

fn virtual_usb_side(board: &VirtualBoard, clock: &Arc<VirtualClock>, timeout: Duration) -> UsbSide {
    match VirtualTransport::open(board.clone(), clock.clone(), 1, VIRTUAL_ATTACH_TIMEOUT) {
        Ok(mut t) => UsbSide::read(&mut t, clock.clone(), timeout),
        Err(e) => UsbSide {
            error: Some(format!("the virtual board did not enumerate: {e}")),
            ..UsbSide::default()
        },
    }
}

fn run_probe(a: &ClocksArgs, target: &TargetDescription) -> Outcome {
    let spec = a
        .probe
        .as_deref()
        .context("--probe or --virtual is required")?;
    let selector = parse_selector(spec)?;
    let true_hse = a.hse_hz.context(
        "--hse-hz is required with --probe: the true HSE frequency of the board, e.g. 25000000",
    )?;
    let clock = SystemClock::new();
    let (usb, present_before) = match a.no_dfu {
        true => (None, None),
        false => {
            let (usb, present) = real_usb_side(timeout(a));
            (Some(usb), Some(present))
        }
    };
    let opts = ProbeOptions {
        selector,
        chip: a
            .chip
            .clone()
            .unwrap_or_else(|| target.probe_rs_chip.clone()),
        speed_khz: a.speed_khz,
        connect_under_reset: a.connect_under_reset,
        halting_session: a.measure_hsi,
        access_port: target.debug.access_port,
    };
    let mut chip = match ProbeChip::open(&opts) {
        Ok(chip) => chip,
        Err(e) => return Ok(Err(e)),
    };
    let attached_at = clock.now();
    let collected = collect(&mut chip, &clock, target, &options(a, true_hse));
    let name = format!(
        "{} via probe {} at {} kHz",
        opts.chip,
        opts.selector,
        chip.speed_khz()
    );
    let attach = AttachRecord {
        path: chip.path(),
        connect_under_reset: a.connect_under_reset,
        attached_at_ms: ms(attached_at),
        after_usb_attach_ms: None,
        dfu_present_before: present_before,
        dfu_present_after: (!a.no_dfu).then(dfu_present),
    };
    Ok(collected.map(|c| ClocksReport::new(name, "--hse-hz".into(), attach, c, usb)))
}

/// The ST ROM bootloader on USB (0483:df11), and whether it was there to be opened.
fn real_usb_side(timeout: Duration) -> (UsbSide, bool) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    match UsbTransport::open(&Selector::default()) {
        Ok(mut t) => (UsbSide::read(&mut t, clock, timeout), true),
        Err(e) => {
            let error = Some(format!(
                "opening the DFU device 0483:df11: {}",
                error_chain(&e)
            ));
            let usb = UsbSide {
                error,
                ..UsbSide::default()
            };
            (usb, dfu_present())
        }
    }
}

fn dfu_present() -> bool {
    let selector = Selector::default();
    list_usb()
        .map(|devices| devices.iter().any(|d| selector.matches(d)))
        .unwrap_or(false)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
