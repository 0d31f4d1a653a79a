//! Transports: the one seam through which the harness reaches a DFU device, with two backends — real USB
//! through rusb, and the virtual board in-process — plus a capturing wrapper that writes every control
//! transfer to a pcap file. Only `usb.rs` names rusb; only `virtual_board.rs` names vboard.

mod capture;
mod selector;
mod usb;
mod virtual_board;

pub use capture::Capturing;
pub use selector::{Selector, SelectorError, ST_DFU_VID_PID};
pub use usb::{list_usb, UsbTransport};
pub use virtual_board::{VirtualBoard, VirtualTransport};

use std::time::Duration;

use dfuse::descriptor::FunctionalDescriptor;
use dfuse::{DfuIo, TransferError};

/// One alternate setting of the DFU interface, as the device describes it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AltSetting {
    /// bAlternateSetting
    pub alt: u8,
    /// The iInterface string: for DfuSe, the memory-layout string (`@Internal Flash  /0x08000000/...`).
    pub name: Option<String>,
}

/// What a host learns about a DFU device when it enumerates it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeviceInfo {
    pub vid: u16,
    pub pid: u16,
    /// bcdDevice: for the ST ROM bootloader, the DFU bootloader protocol version (0x2200 = V2.2).
    pub bcd_device: u16,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    /// iSerialNumber as read at enumeration; `None` when the device has none or the read failed.
    pub serial: Option<String>,
    pub bus: u8,
    pub address: u8,
    /// dfu-util's `-p` form: bus number, dash, port numbers joined by dots (`1-1.2`).
    pub port_path: String,
    /// bInterfaceNumber of the DFU interface.
    pub interface: u8,
    pub alts: Vec<AltSetting>,
    #[serde(serialize_with = "serialize_functional")]
    pub functional: Option<FunctionalDescriptor>,
    /// The raw descriptors, so captures can show them to Wireshark.
    #[serde(skip)]
    pub device_descriptor: Vec<u8>,
    #[serde(skip)]
    pub config_descriptor: Vec<u8>,
    #[serde(skip)]
    pub strings: Vec<(u8, String)>,
}

/// dfuse stays free of serde; the JSON form of the functional descriptor is written here.
fn serialize_functional<S: serde::Serializer>(
    f: &Option<FunctionalDescriptor>,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let Some(f) = f else {
        return s.serialize_none();
    };
    let mut st = s.serialize_struct("FunctionalDescriptor", 4)?;
    st.serialize_field("bmAttributes", &f.attributes.0)?;
    st.serialize_field("wDetachTimeOut_ms", &f.detach_timeout.as_millis())?;
    st.serialize_field("wTransferSize", &f.transfer_size)?;
    st.serialize_field("bcdDFUVersion", &f.dfu_version)?;
    st.end()
}

impl DeviceInfo {
    /// wTransferSize from the functional descriptor, or DFU's conservative default when absent.
    pub fn transfer_size(&self) -> usize {
        self.functional
            .as_ref()
            .map(|f| usize::from(f.transfer_size))
            .filter(|&n| n > 0)
            .unwrap_or(1024)
    }
}

/// A DFU device the harness can talk to: control transfers plus the device-level operations DFU needs.
pub trait Transport: DfuIo + Send {
    /// What enumeration told us about the device.
    fn info(&self) -> &DeviceInfo;

    /// SET_INTERFACE to `alt` on the DFU interface.
    fn select_alt(&mut self, alt: u8) -> Result<(), TransferError>;

    /// Wait for the device to leave the bus and come back (after a DFU leave or a reset), then enumerate it
    /// again. Returns the new device info.
    fn wait_reenumeration(&mut self, timeout: Duration) -> Result<&DeviceInfo, TransferError>;
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn info(&self) -> &DeviceInfo {
        (**self).info()
    }
    fn select_alt(&mut self, alt: u8) -> Result<(), TransferError> {
        (**self).select_alt(alt)
    }
    fn wait_reenumeration(&mut self, timeout: Duration) -> Result<&DeviceInfo, TransferError> {
        (**self).wait_reenumeration(timeout)
    }
}
