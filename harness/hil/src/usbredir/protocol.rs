//! The usbredir wire format (spice `usb-redirection-protocol`): packet headers, the packets the usb-host side
//! sends and receives, and their encoding. Pure code over `&[u8]`: no sockets, no board.
//!
//! Little endian, packed. Header: `u32 type, u32 length, id`, where `length` counts the type-specific header
//! plus data and `id` is a u32 until both hellos are exchanged, then a u64 if both sides advertised
//! `64bits_ids`. The layout of `ep_info` and `device_connect` also depends on capabilities both sides have,
//! so encoding and decoding take the negotiated [`Caps`].

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
/// Types we know but do not serve (iso/interrupt/bulk streams, filters, bulk/iso/interrupt data): skipped.
const UNSERVED: [std::ops::RangeInclusive<u32>; 3] = [12..=20, 22..=27, 101..=104];

/// Largest `length` we accept: a 64 KiB control transfer plus its header, with room to spare.
pub const MAX_PACKET_LEN: u32 = 128 * 1024;
/// Length of `hello`'s `char version[64]`.
pub const VERSION_LEN: usize = 64;
/// Number of endpoint slots in `ep_info` (index `((ep & 0x80) >> 3) | (ep & 0x0f)`).
pub const ENDPOINTS: usize = 32;
/// Number of interface slots in `interface_info`.
pub const INTERFACES: usize = 32;
const CONTROL_HEADER_LEN: usize = 10;

/// `usb_redir_speed_full`.
pub const SPEED_FULL: u8 = 1;
/// Endpoint type control (`usb_redir_type_control`).
pub const EP_TYPE_CONTROL: u8 = 0;
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
}

/// Decode a header from the start of `bytes`.
pub fn decode_header(bytes: &[u8], caps: Caps) -> Result<Header, DecodeError> {
    let need = caps.header_len();
    if bytes.len() < need {
        return Err(DecodeError::Truncated {
            got: bytes.len(),
            need,
        });
    }
    let kind = u32_at(bytes, 0);
    let length = u32_at(bytes, 4);
    let id = if need == 16 {
        u64::from(u32_at(bytes, 8)) | u64::from(u32_at(bytes, 12)) << 32
    } else {
        u64::from(u32_at(bytes, 8))
    };
    if length > MAX_PACKET_LEN {
        return Err(DecodeError::TooLong { length });
    }
    if !is_known(kind) {
        return Err(DecodeError::UnknownType { kind });
    }
    Ok(Header { kind, length, id })
}

/// Decode one whole packet from the start of `bytes`: its header, the packet and the bytes it took.
pub fn decode(bytes: &[u8], caps: Caps) -> Result<(Header, Packet, usize), DecodeError> {
    let header = decode_header(bytes, caps)?;
    let start = caps.header_len();
    let end = start + header.length as usize;
    if bytes.len() < end {
        return Err(DecodeError::Truncated {
            got: bytes.len(),
            need: end,
        });
    }
    let packet = decode_body(header.kind, &bytes[start..end], caps)?;
    Ok((header, packet, end))
}

/// Decode the body (type-specific header plus data) of a packet of type `kind`.
pub fn decode_body(kind: u32, body: &[u8], caps: Caps) -> Result<Packet, DecodeError> {
    let fixed = |want: usize| -> Result<&[u8], DecodeError> {
        if body.len() == want {
            Ok(body)
        } else {
            Err(bad_length(kind, body.len(), want.to_string()))
        }
    };
    Ok(match kind {
        HELLO => decode_hello(body)?,
        DEVICE_CONNECT => decode_connect(fixed(connect_len(caps))?),
        DEVICE_DISCONNECT => fixed(0).map(|_| Packet::DeviceDisconnect)?,
        RESET => fixed(0).map(|_| Packet::Reset)?,
        INTERFACE_INFO => decode_interfaces(fixed(4 + 4 * INTERFACES)?),
        EP_INFO => decode_ep_info(fixed(ep_info_len(caps))?),
        SET_CONFIGURATION => Packet::SetConfiguration {
            configuration: fixed(1)?[0],
        },
        GET_CONFIGURATION => fixed(0).map(|_| Packet::GetConfiguration)?,
        CONFIGURATION_STATUS => {
            let b = fixed(2)?;
            Packet::ConfigurationStatus {
                status: Status::from_u8(b[0]),
                configuration: b[1],
            }
        }
        SET_ALT_SETTING => {
            let b = fixed(2)?;
            Packet::SetAltSetting {
                interface: b[0],
                alt: b[1],
            }
        }
        GET_ALT_SETTING => Packet::GetAltSetting {
            interface: fixed(1)?[0],
        },
        ALT_SETTING_STATUS => {
            let b = fixed(3)?;
            Packet::AltSettingStatus {
                status: Status::from_u8(b[0]),
                interface: b[1],
                alt: b[2],
            }
        }
        CANCEL_DATA_PACKET => fixed(0).map(|_| Packet::CancelDataPacket)?,
        CONTROL_PACKET => decode_control(body)?,
        k if is_known(k) => Packet::Unserved { kind: k },
        k => return Err(DecodeError::UnknownType { kind: k }),
    })
}

fn decode_hello(body: &[u8]) -> Result<Packet, DecodeError> {
    if body.len() < VERSION_LEN {
        return Err(bad_length(HELLO, body.len(), format!(">= {VERSION_LEN}")));
    }
    let (version, caps) = body.split_at(VERSION_LEN);
    let end = version.iter().position(|&b| b == 0).unwrap_or(VERSION_LEN);
    let caps = if caps.len() >= 4 { u32_at(caps, 0) } else { 0 };
    Ok(Packet::Hello {
        version: String::from_utf8_lossy(&version[..end]).into_owned(),
        caps: Caps(caps),
    })
}

fn decode_connect(b: &[u8]) -> Packet {
    Packet::DeviceConnect(DeviceConnect {
        speed: b[0],
        class: b[1],
        subclass: b[2],
        protocol: b[3],
        vendor_id: u16_at(b, 4),
        product_id: u16_at(b, 6),
        device_version_bcd: if b.len() >= 10 { u16_at(b, 8) } else { 0 },
    })
}

fn decode_interfaces(b: &[u8]) -> Packet {
    let count = (u32_at(b, 0) as usize).min(INTERFACES);
    let at = |array: usize, i: usize| b[4 + array * INTERFACES + i];
    Packet::InterfaceInfo(
        (0..count)
            .map(|i| Interface {
                number: at(0, i),
                class: at(1, i),
                subclass: at(2, i),
                protocol: at(3, i),
            })
            .collect(),
    )
}

fn decode_ep_info(b: &[u8]) -> Packet {
    let mut info = EpInfo::control_only(0);
    info.kind.copy_from_slice(&b[..ENDPOINTS]);
    info.interval.copy_from_slice(&b[ENDPOINTS..2 * ENDPOINTS]);
    info.interface
        .copy_from_slice(&b[2 * ENDPOINTS..3 * ENDPOINTS]);
    info.max_packet_size = [0; ENDPOINTS];
    if b.len() > 3 * ENDPOINTS {
        for (i, m) in info.max_packet_size.iter_mut().enumerate() {
            *m = u16_at(b, 3 * ENDPOINTS + 2 * i);
        }
    }
    Packet::EpInfo(Box::new(info))
}

fn decode_control(body: &[u8]) -> Result<Packet, DecodeError> {
    if body.len() < CONTROL_HEADER_LEN {
        return Err(bad_length(
            CONTROL_PACKET,
            body.len(),
            format!(">= {CONTROL_HEADER_LEN}"),
        ));
    }
    let length = u16_at(body, 8);
    let data = body[CONTROL_HEADER_LEN..].to_vec();
    let is_in = body[0] & 0x80 != 0;
    if !is_in && data.len() > usize::from(length) {
        return Err(DecodeError::ControlData {
            got: data.len(),
            length,
        });
    }
    Ok(Packet::Control(ControlPacket {
        endpoint: body[0],
        request: body[1],
        request_type: body[2],
        status: Status::from_u8(body[3]),
        value: u16_at(body, 4),
        index: u16_at(body, 6),
        length,
        data,
    }))
}

/// Encode `packet` with `id`, laid out for the negotiated `caps`.
pub fn encode(id: u64, packet: &Packet, caps: Caps) -> Vec<u8> {
    let (kind, body) = encode_body(packet, caps);
    let mut out = Vec::with_capacity(caps.header_len() + body.len());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    if caps.has(Caps::IDS_64BITS) {
        out.extend_from_slice(&id.to_le_bytes());
    } else {
        out.extend_from_slice(&(id as u32).to_le_bytes());
    }
    out.extend_from_slice(&body);
    out
}

fn encode_body(packet: &Packet, caps: Caps) -> (u32, Vec<u8>) {
    match packet {
        Packet::Hello { version, caps } => {
            let mut b = vec![0u8; VERSION_LEN];
            let v = version.as_bytes();
            let n = v.len().min(VERSION_LEN - 1);
            b[..n].copy_from_slice(&v[..n]);
            b.extend_from_slice(&caps.0.to_le_bytes());
            (HELLO, b)
        }
        Packet::DeviceConnect(c) => (DEVICE_CONNECT, encode_connect(c, caps)),
        Packet::DeviceDisconnect => (DEVICE_DISCONNECT, vec![]),
        Packet::Reset => (RESET, vec![]),
        Packet::InterfaceInfo(list) => (INTERFACE_INFO, encode_interfaces(list)),
        Packet::EpInfo(info) => (EP_INFO, encode_ep_info(info, caps)),
        Packet::SetConfiguration { configuration } => (SET_CONFIGURATION, vec![*configuration]),
        Packet::GetConfiguration => (GET_CONFIGURATION, vec![]),
        Packet::ConfigurationStatus {
            status,
            configuration,
        } => (CONFIGURATION_STATUS, vec![*status as u8, *configuration]),
        Packet::SetAltSetting { interface, alt } => (SET_ALT_SETTING, vec![*interface, *alt]),
        Packet::GetAltSetting { interface } => (GET_ALT_SETTING, vec![*interface]),
        Packet::AltSettingStatus {
            status,
            interface,
            alt,
        } => (ALT_SETTING_STATUS, vec![*status as u8, *interface, *alt]),
        Packet::CancelDataPacket => (CANCEL_DATA_PACKET, vec![]),
        Packet::Control(c) => (CONTROL_PACKET, encode_control(c)),
        Packet::Unserved { kind } => (*kind, vec![]),
    }
}

fn encode_connect(c: &DeviceConnect, caps: Caps) -> Vec<u8> {
    let mut b = vec![c.speed, c.class, c.subclass, c.protocol];
    b.extend_from_slice(&c.vendor_id.to_le_bytes());
    b.extend_from_slice(&c.product_id.to_le_bytes());
    if caps.has(Caps::CONNECT_DEVICE_VERSION) {
        b.extend_from_slice(&c.device_version_bcd.to_le_bytes());
    }
    b
}

fn encode_interfaces(list: &[Interface]) -> Vec<u8> {
    let list = &list[..list.len().min(INTERFACES)];
    let mut b = (list.len() as u32).to_le_bytes().to_vec();
    let fields: [fn(&Interface) -> u8; 4] =
        [|i| i.number, |i| i.class, |i| i.subclass, |i| i.protocol];
    for field in fields {
        let mut array = [0u8; INTERFACES];
        for (slot, i) in array.iter_mut().zip(list) {
            *slot = field(i);
        }
        b.extend_from_slice(&array);
    }
    b
}

fn encode_ep_info(info: &EpInfo, caps: Caps) -> Vec<u8> {
    let mut b = Vec::with_capacity(ep_info_len(caps));
    b.extend_from_slice(&info.kind);
    b.extend_from_slice(&info.interval);
    b.extend_from_slice(&info.interface);
    if caps.has(Caps::EP_INFO_MAX_PACKET_SIZE) {
        info.max_packet_size
            .iter()
            .for_each(|m| b.extend_from_slice(&m.to_le_bytes()));
    }
    b
}

fn encode_control(c: &ControlPacket) -> Vec<u8> {
    let mut b = vec![c.endpoint, c.request, c.request_type, c.status as u8];
    b.extend_from_slice(&c.value.to_le_bytes());
    b.extend_from_slice(&c.index.to_le_bytes());
    b.extend_from_slice(&c.length.to_le_bytes());
    b.extend_from_slice(&c.data);
    b
}

fn connect_len(caps: Caps) -> usize {
    if caps.has(Caps::CONNECT_DEVICE_VERSION) {
        10
    } else {
        8
    }
}

fn ep_info_len(caps: Caps) -> usize {
    if caps.has(Caps::EP_INFO_MAX_PACKET_SIZE) {
        3 * ENDPOINTS + 2 * ENDPOINTS
    } else {
        3 * ENDPOINTS
    }
}

fn is_known(kind: u32) -> bool {
    kind <= ALT_SETTING_STATUS
        || kind == CANCEL_DATA_PACKET
        || kind == CONTROL_PACKET
        || UNSERVED.iter().any(|r| r.contains(&kind))
}

fn bad_length(kind: u32, length: usize, expected: String) -> DecodeError {
    DecodeError::BadLength {
        kind,
        length: length as u32,
        expected,
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[cfg(test)]
#[path = "protocol_tests.rs"]
mod tests;
