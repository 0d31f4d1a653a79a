//! Encoding and decoding of usbredir packets for the negotiated capabilities: headers, each packet type's
//! fixed part, and control packets' data. Malformed input is an error, never a panic.

use super::*;

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
        BULK_PACKET => decode_bulk(body, caps)?,
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

fn decode_bulk(body: &[u8], caps: Caps) -> Result<Packet, DecodeError> {
    let header = if caps.has(Caps::BULK_LENGTH_32BITS) {
        BULK_HEADER_LEN_32
    } else {
        BULK_HEADER_LEN
    };
    if body.len() < header {
        return Err(bad_length(BULK_PACKET, body.len(), format!(">= {header}")));
    }
    let high = if header == BULK_HEADER_LEN_32 {
        u32::from(u16_at(body, 8)) << 16
    } else {
        0
    };
    let length = high | u32::from(u16_at(body, 2));
    let data = body[header..].to_vec();
    let is_in = body[0] & 0x80 != 0;
    if !is_in && data.len() as u64 > u64::from(length) {
        return Err(DecodeError::BulkData {
            got: data.len(),
            length,
        });
    }
    Ok(Packet::Bulk(BulkPacket {
        endpoint: body[0],
        status: Status::from_u8(body[1]),
        length,
        stream_id: u32_at(body, 4),
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
        Packet::Bulk(b) => (BULK_PACKET, encode_bulk(b, caps)),
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

fn encode_bulk(p: &BulkPacket, caps: Caps) -> Vec<u8> {
    let mut b = vec![p.endpoint, p.status as u8];
    b.extend_from_slice(&(p.length as u16).to_le_bytes());
    b.extend_from_slice(&p.stream_id.to_le_bytes());
    if caps.has(Caps::BULK_LENGTH_32BITS) {
        b.extend_from_slice(&((p.length >> 16) as u16).to_le_bytes());
    }
    b.extend_from_slice(&p.data);
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
        || kind == BULK_PACKET
        || UNSERVED.iter().any(|r| r.contains(&kind))
}

fn bad_length(kind: u32, length: usize, expected: String) -> DecodeError {
    DecodeError::BadLength {
        kind,
        length: length as u32,
        expected,
    }
}

pub(super) fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

pub(super) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
