//! USB descriptors of the ROM bootloader, built once from the board file: device, configuration (one DFU
//! interface with four alternate settings, then one DFU functional descriptor) and strings.
//!
//! Layout [C3]: the F4 ROM reports wTotalLength 54 = configuration (9) + 4 interface descriptors (4 × 9) + one
//! functional descriptor (9) placed after the last alternate setting (lsusb dumps of F4/F437 ROMs). VID/PID
//! 0483:DF11 [C]; bMaxPacketSize0 64 [C]; bcdDFUVersion 0x011A (DfuSe) [C].

use crate::config::BoardConfig;
pub use crate::serial::serial_number;

pub const VID: u16 = 0x0483;
pub const PID: u16 = 0xDF11;
pub const MAX_PACKET_SIZE0: u8 = 64;
/// bcdDFUVersion 1.1a: what makes dfu-util treat the device as DfuSe [C].
pub const BCD_DFU_VERSION: u16 = 0x011A;
pub const DT_DEVICE: u8 = 1;
pub const DT_CONFIGURATION: u8 = 2;
pub const DT_STRING: u8 = 3;
pub const DT_INTERFACE: u8 = 4;
pub const DT_DFU_FUNCTIONAL: u8 = 0x21;
/// English (US) [C] ST USB library.
pub const LANGID_EN_US: u16 = 0x0409;
/// String indices: manufacturer, product, serial, then one per alternate setting.
pub const STR_MANUFACTURER: u8 = 1;
pub const STR_PRODUCT: u8 = 2;
pub const STR_SERIAL: u8 = 3;
pub const STR_FIRST_ALT: u8 = 4;
/// Number of alternate settings: flash, option bytes, OTP, device feature.
pub const ALT_SETTINGS: u8 = 4;

/// All descriptors as the bytes the ROM would send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptors {
    pub device: Vec<u8>,
    pub configuration: Vec<u8>,
    /// Index 0 is the LANGID table; 1.. are the strings.
    pub strings: Vec<Vec<u8>>,
}

impl Descriptors {
    /// Builds every descriptor from the board file. The serial follows `[serial]`; a `per_boot` serial is
    /// all zeros until the board draws one at power-on ([`Descriptors::set_serial`]).
    pub fn new(config: &BoardConfig) -> Descriptors {
        let d = &config.descriptors;
        let serial = crate::serial::reported(&config.serial, config.memory.uid, 0);
        let texts = [
            d.manufacturer.as_str(),
            d.product.as_str(),
            serial.as_str(),
            d.alt_flash.as_str(),
            d.alt_option_bytes.as_str(),
            d.alt_otp.as_str(),
            d.alt_device_feature.as_str(),
        ];
        let mut strings = vec![langids()];
        strings.extend(texts.iter().map(|t| string_descriptor(t)));
        Descriptors {
            device: device(config),
            configuration: configuration(config),
            strings,
        }
    }

    /// Replaces the iSerialNumber string.
    pub fn set_serial(&mut self, text: &str) {
        self.strings[usize::from(STR_SERIAL)] = string_descriptor(text);
    }

    /// The iSerialNumber string as text.
    pub fn serial(&self) -> String {
        let desc = &self.strings[usize::from(STR_SERIAL)];
        let units: Vec<u16> = (desc[2..].chunks_exact(2))
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    }

    /// The string descriptor at `index`, if there is one.
    pub fn string(&self, index: u8) -> Option<&[u8]> {
        self.strings.get(usize::from(index)).map(Vec::as_slice)
    }
}

/// A UTF-16LE string descriptor; text longer than 126 units is cut (the board file forbids it).
pub fn string_descriptor(text: &str) -> Vec<u8> {
    let units: Vec<u16> = text.encode_utf16().take(126).collect();
    let mut out = vec![(2 + 2 * units.len()) as u8, DT_STRING];
    units
        .iter()
        .for_each(|u| out.extend_from_slice(&u.to_le_bytes()));
    out
}

fn langids() -> Vec<u8> {
    let [lo, hi] = LANGID_EN_US.to_le_bytes();
    vec![4, DT_STRING, lo, hi]
}

fn device(config: &BoardConfig) -> Vec<u8> {
    let d = &config.descriptors;
    let mut out = vec![18, DT_DEVICE];
    out.extend_from_slice(&d.bcd_usb.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, MAX_PACKET_SIZE0]);
    out.extend_from_slice(&VID.to_le_bytes());
    out.extend_from_slice(&PID.to_le_bytes());
    out.extend_from_slice(&d.bcd_device.to_le_bytes());
    out.extend_from_slice(&[STR_MANUFACTURER, STR_PRODUCT, STR_SERIAL, 1]);
    out
}

fn configuration(config: &BoardConfig) -> Vec<u8> {
    let d = &config.descriptors;
    let total: u16 = 9 + 9 * u16::from(ALT_SETTINGS) + 9;
    let mut out = vec![9, DT_CONFIGURATION];
    out.extend_from_slice(&total.to_le_bytes());
    let max_power = (d.max_power_ma / 2).min(255) as u8;
    out.extend_from_slice(&[1, 1, 0, d.config_attributes, max_power]);
    for alt in 0..ALT_SETTINGS {
        out.extend_from_slice(&[
            9,
            DT_INTERFACE,
            0,
            alt,
            0,
            0xFE,
            0x01,
            0x02,
            STR_FIRST_ALT + alt,
        ]);
    }
    out.extend_from_slice(&[9, DT_DFU_FUNCTIONAL, d.dfu_attributes]);
    out.extend_from_slice(&d.detach_timeout_ms.to_le_bytes());
    out.extend_from_slice(&d.transfer_size.to_le_bytes());
    out.extend_from_slice(&BCD_DFU_VERSION.to_le_bytes());
    out
}
