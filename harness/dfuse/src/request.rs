//! DFU 1.1 class requests as SETUP packets, and ST's DfuSe commands as DFU_DNLOAD payloads. Values only, no I/O.

use std::fmt;

use crate::error::ParseError;
use crate::io::Setup;

/// bRequest of DFU_DETACH.
pub const DFU_DETACH: u8 = 0x00;
/// bRequest of DFU_DNLOAD.
pub const DFU_DNLOAD: u8 = 0x01;
/// bRequest of DFU_UPLOAD.
pub const DFU_UPLOAD: u8 = 0x02;
/// bRequest of DFU_GETSTATUS.
pub const DFU_GETSTATUS: u8 = 0x03;
/// bRequest of DFU_CLRSTATUS.
pub const DFU_CLRSTATUS: u8 = 0x04;
/// bRequest of DFU_GETSTATE.
pub const DFU_GETSTATE: u8 = 0x05;
/// bRequest of DFU_ABORT.
pub const DFU_ABORT: u8 = 0x06;

/// bmRequestType for host-to-device class requests to an interface.
pub const REQUEST_TYPE_OUT: u8 = 0x21;
/// bmRequestType for device-to-host class requests to an interface.
pub const REQUEST_TYPE_IN: u8 = 0xA1;

/// wBlockNum that carries a DfuSe command (DNLOAD) or Get Commands (UPLOAD).
pub const BLOCK_COMMAND: u16 = 0;
/// First wBlockNum that carries data: `address = (wBlockNum − 2) × wTransferSize + pointer`.
pub const BLOCK_FIRST_DATA: u16 = 2;

/// DfuSe opcode: Get Commands (sent as DFU_UPLOAD with wBlockNum 0).
pub const DFUSE_GET_COMMANDS: u8 = 0x00;
/// DfuSe opcode: Set Address Pointer.
pub const DFUSE_SET_ADDRESS_POINTER: u8 = 0x21;
/// DfuSe opcode: Erase (5 bytes: one sector; 1 byte: mass erase).
pub const DFUSE_ERASE: u8 = 0x41;
/// DfuSe opcode: Read Unprotect.
pub const DFUSE_READ_UNPROTECT: u8 = 0x92;

/// wLength asked for in Get Commands; the F2/F4/F7 ROMs answer 4 bytes.
pub const GET_COMMANDS_LEN: u16 = 16;

/// The seven DFU 1.1 class requests, named for events and errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Request {
    /// DFU_DETACH
    Detach,
    /// DFU_DNLOAD
    Dnload,
    /// DFU_UPLOAD
    Upload,
    /// DFU_GETSTATUS
    GetStatus,
    /// DFU_CLRSTATUS
    ClrStatus,
    /// DFU_GETSTATE
    GetState,
    /// DFU_ABORT
    Abort,
}

impl Request {
    /// The spec name, e.g. `"DFU_GETSTATUS"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Detach => "DFU_DETACH",
            Self::Dnload => "DFU_DNLOAD",
            Self::Upload => "DFU_UPLOAD",
            Self::GetStatus => "DFU_GETSTATUS",
            Self::ClrStatus => "DFU_CLRSTATUS",
            Self::GetState => "DFU_GETSTATE",
            Self::Abort => "DFU_ABORT",
        }
    }

    /// The bRequest code.
    pub fn code(self) -> u8 {
        match self {
            Self::Detach => DFU_DETACH,
            Self::Dnload => DFU_DNLOAD,
            Self::Upload => DFU_UPLOAD,
            Self::GetStatus => DFU_GETSTATUS,
            Self::ClrStatus => DFU_CLRSTATUS,
            Self::GetState => DFU_GETSTATE,
            Self::Abort => DFU_ABORT,
        }
    }

    /// True for the requests with a device-to-host data stage.
    pub fn is_in(self) -> bool {
        matches!(self, Self::Upload | Self::GetStatus | Self::GetState)
    }

    /// The request a SETUP packet carries, if it is a DFU class request to an interface.
    pub fn from_setup(setup: &Setup) -> Option<Self> {
        let r = match setup.request {
            DFU_DETACH => Self::Detach,
            DFU_DNLOAD => Self::Dnload,
            DFU_UPLOAD => Self::Upload,
            DFU_GETSTATUS => Self::GetStatus,
            DFU_CLRSTATUS => Self::ClrStatus,
            DFU_GETSTATE => Self::GetState,
            DFU_ABORT => Self::Abort,
            _ => return None,
        };
        (setup.request_type == r.request_type()).then_some(r)
    }

    /// bmRequestType for this request.
    pub fn request_type(self) -> u8 {
        if self.is_in() {
            REQUEST_TYPE_IN
        } else {
            REQUEST_TYPE_OUT
        }
    }

    /// The SETUP packet for this request to `interface`.
    pub fn setup(self, interface: u8, value: u16, length: u16) -> Setup {
        Setup {
            request_type: self.request_type(),
            request: self.code(),
            value,
            index: u16::from(interface),
            length,
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// DFU_DETACH with `wTimeout` in ms.
#[doc(alias = "DFU_DETACH")]
pub fn detach(interface: u8, timeout_ms: u16) -> Setup {
    Request::Detach.setup(interface, timeout_ms, 0)
}

/// DFU_DNLOAD of `length` bytes as block `block`.
#[doc(alias = "DFU_DNLOAD")]
pub fn dnload(interface: u8, block: u16, length: u16) -> Setup {
    Request::Dnload.setup(interface, block, length)
}

/// DFU_UPLOAD of at most `length` bytes of block `block`.
#[doc(alias = "DFU_UPLOAD")]
pub fn upload(interface: u8, block: u16, length: u16) -> Setup {
    Request::Upload.setup(interface, block, length)
}

/// DFU_GETSTATUS (6-byte reply).
#[doc(alias = "DFU_GETSTATUS")]
pub fn get_status(interface: u8) -> Setup {
    Request::GetStatus.setup(interface, 0, 6)
}

/// DFU_CLRSTATUS.
#[doc(alias = "DFU_CLRSTATUS")]
pub fn clear_status(interface: u8) -> Setup {
    Request::ClrStatus.setup(interface, 0, 0)
}

/// DFU_GETSTATE (1-byte reply).
#[doc(alias = "DFU_GETSTATE")]
pub fn get_state(interface: u8) -> Setup {
    Request::GetState.setup(interface, 0, 1)
}

/// DFU_ABORT.
#[doc(alias = "DFU_ABORT")]
pub fn abort(interface: u8) -> Setup {
    Request::Abort.setup(interface, 0, 0)
}

/// Payload of the DfuSe Set Address Pointer command: `21 A0 A1 A2 A3` (address LSB first).
pub fn set_address_pointer(address: u32) -> [u8; 5] {
    with_address(DFUSE_SET_ADDRESS_POINTER, address)
}

/// Payload of the DfuSe Erase command for the sector containing `address`.
pub fn erase_sector(address: u32) -> [u8; 5] {
    with_address(DFUSE_ERASE, address)
}

/// Payload of the DfuSe mass erase: the Erase opcode alone.
pub fn mass_erase() -> [u8; 1] {
    [DFUSE_ERASE]
}

/// Payload of the DfuSe Read Unprotect command.
pub fn read_unprotect() -> [u8; 1] {
    [DFUSE_READ_UNPROTECT]
}

fn with_address(opcode: u8, address: u32) -> [u8; 5] {
    let [a0, a1, a2, a3] = address.to_le_bytes();
    [opcode, a0, a1, a2, a3]
}

/// A DfuSe command: a DFU_DNLOAD with wBlockNum 0, executed on the following DFU_GETSTATUS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Command {
    /// Set Address Pointer (0x21).
    SetAddress(u32),
    /// Erase the sector containing the address (0x41 + address).
    Erase(u32),
    /// Mass erase (0x41 alone).
    MassErase,
    /// Read Unprotect (0x92): the device erases everything and resets.
    ReadUnprotect,
}

impl Command {
    /// The DFU_DNLOAD payload.
    pub fn encode(self) -> Vec<u8> {
        match self {
            Self::SetAddress(a) => set_address_pointer(a).to_vec(),
            Self::Erase(a) => erase_sector(a).to_vec(),
            Self::MassErase => mass_erase().to_vec(),
            Self::ReadUnprotect => read_unprotect().to_vec(),
        }
    }

    /// Recognise a DFU_DNLOAD wBlockNum 0 payload; `None` for anything else.
    pub fn decode(data: &[u8]) -> Option<Self> {
        match *data {
            [DFUSE_SET_ADDRESS_POINTER, a0, a1, a2, a3] => {
                Some(Self::SetAddress(u32::from_le_bytes([a0, a1, a2, a3])))
            }
            [DFUSE_ERASE, a0, a1, a2, a3] => {
                Some(Self::Erase(u32::from_le_bytes([a0, a1, a2, a3])))
            }
            [DFUSE_ERASE] => Some(Self::MassErase),
            [DFUSE_READ_UNPROTECT] => Some(Self::ReadUnprotect),
            _ => None,
        }
    }

    /// dfu-util's name for the command, e.g. `"SET_ADDRESS"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::SetAddress(_) => "SET_ADDRESS",
            Self::Erase(_) => "ERASE_PAGE",
            Self::MassErase => "MASS_ERASE",
            Self::ReadUnprotect => "READ_UNPROTECT",
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SetAddress(a) | Self::Erase(a) => write!(f, "{} {a:#010x}", self.name()),
            _ => f.write_str(self.name()),
        }
    }
}

/// The opcodes a device lists in its Get Commands reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupportedCommands {
    /// The raw opcodes, in the device's order (first is always Get Commands, 0x00).
    pub opcodes: Vec<u8>,
}

impl SupportedCommands {
    /// True when the device lists `opcode`.
    pub fn supports(&self, opcode: u8) -> bool {
        self.opcodes.contains(&opcode)
    }
}

/// Decode a Get Commands reply: the first byte must be the Get Commands opcode itself.
/// Unknown opcodes are kept (ST: "from USB BL V3.0 the number is no more fixed").
pub fn parse_get_commands(bytes: &[u8]) -> Result<SupportedCommands, ParseError> {
    match bytes.first() {
        None => Err(ParseError::ShortReply {
            got: 0,
            expected: 1,
        }),
        Some(&DFUSE_GET_COMMANDS) => Ok(SupportedCommands {
            opcodes: bytes.to_vec(),
        }),
        Some(&other) => Err(ParseError::BadCommandList(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_round_trips_through_request() {
        for r in [
            Request::Detach,
            Request::Dnload,
            Request::Upload,
            Request::GetStatus,
            Request::ClrStatus,
            Request::GetState,
            Request::Abort,
        ] {
            assert_eq!(Request::from_setup(&r.setup(0, 0, 0)), Some(r));
        }
    }

    #[test]
    fn commands_round_trip() {
        for c in [
            Command::SetAddress(0x0800_0000),
            Command::Erase(0x0804_0000),
            Command::MassErase,
            Command::ReadUnprotect,
        ] {
            assert_eq!(Command::decode(&c.encode()), Some(c));
        }
    }
}
