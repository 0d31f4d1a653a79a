//! A session's control transfers: the client's control packets and its set/get configuration and alt-setting
//! requests become the board's control transfers, waited for on the real clock, counted and captured.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dfuse::{Clock, Setup, TransferError, TransferErrorKind};
use vboard::UsbError;

use super::{Session, SessionError};
use crate::pcap::PcapWriter;
use crate::protocol::{ControlPacket, Packet, Status};

const SET_CONFIGURATION: u8 = 0x09;
const GET_CONFIGURATION: u8 = 0x08;
const SET_INTERFACE: u8 = 0x0b;
const GET_INTERFACE: u8 = 0x0a;

impl Session {
    pub(super) fn control(&mut self, c: ControlPacket) -> ControlPacket {
        let is_in = c.endpoint & 0x80 != 0;
        let data_out = if is_in { &[][..] } else { &c.data[..] };
        let (status, data) = self.transfer(c.setup(), data_out);
        let length = match (status, is_in) {
            (Status::Success, true) => data.len() as u16,
            (Status::Success, false) => c.data.len() as u16,
            _ => 0,
        };
        ControlPacket {
            status,
            length,
            data: if is_in { data } else { Vec::new() },
            ..c
        }
    }

    pub(super) fn set_configuration(&mut self, configuration: u8) -> Packet {
        let (status, _) =
            self.transfer([0x00, SET_CONFIGURATION, configuration, 0, 0, 0, 0, 0], &[]);
        if status == Status::Success {
            self.configuration = configuration;
        }
        Packet::ConfigurationStatus {
            status,
            configuration: self.configuration,
        }
    }

    pub(super) fn get_configuration(&mut self) -> Packet {
        let (status, data) = self.transfer([0x80, GET_CONFIGURATION, 0, 0, 0, 0, 1, 0], &[]);
        Packet::ConfigurationStatus {
            status,
            configuration: data.first().copied().unwrap_or(self.configuration),
        }
    }

    pub(super) fn set_alt(&mut self, interface: u8, alt: u8) -> Packet {
        let (status, _) = self.transfer([0x01, SET_INTERFACE, alt, 0, interface, 0, 0, 0], &[]);
        Packet::AltSettingStatus {
            status,
            interface,
            alt,
        }
    }

    pub(super) fn get_alt(&mut self, interface: u8) -> Packet {
        let (status, data) = self.transfer([0x81, GET_INTERFACE, 0, 0, interface, 0, 1, 0], &[]);
        Packet::AltSettingStatus {
            status,
            interface,
            alt: data.first().copied().unwrap_or(0),
        }
    }

    /// One control transfer on the board, waited for on the real clock, counted and captured.
    fn transfer(&mut self, setup: [u8; 8], data_out: &[u8]) -> (Status, Vec<u8>) {
        if !self.connected {
            self.stats.io_errors += 1;
            return (Status::IoError, Vec::new());
        }
        let submitted = self.board.clock.now();
        let completion = self.b().control(submitted, setup, data_out);
        let result = match completion.result {
            Err(UsbError::NoResponse) => {
                let hold = completion.done_at.saturating_sub(submitted);
                self.board.clock.sleep(hold.min(self.no_response_wait));
                Err(TransferError::new(TransferErrorKind::Timeout, "no answer"))
            }
            other => {
                self.board
                    .clock
                    .sleep(completion.done_at.saturating_sub(self.board.clock.now()));
                other.map_err(to_transfer_error)
            }
        };
        self.stats.control_transfers += 1;
        self.capture(setup, data_out, &result, submitted);
        self.log_boot(); // a transfer can reboot the board (leave, option bytes)
        match result {
            Ok(data) => (Status::Success, data),
            Err(e) => (self.count_failure(e.kind), Vec::new()),
        }
    }

    fn count_failure(&mut self, kind: TransferErrorKind) -> Status {
        match kind {
            TransferErrorKind::Stall => {
                self.stats.stalls += 1;
                Status::Stall
            }
            TransferErrorKind::Timeout => {
                self.stats.timeouts += 1;
                Status::Timeout
            }
            _ => {
                self.stats.io_errors += 1;
                Status::IoError
            }
        }
    }

    fn capture(
        &mut self,
        setup: [u8; 8],
        data_out: &[u8],
        result: &Result<Vec<u8>, TransferError>,
        submitted: Duration,
    ) {
        let Some(pcap) = &mut self.pcap else { return };
        let written = pcap
            .control(
                Setup::from_bytes(setup),
                data_out,
                result,
                submitted,
                self.board.clock.now(),
            )
            .and_then(|()| pcap.flush());
        if let Err(e) = written {
            let path = self
                .capture_path
                .as_deref()
                .unwrap_or(std::path::Path::new("?"));
            eprintln!("hil: capture {} stopped: {e}", path.display());
            self.pcap = None;
        }
    }
}

fn to_transfer_error(e: UsbError) -> TransferError {
    match e {
        UsbError::Stall => TransferError::new(TransferErrorKind::Stall, "STALL handshake"),
        UsbError::NoResponse => TransferError::new(TransferErrorKind::Timeout, "no answer"),
        UsbError::Protocol { detail } => TransferError::new(TransferErrorKind::Io, detail),
        UsbError::Disconnected => {
            TransferError::new(TransferErrorKind::Disconnected, "device left the bus")
        }
    }
}

pub(super) fn open_capture(path: &PathBuf) -> Result<PcapWriter<BufWriter<File>>, SessionError> {
    let fail = |source| SessionError::Capture {
        path: path.clone(),
        source,
    };
    let file = File::create(path).map_err(fail)?;
    let mut pcap = PcapWriter::new(BufWriter::new(file), 1, 1).map_err(fail)?;
    pcap.set_epoch(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default(),
    );
    Ok(pcap)
}
