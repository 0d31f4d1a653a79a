//! The usbredir packets the usb-host side handles, as Rust types: the type numbers, the negotiated [`Caps`],
//! each packet's fields, the header and why bytes are not a packet. Data only: encoding is in `codec`.

use thiserror::Error;

/// `usb_redir_hello`.
pub const HELLO: u32 = 0;
pub const DEVICE_CONNECT: u32 = 1;
pub const DEVICE_DISCONNECT: u32 = 2;
pub const RESET: u32 = 3;
pub const INTERFACE_INFO: u32 = 4;
pub const EP_INFO: u32 = 5;
pub const SET_CONFIGURATION: u32 = 6;
pub const GET_CONFIGURATION: u32 = 7;
pub const CONFIGURATION_STATUS: u32 = 8;
pub const SET_ALT_SETTING: u32 = 9;
pub const GET_ALT_SETTING: u32 = 10;
pub const ALT_SETTING_STATUS: u32 = 11;
pub const CANCEL_DATA_PACKET: u32 = 21;
pub const CONTROL_PACKET: u32 = 100;
pub const BULK_PACKET: u32 = 101;
/// Types we know but do not serve (iso/interrupt/bulk streams, filters, iso/interrupt/buffered bulk data):
/// skipped.
pub(super) const UNSERVED: [std::ops::RangeInclusive<u32>; 3] = [12..=20, 22..=27, 102..=104];

/// Largest `length` we accept: a 64 KiB control transfer plus its header, with room to spare.
pub const MAX_PACKET_LEN: u32 = 128 * 1024;
/// Length of `hello`'s `char version[64]`.
pub const VERSION_LEN: usize = 64;
/// Number of endpoint slots in `ep_info` (index `((ep & 0x80) >> 3) | (ep & 0x0f)`).
pub const ENDPOINTS: usize = 32;
/// Number of interface slots in `interface_info`.
pub const INTERFACES: usize = 32;
pub(super) const CONTROL_HEADER_LEN: usize = 10;
/// `usb_redir_bulk_packet_header` without and with `length_high` (the 32bits_bulk_length capability).
pub(super) const BULK_HEADER_LEN: usize = 8;
pub(super) const BULK_HEADER_LEN_32: usize = 10;

/// `usb_redir_speed_full`.
pub const SPEED_FULL: u8 = 1;
/// Endpoint type control (`usb_redir_type_control`).
pub const EP_TYPE_CONTROL: u8 = 0;
/// Endpoint type bulk (`usb_redir_type_bulk`).
pub const EP_TYPE_BULK: u8 = 2;
/// `usb_redir_type_invalid`: no such endpoint.
pub const EP_TYPE_INVALID: u8 = 255;

/// Capability bits of `hello`'s `caps[0]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Caps(pub u32);

impl Caps {
    pub const BULK_STREAMS: u32 = 1 << 0;
    pub const CONNECT_DEVICE_VERSION: u32 = 1 << 1;
    pub const FILTER: u32 = 1 << 2;
    pub const DEVICE_DISCONNECT_ACK: u32 = 1 << 3;
    pub const EP_INFO_MAX_PACKET_SIZE: u32 = 1 << 4;
    pub const IDS_64BITS: u32 = 1 << 5;
    pub const BULK_LENGTH_32BITS: u32 = 1 << 6;
    pub const BULK_RECEIVING: u32 = 1 << 7;

    /// What the board's side advertises: what qemu-xhci insists on, and nothing we would have to serve.
    pub const OURS: Caps = Caps(
        Self::CONNECT_DEVICE_VERSION
            | Self::EP_INFO_MAX_PACKET_SIZE
            | Self::IDS_64BITS
            | Self::BULK_LENGTH_32BITS,
    );

    pub fn has(self, bit: u32) -> bool {
        self.0 & bit == bit
    }

    /// What both sides advertised: this decides the layouts after the hello exchange.
    pub fn negotiated(self, peer: Caps) -> Caps {
        Caps(self.0 & peer.0)
    }

    /// Length of a packet header with these (negotiated) capabilities.
    pub fn header_len(self) -> usize {
        if self.has(Self::IDS_64BITS) {
            16
        } else {
            12
        }
    }
}

/// `usb_redir_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    Success = 0,
    Cancelled = 1,
    Inval = 2,
    IoError = 3,
    Stall = 4,
    Timeout = 5,
    Babble = 6,
}

impl Status {
    /// The status for a byte on the wire; unknown values read as `IoError`.
    pub fn from_u8(v: u8) -> Status {
        match v {
            0 => Status::Success,
            1 => Status::Cancelled,
            2 => Status::Inval,
            4 => Status::Stall,
            5 => Status::Timeout,
            6 => Status::Babble,
            _ => Status::IoError,
        }
    }
}

/// One interface of `interface_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    pub number: u8,
    pub class: u8,
    pub subclass: u8,
    pub protocol: u8,
}

/// `ep_info`: per endpoint slot, its type, interval, interface and max packet size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpInfo {
    pub kind: [u8; ENDPOINTS],
    pub interval: [u8; ENDPOINTS],
    pub interface: [u8; ENDPOINTS],
    pub max_packet_size: [u16; ENDPOINTS],
}

impl EpInfo {
    /// Only endpoint 0 (both directions, slots 0 and 16) exists: a control endpoint of `max_packet_size`.
    pub fn control_only(max_packet_size: u16) -> EpInfo {
        let mut info = EpInfo {
            kind: [EP_TYPE_INVALID; ENDPOINTS],
            interval: [0; ENDPOINTS],
            interface: [0; ENDPOINTS],
            max_packet_size: [0; ENDPOINTS],
        };
        for slot in [0, 16] {
            info.kind[slot] = EP_TYPE_CONTROL;
            info.max_packet_size[slot] = max_packet_size;
        }
        info
    }
}

/// `device_connect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceConnect {
    pub speed: u8,
    pub class: u8,
    pub subclass: u8,
    pub protocol: u8,
    pub vendor_id: u16,
    pub product_id: u16,
    /// Sent only with `connect_device_version`; decoded as 0 without it.
    pub device_version_bcd: u16,
}

/// `control_packet`: the request, and the OUT data (from the host) or IN data (in a reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPacket {
    pub endpoint: u8,
    pub request: u8,
    pub request_type: u8,
    pub status: Status,
    pub value: u16,
    pub index: u16,
    /// wLength in a request; bytes actually transferred in a reply.
    pub length: u16,
    pub data: Vec<u8>,
}

impl ControlPacket {
    /// The 8-byte SETUP packet of this request.
    pub fn setup(&self) -> [u8; 8] {
        let [v0, v1] = self.value.to_le_bytes();
        let [i0, i1] = self.index.to_le_bytes();
        let [l0, l1] = self.length.to_le_bytes();
        [self.request_type, self.request, v0, v1, i0, i1, l0, l1]
    }
}

/// `bulk_packet`: a bulk transfer on `endpoint`; from the guest side an OUT with its data or an IN asking for
/// `length` bytes, and in the reply the status with the IN data (or the OUT's length transferred).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkPacket {
    pub endpoint: u8,
    pub status: Status,
    /// Bytes asked for (IN request) or transferred (reply, OUT request); 32 bits with 32bits_bulk_length.
    pub length: u32,
    pub stream_id: u32,
    pub data: Vec<u8>,
}

/// The packets the usb-host side handles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    Hello {
        version: String,
        caps: Caps,
    },
    DeviceConnect(DeviceConnect),
    DeviceDisconnect,
    Reset,
    InterfaceInfo(Vec<Interface>),
    EpInfo(Box<EpInfo>),
    SetConfiguration {
        configuration: u8,
    },
    GetConfiguration,
    ConfigurationStatus {
        status: Status,
        configuration: u8,
    },
    SetAltSetting {
        interface: u8,
        alt: u8,
    },
    GetAltSetting {
        interface: u8,
    },
    AltSettingStatus {
        status: Status,
        interface: u8,
        alt: u8,
    },
    CancelDataPacket,
    Control(ControlPacket),
    Bulk(BulkPacket),
    /// A packet type of the protocol we do not serve (iso, interrupt, bulk, filters); its body is skipped.
    Unserved {
        kind: u32,
    },
}

/// A packet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub kind: u32,
    pub length: u32,
    pub id: u64,
}

/// Why bytes are not a packet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Not enough bytes yet (on a closed stream: a truncated packet).
    #[error("truncated packet: got {got} bytes, need {need}")]
    Truncated { got: usize, need: usize },
    #[error("unknown packet type {kind}")]
    UnknownType { kind: u32 },
    #[error("packet length {length} exceeds the limit of {MAX_PACKET_LEN} bytes")]
    TooLong { length: u32 },
    #[error("packet type {kind}: length {length} is wrong, expected {expected}")]
    BadLength {
        kind: u32,
        length: u32,
        expected: String,
    },
    #[error("control packet: {got} data bytes but wLength {length} in an OUT request")]
    ControlData { got: usize, length: u16 },
    #[error("bulk packet: {got} data bytes but length {length} in an OUT request")]
    BulkData { got: usize, length: u32 },
}
