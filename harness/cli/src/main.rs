//! The `hil` command: a thin layer that parses flags into ready objects and hands them to the `hil` library.
//! Exit codes: 0 success, 1 the device or board failed the operation, 2 usage or harness error.

mod args;
mod clocks;
mod default_scenario;
mod dfu;
mod list;
mod output;
mod progress;
mod report;
mod rig;
mod soak;
mod vboard;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(file) = args::board_file_after_space(&argv) {
        eprintln!(
            "hil: a board file goes after an equals sign: --virtual={file} (a bare --virtual is the built-in \
             healthy board)"
        );
        return ExitCode::from(2);
    }
    let cli = args::Cli::parse_from(argv);
    let mut out = std::io::stdout();
    let result = match cli.command {
        args::Command::List(a) => list::run(&a, &mut out),
        args::Command::Dfu(a) => dfu::run(a, &mut out),
        args::Command::Soak(a) => soak::run(&a, &mut out),
        args::Command::Report(a) => report::run(&a, &mut out),
        args::Command::Clocks(a) => clocks::run(&a, &mut out),
        args::Command::Rig(a) => rig::run(&a, &mut out),
        args::Command::Vboard(a) => vboard::run(&a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hil: {}", output::error_chain(e.as_ref()));
            ExitCode::from(2)
        }
    }
}
