//! The virtual backend: a [`vboard::Board`] behind the same [`Transport`] trait as real USB. The board is
//! enumerated the way a USB host stack does it — real GET_DESCRIPTOR requests whose bytes are parsed by the
//! same pure parsers the real backend relies on — and every transfer runs in virtual time: the shared clock
//! advances to when the board completes the transfer, or by the host timeout when it does not answer.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use dfuse::descriptor::{parse_config_descriptor, parse_device_descriptor};
use dfuse::{Clock, DfuIo, Setup, TransferError, TransferErrorKind, VirtualClock};
use vboard::{Board, UsbError};

use super::{AltSetting, DeviceInfo, ReadString, StringIndexes, StringOf, Transport};

/// A virtual board shared between its transport and the rig that powers and resets it.
#[derive(Clone)]
pub struct VirtualBoard(Arc<Mutex<Board>>);

impl VirtualBoard {
    /// Share `board`.
    pub fn new(board: Board) -> Self {
        Self(Arc::new(Mutex::new(board)))
    }

    /// Exclusive access to the board (a poisoned lock still yields the board: its state is plain data).
    pub fn lock(&self) -> MutexGuard<'_, Board> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How often a waiting host looks at the bus in virtual time.
const POLL_STEP: Duration = Duration::from_millis(10);
/// Timeout for enumeration requests (Linux uses 5 s for GET_DESCRIPTOR).
const ENUM_TIMEOUT: Duration = Duration::from_millis(5000);
/// Linux's `usb_get_descriptor` tries each descriptor read three times...
const ENUM_TRIES: usize = 3;
/// ...and `hub_port_connect` re-initialises the port and starts over up to four times (PORT_INIT_TRIES).
/// These retries are why a misclocked board still enumerates while a tool's single option-byte read fails.
const PORT_INIT_TRIES: usize = 4;

/// A host's view of one virtual board on a virtual bus.
pub struct VirtualTransport {
    board: VirtualBoard,
    clock: Arc<VirtualClock>,
    info: DeviceInfo,
}

impl VirtualTransport {
    /// Wait (in virtual time, up to `attach_timeout`) for the board to attach, then enumerate it.
    /// `port` is the board's port on the virtual root hub (its `-p` path is `0-PORT`).
    pub fn open(
        board: VirtualBoard,
        clock: Arc<VirtualClock>,
        port: u8,
        attach_timeout: Duration,
    ) -> Result<Self, TransferError> {
        let mut t = Self {
            board,
            clock,
            info: empty_info(port, 0),
        };
        t.wait_attached(attach_timeout)?;
        t.enumerate(1)?;
        Ok(t)
    }

    /// The board behind this transport.
    pub fn board(&self) -> &VirtualBoard {
        &self.board
    }

    fn wait_attached(&self, timeout: Duration) -> Result<(), TransferError> {
        let deadline = self.clock.now() + timeout;
        while !self.board.lock().attached(self.clock.now()) {
            if self.clock.now() >= deadline {
                return Err(TransferError::new(
                    TransferErrorKind::Disconnected,
                    format!(
                        "virtual board did not attach within {} ms",
                        timeout.as_millis()
                    ),
                ));
            }
            self.clock.sleep(POLL_STEP);
        }
        Ok(())
    }

    fn transfer(
        &mut self,
        setup: Setup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>, TransferError> {
        let now = self.clock.now();
        let completion = {
            let mut board = self.board.lock();
            if !board.attached(now) {
                return Err(TransferError::new(
                    TransferErrorKind::Disconnected,
                    "device is not on the bus",
                ));
            }
            board.control(now, setup.to_bytes(), data)
        };
        let took = completion.done_at.saturating_sub(now);
        if took > timeout || matches!(completion.result, Err(UsbError::NoResponse)) {
            self.clock.advance_to(now + timeout);
            return Err(TransferError::new(
                TransferErrorKind::Timeout,
                format!("no answer within {} ms", timeout.as_millis()),
            ));
        }
        self.clock.advance_to(completion.done_at);
        completion.result.map_err(|e| match e {
            UsbError::Stall => TransferError::new(TransferErrorKind::Stall, "STALL handshake"),
            UsbError::Disconnected => {
                TransferError::new(TransferErrorKind::Disconnected, "device left the bus")
            }
            UsbError::Protocol { detail } => TransferError::new(TransferErrorKind::Io, detail),
            UsbError::NoResponse => unreachable!("handled above"),
        })
    }

    fn get_descriptor(
        &mut self,
        kind: u8,
        index: u8,
        lang: u16,
        len: u16,
    ) -> Result<Vec<u8>, TransferError> {
        let setup = Setup {
            request_type: 0x80,
            request: 0x06,
            value: u16::from(kind) << 8 | u16::from(index),
            index: lang,
            length: len,
        };
        self.control_in(setup, ENUM_TIMEOUT)
    }

    fn get_descriptor_retrying(&mut self, kind: u8, len: u16) -> Result<Vec<u8>, TransferError> {
        let mut last = None;
        for _ in 0..ENUM_TRIES {
            match self.get_descriptor(kind, 0, 0, len) {
                Ok(d) => return Ok(d),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("ENUM_TRIES > 0"))
    }

    /// What a USB host stack does when a device appears, with Linux's retry structure.
    fn enumerate(&mut self, address: u8) -> Result<(), TransferError> {
        let mut last = None;
        for _ in 0..PORT_INIT_TRIES {
            match self.enumerate_once(address) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind == TransferErrorKind::Disconnected => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("PORT_INIT_TRIES > 0"))
    }

    /// One enumeration attempt: device descriptor, configuration descriptor, SET_CONFIGURATION. Strings are
    /// read when asked for ([`Transport::string`]), through the same code as over real USB.
    fn enumerate_once(&mut self, address: u8) -> Result<(), TransferError> {
        let port = self
            .info
            .port_path
            .rsplit('-')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        self.info = empty_info(port, address);
        let proto = |e: String| TransferError::new(TransferErrorKind::Io, e);
        let dd_raw = self.get_descriptor_retrying(0x01, 18)?;
        let dd = parse_device_descriptor(&dd_raw)
            .map_err(|e| proto(format!("device descriptor: {e}")))?;
        let head = self.get_descriptor_retrying(0x02, 9)?;
        let total = head
            .get(2..4)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .unwrap_or(9);
        let cfg_raw = self.get_descriptor_retrying(0x02, total)?;
        let cfg = parse_config_descriptor(&cfg_raw)
            .map_err(|e| proto(format!("configuration descriptor: {e}")))?;
        let set_config = Setup {
            request_type: 0x00,
            request: 0x09,
            value: 1,
            index: 0,
            length: 0,
        };
        self.control_out(set_config, &[], ENUM_TIMEOUT)?;
        self.info.vid = dd.vendor_id;
        self.info.pid = dd.product_id;
        self.info.bcd_device = dd.device_version;
        self.info.string_indexes = StringIndexes {
            manufacturer: dd.manufacturer_index,
            product: dd.product_index,
            serial: dd.serial_index,
            ..StringIndexes::default()
        };
        let dfu = cfg
            .interfaces
            .iter()
            .filter(|i| i.is_dfu_mode())
            .collect::<Vec<_>>();
        self.info.interface = dfu.first().map(|i| i.number).unwrap_or(0);
        self.info.functional = cfg.functional;
        self.info.alts = dfu
            .iter()
            .map(|i| AltSetting {
                alt: i.alt_setting,
                name: None,
                string_index: i.string_index,
            })
            .collect();
        self.info.device_descriptor = dd_raw;
        self.info.config_descriptor = cfg_raw;
        Ok(())
    }
}

fn empty_info(port: u8, address: u8) -> DeviceInfo {
    DeviceInfo {
        vid: 0,
        pid: 0,
        bcd_device: 0,
        manufacturer: None,
        product: None,
        serial: None,
        bus: 0,
        address,
        port_path: format!("0-{port}"),
        interface: 0,
        alts: Vec::new(),
        functional: None,
        device_descriptor: Vec::new(),
        config_descriptor: Vec::new(),
        strings: Vec::new(),
        string_indexes: StringIndexes::default(),
    }
}

impl ReadString for VirtualTransport {
    fn read_string(&mut self, lang: u16, index: u8) -> Option<Vec<u8>> {
        self.get_descriptor(0x03, index, lang, 255).ok()
    }
}

impl DfuIo for VirtualTransport {
    fn control_in(&mut self, setup: Setup, timeout: Duration) -> Result<Vec<u8>, TransferError> {
        self.transfer(setup, &[], timeout)
    }

    fn control_out(
        &mut self,
        setup: Setup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, TransferError> {
        self.transfer(setup, data, timeout).map(|_| data.len())
    }
}

impl Transport for VirtualTransport {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn string(&mut self, which: StringOf) -> Option<String> {
        let mut info = std::mem::replace(&mut self.info, empty_info(0, 0));
        let s = info.read_string(self, which);
        self.info = info;
        s
    }

    fn select_alt(&mut self, alt: u8) -> Result<(), TransferError> {
        let setup = Setup {
            request_type: 0x01,
            request: 0x0b,
            value: u16::from(alt),
            index: u16::from(self.info.interface),
            length: 0,
        };
        self.control_out(setup, &[], ENUM_TIMEOUT).map(|_| ())
    }

    fn wait_reenumeration(&mut self, timeout: Duration) -> Result<&DeviceInfo, TransferError> {
        let deadline = self.clock.now() + timeout;
        while self.board.lock().attached(self.clock.now()) {
            if self.clock.now() >= deadline {
                return Err(TransferError::new(
                    TransferErrorKind::Timeout,
                    "device never left the bus",
                ));
            }
            self.clock.sleep(POLL_STEP);
        }
        self.wait_attached(deadline.saturating_sub(self.clock.now()))?;
        self.enumerate(self.info.address.wrapping_add(1).max(1))?;
        Ok(&self.info)
    }
}
