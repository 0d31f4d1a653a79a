//! `hil list`: DFU devices on the USB buses (and optionally a virtual board), like `dfu-util -l`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use hil::backend::{open_dfu, BoardDescription};
use hil::transport::{list_usb, DeviceInfo};

use crate::args::ListArgs;

pub fn run(args: &ListArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let mut devices = match list_usb() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("hil: cannot scan USB buses ({e}); is usbfs available?");
            Vec::new()
        }
    };
    if let Some(file) = &args.virtual_board {
        let board_file = (!file.is_empty()).then(|| Path::new(file).to_path_buf());
        let description = BoardDescription::Virtual {
            board_file,
            seed: args.seed,
            port: 1,
            power_on: None,
        };
        let (_board, mut transport) = open_dfu(&description, None)?;
        transport.read_all_strings();
        devices.push(transport.info().clone());
    }
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&devices)?)?;
    } else if devices.is_empty() {
        writeln!(
            out,
            "No DFU devices found. (Is the board in bootloader mode? Try `hil list --virtual`.)"
        )?;
    } else {
        for d in &devices {
            print_device(out, d)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_device(out: &mut dyn Write, d: &DeviceInfo) -> std::io::Result<()> {
    let serial = d.serial.as_deref().unwrap_or("(unreadable)");
    let f = d.functional.as_ref();
    for a in &d.alts {
        writeln!(
            out,
            "Found DFU: [{:04x}:{:04x}] ver={:04x}, devnum={}, cfg=1, intf={}, path=\"{}\", alt={}, name=\"{}\", serial=\"{}\"",
            d.vid,
            d.pid,
            d.bcd_device,
            d.address,
            d.interface,
            d.port_path,
            a.alt,
            a.name.as_deref().unwrap_or("UNKNOWN"),
            serial
        )?;
    }
    if let Some(f) = f {
        writeln!(
            out,
            "    functional descriptor: bmAttributes=0x{:02X} wDetachTimeOut={} ms wTransferSize={} bcdDFUVersion=0x{:04X}",
            f.attributes.0,
            f.detach_timeout.as_millis(),
            f.transfer_size,
            f.dfu_version
        )?;
    }
    Ok(())
}
