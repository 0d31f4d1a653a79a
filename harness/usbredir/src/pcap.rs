//! Writes control transfers as a classic pcap capture in the Linux usbmon format, so that Wireshark and
//! tshark dissect them as USB (and, given the descriptors, as DFU).
//!
//! Owns the file format only: what to capture and when is the caller's business (a transport wrapper, the
//! runner). Writes to any `io::Write`; time comes from the caller as a `Duration` (real or virtual) plus an
//! epoch the caller may set, so captures of virtual runs are deterministic.
//!
//! Written by hand: the pcap container is a 24-byte file header and a 16-byte record header, and the part
//! that matters — the usbmon packet header with URB ids, setup flags and USB status codes — is written by no
//! crate we found (pcap-file writes the container only).
//!
//! Format: pcap with microsecond timestamps (magic 0xA1B2C3D4, little endian), link type
//! `LINKTYPE_USB_LINUX_MMAPPED` (220). Every packet starts with the 64-byte `struct usbmon_packet` of the
//! kernel's binary usbmon interface (Documentation/usb/usbmon.rst), followed by the captured data. Each
//! control transfer is a submission ('S', with the SETUP packet and any OUT data) and a completion ('C',
//! with the status and any IN data) sharing one URB id.
//!
//! What Wireshark needs to call the requests DFU: it learns interface class, subclass and protocol from a
//! GET_DESCRIPTOR(CONFIGURATION) completion seen earlier for the same bus and device address, then hands
//! class requests addressed to that interface (bmRequestType 0x21/0xA1, wIndex = interface number) to the
//! DFU dissector. libusb reads descriptors from sysfs, so they never cross the bus during a run:
//! [`PcapWriter::synthetic_enumeration`] writes them as if they had. Wireshark 4.0 (Debian 12) hands
//! control requests to DFU only for a built-in list of vendor/product ids, which lacks ST's 0483:DF11: open
//! the capture with "Decode As" USB product (tshark: `-d usb.product==0x0483df11,usbdfu`, see
//! [`dfu_decode_as`]), which relies on the device descriptor being in the capture too. Newer Wireshark
//! sources also register DFU by interface class/subclass/protocol (FE/01/01, FE/01/02) and need no option.

use std::io::{self, Write};
use std::time::Duration;

use dfuse::{Setup, TransferError, TransferErrorKind};

/// `LINKTYPE_USB_LINUX_MMAPPED`: usbmon packets with the 64-byte header.
pub const LINKTYPE_USB_LINUX_MMAPPED: u32 = 220;
/// Classic pcap magic, microsecond timestamps.
pub const PCAP_MAGIC: u32 = 0xA1B2_C3D4;
/// Length of `struct usbmon_packet`, the header before each packet's data.
pub const USBMON_HEADER_LEN: usize = 64;
const SNAPLEN: u32 = 0x4_0000;
const URB_CONTROL: u8 = 2;
const URB_DIR_IN: u32 = 0x200;

/// usbmon status of a submission still in flight.
pub const EINPROGRESS: i32 = -115;
/// Completion status of a stalled transfer.
pub const EPIPE: i32 = -32;
/// Completion status of a transfer that timed out (reported by usbfs as cancelled).
pub const ETIMEDOUT: i32 = -110;
/// Completion status when the device went away.
pub const ENODEV: i32 = -19;
/// Completion status of a bus error (CRC, bit stuffing, babble).
pub const EPROTO: i32 = -71;

/// USB standard request GET_DESCRIPTOR.
#[doc(alias = "GET_DESCRIPTOR")]
const REQUEST_GET_DESCRIPTOR: u8 = 6;
const DESCRIPTOR_DEVICE: u8 = 1;
const DESCRIPTOR_CONFIGURATION: u8 = 2;
const DESCRIPTOR_STRING: u8 = 3;

/// Writes usbmon pcap records for control transfers on endpoint 0 of one device.
pub struct PcapWriter<W: Write> {
    out: W,
    bus: u16,
    device: u8,
    epoch: Duration,
    next_urb_id: u64,
}

/// One usbmon event: the fields that differ between records.
struct Event<'a> {
    urb_id: u64,
    kind: u8,
    setup: Setup,
    with_setup: bool,
    status: i32,
    urb_len: u32,
    data: &'a [u8],
    data_flag: u8,
    at: Duration,
}

impl<'a> Event<'a> {
    /// The 'S' record: SETUP packet, and the OUT data if any.
    fn submission(urb_id: u64, setup: Setup, data_out: &'a [u8], at: Duration) -> Self {
        let is_in = setup.is_in();
        Self {
            urb_id,
            kind: b'S',
            setup,
            with_setup: true,
            status: EINPROGRESS,
            urb_len: if is_in {
                u32::from(setup.length)
            } else {
                data_out.len() as u32
            },
            data: if is_in { &[] } else { data_out },
            data_flag: if is_in { b'<' } else { 0 },
            at,
        }
    }

    /// The 'C' record of this submission: status, actual length, and the IN data if any.
    fn completion(
        &self,
        out_len: usize,
        result: &'a Result<Vec<u8>, TransferError>,
        at: Duration,
    ) -> Self {
        let is_in = self.setup.is_in();
        let (status, data, urb_len) = match result {
            Ok(data) if is_in => (0, data.as_slice(), data.len() as u32),
            Ok(_) => (0, &[][..], out_len as u32),
            Err(e) => (status_of(e.kind), &[][..], 0),
        };
        Self {
            kind: b'C',
            with_setup: false,
            status,
            urb_len,
            data,
            data_flag: if is_in { 0 } else { b'>' },
            at,
            ..*self
        }
    }
}

impl<W: Write> PcapWriter<W> {
    /// Write the pcap file header to `out`; packets will carry bus number `bus` and device address `device`.
    /// Timestamps start at the Unix epoch until [`set_epoch`](Self::set_epoch) is called.
    pub fn new(mut out: W, bus: u16, device: u8) -> io::Result<Self> {
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&PCAP_MAGIC.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&0i32.to_le_bytes()); // thiszone
        header.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
        header.extend_from_slice(&SNAPLEN.to_le_bytes());
        header.extend_from_slice(&LINKTYPE_USB_LINUX_MMAPPED.to_le_bytes());
        out.write_all(&header)?;
        Ok(Self {
            out,
            bus,
            device,
            epoch: Duration::ZERO,
            next_urb_id: 1,
        })
    }

    /// Packet times are `epoch + t` for the `t` given to [`control`](Self::control); `epoch` is time since
    /// the Unix epoch (e.g. `SystemTime::now().duration_since(UNIX_EPOCH)` at the start of a run).
    pub fn set_epoch(&mut self, epoch: Duration) {
        self.epoch = epoch;
    }

    /// Record one control transfer: a submission at `submitted` and a completion at `completed`.
    ///
    /// `data_out` is the OUT data stage (empty for IN requests); `result` is what the transfer returned:
    /// `Ok` with the IN data (empty for OUT requests), or the error, mapped to a Linux status
    /// ([`status_of`]).
    pub fn control(
        &mut self,
        setup: Setup,
        data_out: &[u8],
        result: &Result<Vec<u8>, TransferError>,
        submitted: Duration,
        completed: Duration,
    ) -> io::Result<()> {
        let urb_id = self.next_urb_id;
        self.next_urb_id += 1;
        let submission = Event::submission(urb_id, setup, data_out, submitted);
        self.write_event(&submission)?;
        self.write_event(&submission.completion(data_out.len(), result, completed))
    }

    /// Write GET_DESCRIPTOR transfers for descriptors the host already had, all at time `at`: the device
    /// descriptor, the full configuration descriptor and each `(index, language id, string descriptor)`.
    ///
    /// **These transfers are synthetic.** libusb reads device and configuration descriptors from sysfs, so
    /// during a run they never cross the bus; they are written so that Wireshark learns the interface
    /// class (FE/01, DFU) and dissects the DFU requests that follow. Call it once, before the first
    /// [`control`](Self::control).
    pub fn synthetic_enumeration(
        &mut self,
        device_desc: &[u8],
        config_desc: &[u8],
        strings: &[(u8, u16, Vec<u8>)],
        at: Duration,
    ) -> io::Result<()> {
        self.get_descriptor(DESCRIPTOR_DEVICE, 0, 0, device_desc, at)?;
        self.get_descriptor(DESCRIPTOR_CONFIGURATION, 0, 0, config_desc, at)?;
        for (index, language, desc) in strings {
            self.get_descriptor(DESCRIPTOR_STRING, *index, *language, desc, at)?;
        }
        Ok(())
    }

    fn get_descriptor(
        &mut self,
        kind: u8,
        index: u8,
        language: u16,
        desc: &[u8],
        at: Duration,
    ) -> io::Result<()> {
        let setup = Setup {
            request_type: dfuse::io::DIR_IN,
            request: REQUEST_GET_DESCRIPTOR,
            value: u16::from_be_bytes([kind, index]),
            index: language,
            length: u16::try_from(desc.len()).unwrap_or(u16::MAX),
        };
        self.control(setup, &[], &Ok(desc.to_vec()), at, at)
    }

    /// Flush the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Give back the underlying writer (not flushed).
    pub fn into_inner(self) -> W {
        self.out
    }

    fn write_event(&mut self, event: &Event<'_>) -> io::Result<()> {
        let at = self.epoch + event.at;
        let (secs, micros) = (at.as_secs(), at.subsec_micros());
        let caplen = (USBMON_HEADER_LEN + event.data.len()) as u32;
        let mut record = Vec::with_capacity(16 + caplen as usize);
        record.extend_from_slice(&(secs as u32).to_le_bytes());
        record.extend_from_slice(&micros.to_le_bytes());
        record.extend_from_slice(&caplen.to_le_bytes());
        record.extend_from_slice(&caplen.to_le_bytes());
        self.usbmon_header(&mut record, event, secs, micros);
        record.extend_from_slice(event.data);
        self.out.write_all(&record)
    }

    /// `struct usbmon_packet`, little endian.
    fn usbmon_header(&self, out: &mut Vec<u8>, event: &Event<'_>, secs: u64, micros: u32) {
        let is_in = event.setup.is_in();
        out.extend_from_slice(&event.urb_id.to_le_bytes());
        out.push(event.kind);
        out.push(URB_CONTROL);
        out.push(if is_in { 0x80 } else { 0x00 });
        out.push(self.device);
        out.extend_from_slice(&self.bus.to_le_bytes());
        out.push(if event.with_setup { 0 } else { b'-' });
        out.push(event.data_flag);
        out.extend_from_slice(&(secs as i64).to_le_bytes());
        out.extend_from_slice(&(micros as i32).to_le_bytes());
        out.extend_from_slice(&event.status.to_le_bytes());
        out.extend_from_slice(&event.urb_len.to_le_bytes());
        out.extend_from_slice(&(event.data.len() as u32).to_le_bytes());
        let setup = if event.with_setup {
            event.setup.to_bytes()
        } else {
            [0; 8]
        };
        out.extend_from_slice(&setup);
        out.extend_from_slice(&0i32.to_le_bytes()); // interval
        out.extend_from_slice(&0i32.to_le_bytes()); // start_frame
        out.extend_from_slice(&(if is_in { URB_DIR_IN } else { 0 }).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // ndesc
    }
}

/// The Wireshark "Decode As" rule that makes the DFU dissector take the requests of device
/// `vendor_id:product_id`, e.g. `usb.product==0x0483df11,usbdfu` for tshark's `-d`. Wireshark 4.0 and older
/// need it for every DFU device not on their built-in list (ST's ROM bootloader is not on it).
pub fn dfu_decode_as(vendor_id: u16, product_id: u16) -> String {
    format!("usb.product==0x{vendor_id:04x}{product_id:04x},usbdfu")
}

/// The Linux URB status a completion carries for a transfer error of `kind`.
///
/// Stall -EPIPE, Timeout -ETIMEDOUT, Disconnected -ENODEV, Io -EPROTO; the kinds that never reach the bus
/// (Access, Busy, Other) get -EACCES, -EBUSY and -EIO.
pub fn status_of(kind: TransferErrorKind) -> i32 {
    match kind {
        TransferErrorKind::Stall => EPIPE,
        TransferErrorKind::Timeout => ETIMEDOUT,
        TransferErrorKind::Disconnected => ENODEV,
        TransferErrorKind::Io => EPROTO,
        TransferErrorKind::Access => -13,
        TransferErrorKind::Busy => -16,
        TransferErrorKind::Other => -5,
    }
}

#[cfg(test)]
mod tests;
