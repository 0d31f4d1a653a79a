//! USB descriptors a DfuSe host reads: device, configuration (interfaces, alt settings, the DFU functional
//! descriptor) and string descriptors. Pure parsers over `&[u8]`; fetching the bytes is the backend's job.

use std::time::Duration;

use crate::error::ParseError;

/// bDescriptorType of a device descriptor.
pub const DESC_DEVICE: u8 = 0x01;
/// bDescriptorType of a configuration descriptor.
pub const DESC_CONFIGURATION: u8 = 0x02;
/// bDescriptorType of a string descriptor.
pub const DESC_STRING: u8 = 0x03;
/// bDescriptorType of an interface descriptor.
pub const DESC_INTERFACE: u8 = 0x04;
/// bDescriptorType of the DFU functional descriptor.
pub const DESC_DFU_FUNCTIONAL: u8 = 0x21;
/// bInterfaceClass of DFU: application-specific.
pub const DFU_INTERFACE_CLASS: u8 = 0xFE;
/// bInterfaceSubClass of DFU.
pub const DFU_INTERFACE_SUBCLASS: u8 = 0x01;
/// bInterfaceProtocol of an interface in DFU mode.
pub const DFU_PROTOCOL_DFU_MODE: u8 = 0x02;
/// bcdDFUVersion of ST's DfuSe extension ("DFU 1.1a").
pub const DFUSE_VERSION: u16 = 0x011A;
/// Length of a device descriptor.
pub const DEVICE_DESCRIPTOR_LEN: usize = 18;
/// Length of a configuration descriptor header.
pub const CONFIG_HEADER_LEN: usize = 9;

/// The standard device descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceDescriptor {
    /// bcdUSB
    #[doc(alias = "bcdUSB")]
    pub usb_version: u16,
    /// bDeviceClass
    pub class: u8,
    /// bDeviceSubClass
    pub subclass: u8,
    /// bDeviceProtocol
    pub protocol: u8,
    /// bMaxPacketSize0
    #[doc(alias = "bMaxPacketSize0")]
    pub max_packet_size0: u8,
    /// idVendor
    #[doc(alias = "idVendor")]
    pub vendor_id: u16,
    /// idProduct
    #[doc(alias = "idProduct")]
    pub product_id: u16,
    /// bcdDevice (ST ROM: MSB = bootloader protocol version, e.g. 0x2200 for V2.2)
    #[doc(alias = "bcdDevice")]
    pub device_version: u16,
    /// iManufacturer
    pub manufacturer_index: u8,
    /// iProduct
    pub product_index: u8,
    /// iSerialNumber
    pub serial_index: u8,
    /// bNumConfigurations
    pub num_configurations: u8,
}

/// Decode a device descriptor (the first 18 bytes; more are ignored).
pub fn parse_device_descriptor(b: &[u8]) -> Result<DeviceDescriptor, ParseError> {
    let b = exact::<DEVICE_DESCRIPTOR_LEN>(b)?;
    check_type(b, 0, DESC_DEVICE)?;
    Ok(DeviceDescriptor {
        usb_version: le16(b[2], b[3]),
        class: b[4],
        subclass: b[5],
        protocol: b[6],
        max_packet_size0: b[7],
        vendor_id: le16(b[8], b[9]),
        product_id: le16(b[10], b[11]),
        device_version: le16(b[12], b[13]),
        manufacturer_index: b[14],
        product_index: b[15],
        serial_index: b[16],
        num_configurations: b[17],
    })
}

/// `bmAttributes` of the DFU functional descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DfuAttributes(pub u8);

impl DfuAttributes {
    /// bitCanDnload (bit 0)
    pub fn can_download(self) -> bool {
        self.0 & 0x01 != 0
    }
    /// bitCanUpload (bit 1)
    pub fn can_upload(self) -> bool {
        self.0 & 0x02 != 0
    }
    /// bitManifestationTolerant (bit 2)
    pub fn manifestation_tolerant(self) -> bool {
        self.0 & 0x04 != 0
    }
    /// bitWillDetach (bit 3)
    pub fn will_detach(self) -> bool {
        self.0 & 0x08 != 0
    }
}

/// The DFU functional descriptor (type 0x21).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionalDescriptor {
    /// bmAttributes
    #[doc(alias = "bmAttributes")]
    pub attributes: DfuAttributes,
    /// wDetachTimeOut, in ms
    #[doc(alias = "wDetachTimeOut")]
    pub detach_timeout: Duration,
    /// wTransferSize: the block size of DFU_DNLOAD/DFU_UPLOAD
    #[doc(alias = "wTransferSize")]
    pub transfer_size: u16,
    /// bcdDFUVersion (0x0100 when a DFU 1.0 device sends the 7-byte form)
    #[doc(alias = "bcdDFUVersion")]
    pub dfu_version: u16,
}

impl FunctionalDescriptor {
    /// True for ST's DfuSe extension: `bcdDFUVersion == 0x011A`.
    pub fn is_dfuse(&self) -> bool {
        self.dfu_version == DFUSE_VERSION
    }
}

/// Decode a DFU functional descriptor (9 bytes; the 7-byte DFU 1.0 form is accepted).
pub fn parse_functional_descriptor(b: &[u8]) -> Result<FunctionalDescriptor, ParseError> {
    let head = exact::<7>(b)?;
    check_type(head, 0, DESC_DFU_FUNCTIONAL)?;
    let declared = usize::from(head[0]);
    let dfu_version = match (declared >= 9, b.get(7..9)) {
        (true, Some(&[lo, hi])) => le16(lo, hi),
        (true, _) => {
            return Err(ParseError::ShortReply {
                got: b.len(),
                expected: 9,
            })
        }
        (false, _) => 0x0100,
    };
    Ok(FunctionalDescriptor {
        attributes: DfuAttributes(head[2]),
        detach_timeout: Duration::from_millis(u64::from(le16(head[3], head[4]))),
        transfer_size: le16(head[5], head[6]),
        dfu_version,
    })
}

/// One interface descriptor: an (interface, alternate setting) pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceAlt {
    /// bInterfaceNumber
    pub number: u8,
    /// bAlternateSetting
    pub alt_setting: u8,
    /// bNumEndpoints
    pub num_endpoints: u8,
    /// bInterfaceClass
    pub class: u8,
    /// bInterfaceSubClass
    pub subclass: u8,
    /// bInterfaceProtocol
    pub protocol: u8,
    /// iInterface: for DfuSe, the string holding the memory layout
    #[doc(alias = "iInterface")]
    pub string_index: u8,
}

impl InterfaceAlt {
    /// True for a DFU interface in DFU mode (class 0xFE, subclass 1, protocol 2).
    pub fn is_dfu_mode(&self) -> bool {
        (self.class, self.subclass, self.protocol)
            == (
                DFU_INTERFACE_CLASS,
                DFU_INTERFACE_SUBCLASS,
                DFU_PROTOCOL_DFU_MODE,
            )
    }
}

/// A configuration descriptor with everything after it, walked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigDescriptor {
    /// wTotalLength
    pub total_length: u16,
    /// bNumInterfaces
    pub num_interfaces: u8,
    /// bConfigurationValue
    pub value: u8,
    /// iConfiguration
    pub string_index: u8,
    /// bmAttributes
    pub attributes: u8,
    /// bMaxPower, in units of 2 mA
    pub max_power: u8,
    /// Every interface descriptor, in order.
    pub interfaces: Vec<InterfaceAlt>,
    /// The first DFU functional descriptor found (DfuSe ROMs send one after the last alt setting).
    pub functional: Option<FunctionalDescriptor>,
}

/// Decode a configuration descriptor and walk the descriptors inside `wTotalLength`.
/// Unknown descriptors (endpoints, vendor) are skipped; a malformed `bLength` is an error.
pub fn parse_config_descriptor(b: &[u8]) -> Result<ConfigDescriptor, ParseError> {
    let head = exact::<CONFIG_HEADER_LEN>(b)?;
    check_type(head, 0, DESC_CONFIGURATION)?;
    let total = le16(head[2], head[3]);
    let body = b.get(..usize::from(total)).ok_or(ParseError::ShortReply {
        got: b.len(),
        expected: usize::from(total),
    })?;
    let mut config = ConfigDescriptor {
        total_length: total,
        num_interfaces: head[4],
        value: head[5],
        string_index: head[6],
        attributes: head[7],
        max_power: head[8],
        interfaces: Vec::new(),
        functional: None,
    };
    walk(body, &mut config)?;
    Ok(config)
}

fn walk(body: &[u8], config: &mut ConfigDescriptor) -> Result<(), ParseError> {
    let mut offset = 0;
    while let Some(&len) = body.get(offset) {
        let desc = body
            .get(offset..offset + usize::from(len))
            .filter(|d| d.len() >= 2)
            .ok_or(ParseError::BadLength {
                offset,
                length: len,
            })?;
        match desc[1] {
            DESC_INTERFACE => config.interfaces.push(interface(desc, offset)?),
            DESC_DFU_FUNCTIONAL if config.functional.is_none() => {
                config.functional = Some(parse_functional_descriptor(desc)?);
            }
            _ => {}
        }
        offset += desc.len();
    }
    Ok(())
}

fn interface(desc: &[u8], offset: usize) -> Result<InterfaceAlt, ParseError> {
    let d = exact::<9>(desc).map_err(|_| ParseError::BadLength {
        offset,
        length: desc.first().copied().unwrap_or(0),
    })?;
    Ok(InterfaceAlt {
        number: d[2],
        alt_setting: d[3],
        num_endpoints: d[4],
        class: d[5],
        subclass: d[6],
        protocol: d[7],
        string_index: d[8],
    })
}

/// Decode a string descriptor: UTF-16LE after the 2-byte header, `bLength` honoured
/// (capped by the bytes present; an odd trailing byte is dropped; bad surrogates become U+FFFD).
pub fn parse_string_descriptor(b: &[u8]) -> Result<String, ParseError> {
    Ok(String::from_utf16_lossy(&string_units(b)?))
}

/// Decode string descriptor 0: the list of LANGIDs the device supports.
pub fn parse_language_ids(b: &[u8]) -> Result<Vec<u16>, ParseError> {
    string_units(b)
}

fn string_units(b: &[u8]) -> Result<Vec<u16>, ParseError> {
    let head = exact::<2>(b)?;
    check_type(head, 0, DESC_STRING)?;
    let declared = usize::from(head[0]).clamp(2, b.len());
    let units = b[2..declared]
        .chunks_exact(2)
        .map(|p| le16(p[0], p[1]))
        .collect();
    Ok(units)
}

/// The first `N` bytes as an array, or ShortReply.
fn exact<const N: usize>(b: &[u8]) -> Result<&[u8; N], ParseError> {
    b.get(..N)
        .and_then(|s| s.try_into().ok())
        .ok_or(ParseError::ShortReply {
            got: b.len(),
            expected: N,
        })
}

fn check_type(b: &[u8], offset: usize, expected: u8) -> Result<(), ParseError> {
    match b.get(offset + 1) {
        Some(&got) if got == expected => Ok(()),
        got => Err(ParseError::WrongType {
            offset,
            expected,
            got: got.copied().unwrap_or(0),
        }),
    }
}

fn le16(lo: u8, hi: u8) -> u16 {
    u16::from_le_bytes([lo, hi])
}
