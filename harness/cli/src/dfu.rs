//! `hil dfu ...`: read option bytes, upload, flash — on a real device or a virtual board.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use dfuse::{AddressMode, Clock};
use hil::backend::{open_dfu, Backends, BoardDescription};
use hil::dfu::{self, FlashOptions, OpError};
use hil::image::Image;
use hil::transport::{Selector, Transport};

use crate::args::{BoardArgs, DfuCommand};
use crate::output::{error_chain, hex_dump, LivePrinter};

pub fn run(cmd: DfuCommand, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match cmd {
        DfuCommand::ReadOptionBytes { board, output } => {
            read_option_bytes(out, &board, output.as_deref())
        }
        DfuCommand::Upload {
            board,
            address,
            length,
            output,
        } => {
            if length == 0 {
                anyhow::bail!(
                    "--length 0: nothing to read; give the number of bytes (e.g. --length 32)"
                );
            }
            upload(out, &board, address, length, &output)
        }
        DfuCommand::Flash {
            board,
            image,
            address,
            verify,
            leave,
            write_option_bytes,
            write_otp,
            lock_otp,
            write_device_feature,
            allow_foreign_dfu,
            per_block_address,
        } => {
            let image = Image::load(&image, address)?;
            let mode = if per_block_address {
                AddressMode::PerBlock
            } else {
                AddressMode::Contiguous
            };
            let opts = FlashOptions {
                verify,
                leave,
                write_option_bytes,
                write_otp,
                lock_otp,
                write_device_feature,
                allow_foreign_dfu,
                mode,
                timeout: timeout(&board),
            };
            flash(out, &board, &image, opts)
        }
    }
}

fn description(t: &BoardArgs) -> anyhow::Result<BoardDescription> {
    if let Some(file) = &t.virtual_board {
        let board_file = (!file.is_empty()).then(|| Path::new(file).to_path_buf());
        return Ok(BoardDescription::Virtual {
            board_file,
            seed: t.seed,
            port: 1,
            power_on: None,
        });
    }
    let usb = Selector {
        vid_pid: t
            .device
            .as_deref()
            .map(Selector::parse_vid_pid)
            .transpose()?,
        serial: t.serial.clone(),
        path: t.path.as_deref().map(Selector::parse_path).transpose()?,
    };
    Ok(BoardDescription::Real { usb, probe: None })
}

/// A board with its DFU transport open, and the clock the transfers run on.
struct Opened {
    transport: Box<dyn Transport>,
    _backends: Backends,
    clock: std::sync::Arc<dyn Clock>,
}

fn timeout(t: &BoardArgs) -> Duration {
    Duration::from_millis(t.timeout_ms)
}

fn open_board(t: &BoardArgs) -> anyhow::Result<Opened> {
    let (backends, transport) = open_dfu(&description(t)?, t.capture.as_deref())?;
    let opened = Opened {
        clock: backends.clock(),
        transport,
        _backends: backends,
    };
    let mut opened = opened;
    let serial = opened.transport.serial();
    let info = opened.transport.info();
    eprintln!(
        "Device {:04x}:{:04x} ver={:04x} serial={} at {}",
        info.vid,
        info.pid,
        info.bcd_device,
        serial.as_deref().unwrap_or("(unreadable)"),
        info.port_path
    );
    Ok(opened)
}

/// After an operation: the alt settings whose name it needed and could not read.
fn note_unreadable(t: &dyn Transport) {
    let unreadable: Vec<String> = t
        .info()
        .unreadable_alts()
        .iter()
        .map(u8::to_string)
        .collect();
    if !unreadable.is_empty() {
        eprintln!(
            "note: the name of alt setting(s) {} could not be read (USB transfer failed); using the STM32F74x \
             layout for them",
            unreadable.join(", ")
        );
    }
}

/// The board did not enumerate (or left the bus while being opened): the board's failure, exit 1 with its
/// kind, as any other device failure. A host that may not open it (access, busy) and a bad board file stay
/// errors of the harness or the user (exit 2).
fn enumeration_failed(e: anyhow::Error) -> anyhow::Result<ExitCode> {
    use dfuse::TransferErrorKind as K;
    match e.downcast_ref::<hil::backend::OpenError>() {
        Some(hil::backend::OpenError::Device(t)) if !matches!(t.kind, K::Access | K::Busy) => {
            eprintln!("hil: {} [{}]", error_chain(e.as_ref()), t.kind.name());
            Ok(ExitCode::from(1))
        }
        _ => Err(e),
    }
}

/// A failed operation: exit 1 when the device or board failed it, 2 when it was refused before the first
/// transfer (the image or range does not fit the device: the user's input, not the board, is at fault).
fn device_failed(e: &OpError) -> ExitCode {
    eprintln!("hil: {} [{}]", error_chain(e), e.kind_name());
    match e.kind_name() {
        "refused" | "layout" | "usage" => ExitCode::from(2),
        _ => ExitCode::from(1),
    }
}

fn finish_capture(t: &BoardArgs) {
    if let Some(path) = &t.capture {
        eprintln!("Capture written to {}", path.display());
    }
}

fn read_option_bytes(
    out: &mut dyn Write,
    t: &BoardArgs,
    output: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let mut o = match open_board(t) {
        Ok(o) => o,
        Err(e) => return enumeration_failed(e),
    };
    let printer = LivePrinter { enabled: t.verbose };
    let result = dfu::read_option_bytes(o.transport.as_mut(), o.clock.clone(), timeout(t), printer);
    note_unreadable(o.transport.as_ref());
    drop(o);
    finish_capture(t);
    let ob = match result {
        Ok(ob) => ob,
        Err(e) => return Ok(device_failed(&e)),
    };
    writeln!(
        out,
        "Option bytes: {} bytes at 0x{:08X} (alt {})",
        ob.data.len(),
        ob.address,
        ob.alt
    )?;
    hex_dump(out, ob.address, &ob.data)?;
    if let Some(path) = output {
        std::fs::write(path, &ob.data).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn upload(
    out: &mut dyn Write,
    t: &BoardArgs,
    address: u32,
    length: u32,
    output: &Path,
) -> anyhow::Result<ExitCode> {
    let mut o = match open_board(t) {
        Ok(o) => o,
        Err(e) => return enumeration_failed(e),
    };
    let printer = LivePrinter { enabled: t.verbose };
    let result = dfu::upload(
        o.transport.as_mut(),
        o.clock.clone(),
        timeout(t),
        address,
        length as usize,
        printer,
    );
    note_unreadable(o.transport.as_ref());
    drop(o);
    finish_capture(t);
    match result {
        Ok(data) => {
            std::fs::write(output, &data)
                .with_context(|| format!("writing {}", output.display()))?;
            writeln!(
                out,
                "Read {} bytes from 0x{address:08X} into {}",
                data.len(),
                output.display()
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(device_failed(&e)),
    }
}

fn flash(
    out: &mut dyn Write,
    t: &BoardArgs,
    image: &Image,
    opts: FlashOptions,
) -> anyhow::Result<ExitCode> {
    let mut o = match open_board(t) {
        Ok(o) => o,
        Err(e) => return enumeration_failed(e),
    };
    let printer = LivePrinter { enabled: t.verbose };
    let started = o.clock.now();
    let result = dfu::flash(o.transport.as_mut(), o.clock.clone(), image, opts, printer);
    let elapsed = o.clock.now().saturating_sub(started);
    note_unreadable(o.transport.as_ref());
    drop(o);
    finish_capture(t);
    let report = match result {
        Ok(r) => r,
        Err(e) => return Ok(device_failed(&e)),
    };
    writeln!(
        out,
        "Flashed {} bytes in {} segment(s), {} sector(s) erased, in {:.2} s{}{}",
        report.bytes,
        image.segments().len(),
        report.sectors_erased,
        elapsed.as_secs_f64(),
        if report.verified { ", verified" } else { "" },
        match report.reenumerated {
            Some(true) => ", left DFU (device re-enumerated)",
            Some(false) => ", left DFU (device did not come back as DFU: running the image?)",
            None => "",
        }
    )?;
    if let Some(ob) = &report.option_bytes {
        writeln!(
            out,
            "Option bytes written: the chip reset to apply them and re-enumerated; they now read{}:",
            if ob.as_written {
                " as written"
            } else {
                " DIFFERENTLY from what was written"
            }
        )?;
        hex_dump(out, ob.address, &ob.now)?;
        if !ob.as_written {
            eprintln!(
                "hil: the option bytes read back after the reset differ from the image: the chip did not apply \
                 them as written (it computes the complement bytes itself; a reserved bit?) [verify]"
            );
            return Ok(ExitCode::from(1));
        }
    }
    Ok(ExitCode::SUCCESS)
}
