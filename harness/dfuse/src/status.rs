//! DFU states, status codes and the DFU_GETSTATUS reply (DFU 1.1 §6.1.2): pure decoding, no I/O.

use std::fmt;
use std::time::Duration;

use crate::error::ParseError;

/// Length of the DFU_GETSTATUS reply.
pub const GETSTATUS_LEN: usize = 6;
/// Length of the DFU_GETSTATE reply.
pub const GETSTATE_LEN: usize = 1;

/// A DFU device state (`bState`).
#[doc(alias = "bState")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum State {
    /// `appIDLE`: running the application, DFU not active.
    AppIdle = 0,
    /// `appDETACH`: got DFU_DETACH, waiting for a USB reset.
    AppDetach = 1,
    /// `dfuIDLE`: in DFU mode, waiting for requests.
    DfuIdle = 2,
    /// `dfuDNLOAD-SYNC`: got a block, waiting for DFU_GETSTATUS.
    DfuDnloadSync = 3,
    /// `dfuDNBUSY`: programming or executing a command.
    DfuDnbusy = 4,
    /// `dfuDNLOAD-IDLE`: ready for the next DFU_DNLOAD.
    DfuDnloadIdle = 5,
    /// `dfuMANIFEST-SYNC`: got the final (empty) DFU_DNLOAD.
    DfuManifestSync = 6,
    /// `dfuMANIFEST`: in the manifestation phase.
    DfuManifest = 7,
    /// `dfuMANIFEST-WAIT-RESET`: manifested, waiting for a USB reset.
    DfuManifestWaitReset = 8,
    /// `dfuUPLOAD-IDLE`: an upload is in progress.
    DfuUploadIdle = 9,
    /// `dfuERROR`: an error occurred; DFU_CLRSTATUS leaves it.
    DfuError = 10,
}

impl State {
    /// Every state, in code order.
    pub const ALL: [State; 11] = [
        Self::AppIdle,
        Self::AppDetach,
        Self::DfuIdle,
        Self::DfuDnloadSync,
        Self::DfuDnbusy,
        Self::DfuDnloadIdle,
        Self::DfuManifestSync,
        Self::DfuManifest,
        Self::DfuManifestWaitReset,
        Self::DfuUploadIdle,
        Self::DfuError,
    ];

    /// The state for a `bState` byte, if it is one of the eleven defined.
    pub fn from_u8(b: u8) -> Option<Self> {
        Self::ALL.get(usize::from(b)).copied()
    }

    /// The `bState` byte.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The spec name, e.g. `"dfuDNLOAD-IDLE"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::AppIdle => "appIDLE",
            Self::AppDetach => "appDETACH",
            Self::DfuIdle => "dfuIDLE",
            Self::DfuDnloadSync => "dfuDNLOAD-SYNC",
            Self::DfuDnbusy => "dfuDNBUSY",
            Self::DfuDnloadIdle => "dfuDNLOAD-IDLE",
            Self::DfuManifestSync => "dfuMANIFEST-SYNC",
            Self::DfuManifest => "dfuMANIFEST",
            Self::DfuManifestWaitReset => "dfuMANIFEST-WAIT-RESET",
            Self::DfuUploadIdle => "dfuUPLOAD-IDLE",
            Self::DfuError => "dfuERROR",
        }
    }

    /// True for the two run-time (application) states.
    pub fn is_app(self) -> bool {
        matches!(self, Self::AppIdle | Self::AppDetach)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A DFU status code (`bStatus`).
#[doc(alias = "bStatus")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Status {
    /// No error.
    Ok = 0x00,
    /// File is not targeted for this device (DfuSe: bad address).
    ErrTarget = 0x01,
    /// File is for this device but fails a vendor check.
    ErrFile = 0x02,
    /// Device cannot write memory.
    ErrWrite = 0x03,
    /// Memory erase failed.
    ErrErase = 0x04,
    /// Memory erase check failed.
    ErrCheckErased = 0x05,
    /// Program memory function failed.
    ErrProg = 0x06,
    /// Programmed memory failed verification.
    ErrVerify = 0x07,
    /// Address out of range.
    ErrAddress = 0x08,
    /// Got a zero-length DFU_DNLOAD but the firmware seems incomplete.
    ErrNotdone = 0x09,
    /// Firmware is corrupt; cannot return to run-time operation.
    ErrFirmware = 0x0A,
    /// Vendor-specific error (DfuSe: read protection active).
    ErrVendor = 0x0B,
    /// Unexpected USB reset.
    ErrUsbr = 0x0C,
    /// Unexpected power-on reset.
    ErrPor = 0x0D,
    /// Unknown error.
    ErrUnknown = 0x0E,
    /// Device stalled an unexpected request.
    ErrStalledPkt = 0x0F,
}

impl Status {
    /// Every status, in code order.
    pub const ALL: [Status; 16] = [
        Self::Ok,
        Self::ErrTarget,
        Self::ErrFile,
        Self::ErrWrite,
        Self::ErrErase,
        Self::ErrCheckErased,
        Self::ErrProg,
        Self::ErrVerify,
        Self::ErrAddress,
        Self::ErrNotdone,
        Self::ErrFirmware,
        Self::ErrVendor,
        Self::ErrUsbr,
        Self::ErrPor,
        Self::ErrUnknown,
        Self::ErrStalledPkt,
    ];

    /// The status for a `bStatus` byte, if it is one of the sixteen defined.
    pub fn from_u8(b: u8) -> Option<Self> {
        Self::ALL.get(usize::from(b)).copied()
    }

    /// The `bStatus` byte.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The spec name, e.g. `"errTARGET"`.
    pub fn name(self) -> &'static str {
        const NAMES: [&str; 16] = [
            "OK",
            "errTARGET",
            "errFILE",
            "errWRITE",
            "errERASE",
            "errCHECK_ERASED",
            "errPROG",
            "errVERIFY",
            "errADDRESS",
            "errNOTDONE",
            "errFIRMWARE",
            "errVENDOR",
            "errUSBR",
            "errPOR",
            "errUNKNOWN",
            "errSTALLEDPKT",
        ];
        NAMES[usize::from(self.as_u8())]
    }

    /// What the code means, in the words of DFU 1.1 (with the DfuSe reading where ST gives one).
    pub fn description(self) -> &'static str {
        match self {
            Self::Ok => "no error",
            Self::ErrTarget => "not targeted for this device (DfuSe: unsupported address)",
            Self::ErrFile => "file fails a vendor-specific verification",
            Self::ErrWrite => "device is unable to write memory",
            Self::ErrErase => "memory erase function failed",
            Self::ErrCheckErased => "memory erase check failed",
            Self::ErrProg => "program memory function failed",
            Self::ErrVerify => "programmed memory failed verification",
            Self::ErrAddress => "address out of range",
            Self::ErrNotdone => "zero-length download but the firmware seems incomplete",
            Self::ErrFirmware => "firmware is corrupt; cannot return to run-time operation",
            Self::ErrVendor => "vendor-specific error (DfuSe: read protection active)",
            Self::ErrUsbr => "unexpected USB reset signalling",
            Self::ErrPor => "unexpected power-on reset",
            Self::ErrUnknown => "something went wrong, cause unknown",
            Self::ErrStalledPkt => "device stalled an unexpected request",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The six bytes of a DFU_GETSTATUS reply, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StatusReply {
    /// `bStatus`: the result of the most recent request.
    #[doc(alias = "bStatus")]
    pub status: Status,
    /// `bwPollTimeout`: how long the host must wait before the next DFU_GETSTATUS (24-bit, ms).
    #[doc(alias = "bwPollTimeout")]
    pub poll_timeout: Duration,
    /// `bState`: the state the device is about to enter.
    #[doc(alias = "bState")]
    pub state: State,
    /// `iString`: index of a string describing the status.
    #[doc(alias = "iString")]
    pub string_index: u8,
}

impl StatusReply {
    /// True when `bStatus` is OK.
    pub fn is_ok(&self) -> bool {
        self.status == Status::Ok
    }

    /// The wire form: `[bStatus, bwPollTimeout (3 bytes LE), bState, iString]`.
    /// A poll timeout over 24 bits is saturated to 0xFFFFFF ms.
    pub fn to_bytes(&self) -> [u8; GETSTATUS_LEN] {
        let ms = u32::try_from(self.poll_timeout.as_millis())
            .unwrap_or(u32::MAX)
            .min(0x00FF_FFFF);
        let [t0, t1, t2, _] = ms.to_le_bytes();
        [
            self.status.as_u8(),
            t0,
            t1,
            t2,
            self.state.as_u8(),
            self.string_index,
        ]
    }
}

impl fmt::Display for StatusReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} poll={}ms",
            self.status,
            self.state,
            self.poll_timeout.as_millis()
        )
    }
}

/// Decode a DFU_GETSTATUS reply. Bytes past the sixth are ignored.
pub fn parse_status(bytes: &[u8]) -> Result<StatusReply, ParseError> {
    let [status, t0, t1, t2, state, string_index, ..] = *bytes else {
        return Err(ParseError::ShortReply {
            got: bytes.len(),
            expected: GETSTATUS_LEN,
        });
    };
    let status = Status::from_u8(status).ok_or(ParseError::UnknownStatus(status))?;
    let state = State::from_u8(state).ok_or(ParseError::UnknownState(state))?;
    let ms = u32::from_le_bytes([t0, t1, t2, 0]);
    Ok(StatusReply {
        status,
        poll_timeout: Duration::from_millis(u64::from(ms)),
        state,
        string_index,
    })
}

/// Decode a DFU_GETSTATE reply (one byte).
pub fn parse_state(bytes: &[u8]) -> Result<State, ParseError> {
    let [b, ..] = *bytes else {
        return Err(ParseError::ShortReply {
            got: 0,
            expected: GETSTATE_LEN,
        });
    };
    State::from_u8(b).ok_or(ParseError::UnknownState(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for s in State::ALL {
            assert_eq!(State::from_u8(s.as_u8()), Some(s));
        }
        for s in Status::ALL {
            assert_eq!(Status::from_u8(s.as_u8()), Some(s));
        }
        assert_eq!(State::from_u8(11), None);
        assert_eq!(Status::from_u8(0x10), None);
    }

    #[test]
    fn reply_round_trips_through_bytes() {
        let reply = StatusReply {
            status: Status::ErrVendor,
            poll_timeout: Duration::from_millis(0x12_3456),
            state: State::DfuError,
            string_index: 7,
        };
        assert_eq!(parse_status(&reply.to_bytes()), Ok(reply));
    }
}
