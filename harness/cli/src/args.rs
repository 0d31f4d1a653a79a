//! Command-line flags, parsed by clap. Nothing here talks to a device.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Soak-test STM32 ROM USB DFU bootloaders, on real boards or on the virtual STM32F746 board.
#[derive(Parser, Debug)]
#[command(name = "hil", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// List DFU devices with their alt settings, serials and port paths (like `dfu-util -l`)
    List(ListArgs),
    /// DfuSe operations on one device
    #[command(subcommand)]
    Dfu(DfuCommand),
    /// Soak: run a scenario's cycles on every board of its rig and record every cycle and step
    Soak(SoakArgs),
    /// Failure report from run folders: report.html, summary.json, junit.xml
    Report(ReportArgs),
    /// Read, decode and measure the chip's clocks over SWD (probe-rs) or on a virtual board
    Clocks(crate::clocks::ClocksArgs),
    /// One rig action on one board (power, BOOT0, NRST, temperature, supply current), to check a rig file by hand
    Rig(crate::rig::RigArgs),
    /// The virtual board on its own: serve it to QEMU guests over usbredir
    #[command(subcommand)]
    Vboard(crate::vboard::VboardCommand),
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Also list a virtual board (`--virtual=BOARD_FILE` loads a board file; default: the built-in healthy
    /// 25 MHz board)
    #[arg(
        long = "virtual",
        value_name = "BOARD_FILE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = ""
    )]
    pub virtual_board: Option<String>,
    /// Seed for the virtual board's random draws (HSI jitter, HSE detection, transfer failures)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct SoakArgs {
    /// Scenario file (default: scenarios/quick.toml, the quick soak on the virtual bench)
    #[arg(conflicts_with = "resume")]
    pub scenario: Option<PathBuf>,
    /// Continue a killed or interrupted run where its records stop
    #[arg(long, value_name = "RUN_DIR")]
    pub resume: Option<PathBuf>,
    /// Where run folders are created
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub reports: PathBuf,
    /// No live progress, even on a terminal
    #[arg(short, long)]
    pub quiet: bool,
    /// Compare the report with this earlier run (e.g. last night's)
    #[arg(long, value_name = "RUN_DIR")]
    pub baseline: Vec<PathBuf>,
    /// Exit 1 when the failure rate regressed against the baseline, even with the thresholds met
    #[arg(long, requires = "baseline")]
    pub fail_on_regression: bool,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Run folders to report on; several (e.g. one per rig host) are merged into one report
    #[arg(required = true, value_name = "RUN_DIR")]
    pub runs: Vec<PathBuf>,
    /// Where to write report.html, summary.json and junit.xml (default: the run folder, or
    /// reports/merged-<time> for several)
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Earlier run folder(s) to compare the failure rate with
    #[arg(long, value_name = "RUN_DIR")]
    pub baseline: Vec<PathBuf>,
    /// Exit 1 when the failure rate regressed against the baseline, even with the thresholds met
    #[arg(long, requires = "baseline")]
    pub fail_on_regression: bool,
    /// The runs' boards are the same physical boards even when the runs come from different rigs or hosts
    /// (default: their names get `@host`, or `@rig`, to keep them apart)
    #[arg(long)]
    pub same_boards: bool,
}

/// Which device to talk to: a real one selected like dfu-util, or a virtual board.
#[derive(Args, Debug, Clone)]
pub struct BoardArgs {
    /// Real device by USB ids, VID:PID in hex (dfu-util -d); default 0483:df11
    #[arg(short = 'd', long = "device", value_name = "VID:PID")]
    pub device: Option<String>,
    /// Real device by USB serial number (dfu-util -S)
    #[arg(short = 'S', long = "serial", value_name = "SERIAL")]
    pub serial: Option<String>,
    /// Real device by bus-port path, e.g. 1-1.2 (dfu-util -p)
    #[arg(short = 'p', long = "path", value_name = "BUS-PORT")]
    pub path: Option<String>,
    /// Use a virtual STM32F746 board instead of USB (`--virtual=BOARD_FILE` loads a board file; default:
    /// the built-in healthy 25 MHz board)
    #[arg(
        long = "virtual",
        value_name = "BOARD_FILE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "",
        conflicts_with_all = ["device", "serial", "path"]
    )]
    pub virtual_board: Option<String>,
    /// Seed for the virtual board's random draws; the same seed gives the same run
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Write every control transfer to FILE.pcap (Linux usbmon format; open with Wireshark or tshark)
    #[arg(long, value_name = "FILE.pcap")]
    pub capture: Option<PathBuf>,
    /// Per-request USB timeout in milliseconds (dfu-util uses 5000)
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    pub timeout_ms: u64,
    /// Print every DFU request and reply as it happens
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Subcommand, Debug)]
pub enum DfuCommand {
    /// Read the option bytes over DFU (alt setting "Option Bytes"), as STM32CubeProgrammer does on connect
    ReadOptionBytes {
        #[command(flatten)]
        board: BoardArgs,
        /// Also write the raw bytes to FILE
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Read LENGTH bytes from ADDRESS into FILE (flash, option bytes, OTP or system memory)
    Upload {
        #[command(flatten)]
        board: BoardArgs,
        /// Start address (hex with 0x, or decimal)
        #[arg(short, long, value_parser = parse_number)]
        address: u32,
        /// Number of bytes (suffixes K and M allowed: 64K)
        #[arg(short, long, value_parser = parse_number)]
        length: u32,
        /// Where to write the bytes
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Erase the sectors an image touches, write it, optionally verify it and leave DFU
    Flash {
        #[command(flatten)]
        board: BoardArgs,
        /// Image: .bin (needs --address), .hex (Intel HEX), .elf, or .dfu (DfuSe)
        image: PathBuf,
        /// Load address for a raw .bin image
        #[arg(short, long, value_parser = parse_number)]
        address: Option<u32>,
        /// Read the image back and compare
        #[arg(long)]
        verify: bool,
        /// Leave DFU afterwards: manifest, and jump to the image (the device re-enumerates or runs it)
        #[arg(long)]
        leave: bool,
        /// Allow the image to write the option-byte area (never allowed: read protection level 2)
        #[arg(long)]
        write_option_bytes: bool,
        /// Allow the image to write the one-time-programmable area (irreversible)
        #[arg(long)]
        write_otp: bool,
        /// With --write-otp, allow the OTP lock bytes too (locks OTP blocks for good)
        #[arg(long, requires = "write_otp")]
        lock_otp: bool,
        /// Allow the image to write the DfuSe device-feature bytes
        #[arg(long)]
        write_device_feature: bool,
        /// Flash a .dfu file made for another VID:PID than the device's
        #[arg(long)]
        allow_foreign_dfu: bool,
        /// Write one Set Address Pointer per block, as dfu-util 0.11 does (for comparison)
        #[arg(long)]
        per_block_address: bool,
    },
}

/// `--virtual FILE.toml`, the form before `--virtual[=BOARD_FILE]`: the board file, to say where it goes.
/// (No image, output or other value of a `--virtual` command is a `.toml` file, so this is never meant.)
pub fn board_file_after_space(argv: &[OsString]) -> Option<String> {
    argv.windows(2).find_map(|w| {
        let next = w[1].to_string_lossy();
        (w[0] == "--virtual" && next.ends_with(".toml")).then(|| next.into_owned())
    })
}

/// A number as engineers write addresses and sizes: `0x08000000`, `65536`, `64K`, `1M`.
pub fn parse_number(s: &str) -> Result<u32, String> {
    let t = s.trim().replace('_', "");
    let (digits, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1024u64),
        Some('m' | 'M') => (&t[..t.len() - 1], 1024 * 1024),
        _ => (t.as_str(), 1),
    };
    let value = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => digits.parse::<u64>(),
    }
    .map_err(|_| format!("{s:?} is not a number (use 0x08000000, 65536, 64K or 1M)"))?;
    u32::try_from(value * mult).map_err(|_| format!("{s:?} does not fit in 32 bits"))
}

#[cfg(test)]
mod tests {
    use super::parse_number;
    use rstest::rstest;

    #[rstest]
    #[case("0x08000000", Some(0x0800_0000))]
    #[case("65536", Some(65536))]
    #[case("64K", Some(65536))]
    #[case("1M", Some(1 << 20))]
    #[case("0x1_0000", Some(0x10000))]
    #[case("8G", None)]
    #[case("0x1_0000_0000", None)]
    #[case("ten", None)]
    fn numbers(#[case] s: &str, #[case] want: Option<u32>) {
        assert_eq!(parse_number(s).ok(), want);
    }
}
