//! A transport wrapper that writes every control transfer to a pcap file (Linux usbmon link type), so
//! Wireshark and tshark dissect the DFU requests. Works the same over real USB and the virtual board.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use dfuse::{Clock, DfuIo, Setup, TransferError};
use usbredir::pcap::PcapWriter;

use super::{DeviceInfo, StringOf, Transport};

/// Wraps a [`Transport`], recording each transfer, with the time it was submitted and completed.
pub struct Capturing<T> {
    inner: T,
    pcap: PcapWriter<BufWriter<File>>,
    clock: Arc<dyn Clock>,
}

impl<T: Transport> Capturing<T> {
    /// Start a capture of `inner` into `path`. The descriptors the host read when it enumerated the device
    /// are written first, so Wireshark knows the interface is DFU.
    pub fn create(inner: T, path: &Path, clock: Arc<dyn Clock>) -> io::Result<Self> {
        let file = BufWriter::new(File::create(path)?);
        let info = inner.info();
        let mut pcap = PcapWriter::new(file, u16::from(info.bus), info.address.max(1))?;
        write_enumeration(&mut pcap, info, clock.now())?;
        Ok(Self { inner, pcap, clock })
    }

    /// The wrapped transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// Flush the capture file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.pcap.flush()
    }

    fn record(
        &mut self,
        setup: Setup,
        out: &[u8],
        result: &Result<Vec<u8>, TransferError>,
        t0: Duration,
    ) {
        // A capture that cannot be written must not break the operation being captured; the flush at the
        // end reports the I/O error.
        let _ = self.pcap.control(setup, out, result, t0, self.clock.now());
    }
}

fn write_enumeration(
    pcap: &mut PcapWriter<BufWriter<File>>,
    info: &DeviceInfo,
    at: Duration,
) -> io::Result<()> {
    if info.device_descriptor.is_empty() {
        return Ok(());
    }
    let strings: Vec<(u8, u16, Vec<u8>)> = info
        .strings
        .iter()
        .map(|(idx, s)| (*idx, 0x0409, string_descriptor(s)))
        .collect();
    pcap.synthetic_enumeration(
        &info.device_descriptor,
        &info.config_descriptor,
        &strings,
        at,
    )
}

/// A USB string descriptor for `s` (bLength, bDescriptorType 3, UTF-16LE), truncated to 255 bytes.
fn string_descriptor(s: &str) -> Vec<u8> {
    let units: Vec<u16> = s.encode_utf16().take(126).collect();
    let mut d = vec![(2 + 2 * units.len()) as u8, 0x03];
    d.extend(units.iter().flat_map(|u| u.to_le_bytes()));
    d
}

impl<T: Transport> DfuIo for Capturing<T> {
    fn control_in(&mut self, setup: Setup, timeout: Duration) -> Result<Vec<u8>, TransferError> {
        let t0 = self.clock.now();
        let result = self.inner.control_in(setup, timeout);
        self.record(setup, &[], &result, t0);
        result
    }

    fn control_out(
        &mut self,
        setup: Setup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, TransferError> {
        let t0 = self.clock.now();
        let result = self.inner.control_out(setup, data, timeout);
        let as_vec = result.as_ref().map(|_| Vec::new()).map_err(Clone::clone);
        self.record(setup, data, &as_vec, t0);
        result
    }
}

impl<T: Transport> Transport for Capturing<T> {
    fn info(&self) -> &DeviceInfo {
        self.inner.info()
    }

    /// Strings read after the capture started are recorded as the GET_DESCRIPTOR(STRING) that read them
    /// (the language list and failed reads are not shown).
    fn string(&mut self, which: StringOf) -> Option<String> {
        let t0 = self.clock.now();
        let known = self.inner.info().strings.len();
        let result = self.inner.string(which);
        let read: Vec<(u8, String)> = self.inner.info().strings[known..].to_vec();
        for (index, s) in read {
            let setup = Setup {
                request_type: 0x80,
                request: 0x06,
                value: 0x0300 | u16::from(index),
                index: 0x0409,
                length: 255,
            };
            self.record(setup, &[], &Ok(string_descriptor(&s)), t0);
        }
        result
    }

    fn select_alt(&mut self, alt: u8) -> Result<(), TransferError> {
        let t0 = self.clock.now();
        let result = self.inner.select_alt(alt);
        let setup = Setup {
            request_type: 0x01,
            request: 0x0b,
            value: u16::from(alt),
            index: u16::from(self.inner.info().interface),
            length: 0,
        };
        let as_vec = result.as_ref().map(|_| Vec::new()).map_err(Clone::clone);
        self.record(setup, &[], &as_vec, t0);
        result
    }

    fn wait_reenumeration(&mut self, timeout: Duration) -> Result<&DeviceInfo, TransferError> {
        self.inner.wait_reenumeration(timeout)?;
        let info = self.inner.info();
        let _ = write_enumeration(&mut self.pcap, info, self.clock.now());
        Ok(self.inner.info())
    }
}
