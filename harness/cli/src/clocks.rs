//! `hil clocks`: read the STM32's clock registers over SWD (probe-rs) or from a virtual board, decode them,
//! derive the USB clock error, optionally measure SYSCLK and (intrusively) HSI, and print it all.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use hil::backend::{clocks_report, BoardDescription, ClocksRun};
use hil::clocks::{render_text, Culprit, TargetDescription};
use hil::probe::{parse_selector, ProbeOptions};
use hil::transport::Selector;

use crate::output::error_chain;

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("chip_source").required(true).args(["probe", "virtual_board"])))]
pub struct ClocksArgs {
    /// Debug probe as VID:PID[:SERIAL] in hex, e.g. 0483:374b (ST-LINK/V2-1)
    #[arg(long, value_name = "VID:PID[:SERIAL]")]
    pub probe: Option<String>,
    /// probe-rs target name of the chip (default: the target file's, STM32F746ZGTx)
    #[arg(long, value_name = "NAME", conflicts_with = "virtual_board")]
    pub chip: Option<String>,
    /// SWD clock in kHz
    #[arg(
        long,
        value_name = "KHZ",
        default_value_t = 1800,
        conflicts_with = "virtual_board"
    )]
    pub speed_khz: u32,
    /// Hold NRST while attaching (restarts the bootloader; uses a halting probe-rs session)
    #[arg(long, conflicts_with = "virtual_board")]
    pub connect_under_reset: bool,
    /// Use a virtual STM32F746 board instead of a probe (`--virtual=BOARD_FILE` loads a board file; default:
    /// the built-in healthy 25 MHz board)
    #[arg(
        long = "virtual",
        value_name = "BOARD_FILE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = ""
    )]
    pub virtual_board: Option<String>,
    /// Seed for the virtual board's random draws; the same seed gives the same boot
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Read the virtual board in its N-th power-on, drawn as `hil vboard serve --rig` draws its N-th power-on:
    /// with --seed set to the board seed the server logs ("new board, seed …"), this is the boot a guest saw
    #[arg(long, value_name = "N", conflicts_with = "probe", value_parser = clap::value_parser!(u64).range(1..))]
    pub power_on: Option<u64>,
    /// The board's true HSE frequency in Hz (required with --probe; default: the board file's)
    #[arg(long, value_name = "HZ", value_parser = parse_hse_hz)]
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

pub fn run(a: &ClocksArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
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
    let description = description(a, &target)?;
    let window = Duration::from_millis(a.window_ms);
    let run = ClocksRun {
        target: &target,
        sysclk_window: a.measure_sysclk.then_some(window),
        hsi_window: a.measure_hsi.then_some(window),
        true_hse_hz: a.hse_hz,
        usb: !a.no_dfu,
        dfu_timeout: Duration::from_millis(a.timeout_ms),
    };
    let result = clocks_report(&description, &run);
    let report = match result? {
        Ok(report) => report,
        Err(e) if e.culprit() == Culprit::Harness => return Err(e.into()),
        Err(e) => {
            eprintln!("hil: {} [{}]", error_chain(&e), e.culprit().name());
            return Ok(ExitCode::from(1));
        }
    };
    if a.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        render_text(&mut &mut *out, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The board the flags name: a virtual board, or the probe (with the ST bootloader on USB for the DFU side).
fn description(a: &ClocksArgs, target: &TargetDescription) -> anyhow::Result<BoardDescription> {
    if let Some(file) = &a.virtual_board {
        let board_file = (!file.is_empty()).then(|| Path::new(file).to_path_buf());
        return Ok(BoardDescription::Virtual {
            board_file,
            seed: a.seed,
            port: 1,
            power_on: a.power_on,
        });
    }
    let spec = a
        .probe
        .as_deref()
        .context("--probe or --virtual is required")?;
    let selector = parse_selector(spec)?;
    a.hse_hz.context(
        "--hse-hz is required with --probe: the true HSE frequency of the board, e.g. 25000000",
    )?;
    let probe = ProbeOptions {
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
    Ok(BoardDescription::Real {
        usb: Selector::default(),
        probe: Some(probe),
    })
}

/// An HSE frequency an STM32F7 can have: 1–50 MHz (crystals 4–26 MHz, external clocks up to 50 MHz; the
/// bootloader itself detects whole MHz from 4 to 26 MHz). 0 or a negative value is a typing mistake.
fn parse_hse_hz(text: &str) -> Result<f64, String> {
    let hz: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a frequency in Hz (e.g. 25000000)"))?;
    if !(1e6..=50e6).contains(&hz) {
        return Err(format!(
            "{text} Hz is not an HSE an STM32F7 can have (1–50 MHz; the bootloader detects 4–26 MHz)"
        ));
    }
    Ok(hz)
}
