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

use dfuse::descriptor::{parse_language_ids, parse_string_descriptor, FunctionalDescriptor};
use dfuse::{DfuIo, TransferError};

/// The language of string reads when string 0 (the language list) cannot be read: US English, the one the
/// STM32 ROM offers.
const LANG_EN_US: u16 = 0x0409;

/// One alternate setting of the DFU interface, as the device describes it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AltSetting {
    /// bAlternateSetting
    pub alt: u8,
    /// The iInterface string: for DfuSe, the memory-layout string (`@Internal Flash  /0x08000000/...`).
    /// `None` until read ([`Transport::string`]), or when the read failed.
    pub name: Option<String>,
    /// iInterface, the index of that string.
    #[serde(skip)]
    pub string_index: u8,
}

/// One of a device's strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StringOf {
    Manufacturer,
    Product,
    Serial,
    /// The name of the alt setting with this bAlternateSetting.
    Alt(u8),
}

/// Where a device's strings are and which have been asked for: each is read at most once per enumeration,
/// and only when something asks for it (every read is a control transfer, one more chance to fail on a
/// misclocked bootloader).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StringIndexes {
    pub manufacturer: u8,
    pub product: u8,
    pub serial: u8,
    /// The language of string reads, once the language list (string 0) has been asked for.
    lang: Option<u16>,
    /// The strings asked for so far, read or not.
    asked: Vec<StringOf>,
}

/// One raw GET_DESCRIPTOR(STRING) (index 0: the language list, asked with language 0); `None` when the
/// transfer fails. What each backend provides for [`DeviceInfo::read_string`].
pub(crate) trait ReadString {
    fn read_string(&mut self, lang: u16, index: u8) -> Option<Vec<u8>>;
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
    /// The strings read so far, by index, so captures can show them.
    #[serde(skip)]
    pub strings: Vec<(u8, String)>,
    #[serde(skip)]
    pub string_indexes: StringIndexes,
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
    /// The string `which`, read through `reader` the first time it is asked for; before the first string,
    /// the language list is read, as dfu-util and the kernel do.
    pub(crate) fn read_string(
        &mut self,
        reader: &mut dyn ReadString,
        which: StringOf,
    ) -> Option<String> {
        let index = match which {
            StringOf::Manufacturer => self.string_indexes.manufacturer,
            StringOf::Product => self.string_indexes.product,
            StringOf::Serial => self.string_indexes.serial,
            StringOf::Alt(alt) => self.alts.iter().find(|a| a.alt == alt)?.string_index,
        };
        if self.string_indexes.asked.contains(&which) {
            return self.string_value(which);
        }
        self.string_indexes.asked.push(which);
        if index == 0 {
            return None;
        }
        let lang = *self.string_indexes.lang.get_or_insert_with(|| {
            reader
                .read_string(0, 0)
                .and_then(|b| parse_language_ids(&b).ok()?.first().copied())
                .unwrap_or(LANG_EN_US)
        });
        let s = parse_string_descriptor(&reader.read_string(lang, index)?).ok()?;
        self.strings.push((index, s.clone()));
        match which {
            StringOf::Manufacturer => self.manufacturer = Some(s.clone()),
            StringOf::Product => self.product = Some(s.clone()),
            StringOf::Serial => self.serial = Some(s.clone()),
            StringOf::Alt(alt) => {
                if let Some(a) = self.alts.iter_mut().find(|a| a.alt == alt) {
                    a.name = Some(s.clone());
                }
            }
        }
        Some(s)
    }

    fn string_value(&self, which: StringOf) -> Option<String> {
        match which {
            StringOf::Manufacturer => self.manufacturer.clone(),
            StringOf::Product => self.product.clone(),
            StringOf::Serial => self.serial.clone(),
            StringOf::Alt(alt) => self.alts.iter().find(|a| a.alt == alt)?.name.clone(),
        }
    }

    /// Every string, in the order a host stack reads them: manufacturer, product, serial, then the alt
    /// settings' names.
    pub fn all_strings(&self) -> Vec<StringOf> {
        let mut all = vec![StringOf::Manufacturer, StringOf::Product, StringOf::Serial];
        all.extend(self.alts.iter().map(|a| StringOf::Alt(a.alt)));
        all
    }

    /// The alt settings whose name was asked for and could not be read.
    pub fn unreadable_alts(&self) -> Vec<u8> {
        let asked = |alt| self.string_indexes.asked.contains(&StringOf::Alt(alt));
        self.alts
            .iter()
            .filter(|a| a.name.is_none() && asked(a.alt))
            .map(|a| a.alt)
            .collect()
    }

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

    /// The string `which`, read from the device the first time it is asked for (once per enumeration);
    /// `None` when the device has none or the read failed.
    fn string(&mut self, which: StringOf) -> Option<String>;

    /// The serial number ([`Self::string`]).
    fn serial(&mut self) -> Option<String> {
        self.string(StringOf::Serial)
    }

    /// Read every string not read yet, as `hil list` shows them.
    fn read_all_strings(&mut self) {
        for which in self.info().all_strings() {
            self.string(which);
        }
    }

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
    fn string(&mut self, which: StringOf) -> Option<String> {
        (**self).string(which)
    }
    fn select_alt(&mut self, alt: u8) -> Result<(), TransferError> {
        (**self).select_alt(alt)
    }
    fn wait_reenumeration(&mut self, timeout: Duration) -> Result<&DeviceInfo, TransferError> {
        (**self).wait_reenumeration(timeout)
    }
}
