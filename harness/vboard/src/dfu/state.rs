//! DFU states and status codes [C] DFU 1.1 §6.1.2 (dfu-util `usb_dfu.h`), and the 6-byte GETSTATUS payload
//! `[bStatus, bwPollTimeout (24-bit LE, ms), bState, iString]` [C].

/// bState.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum DfuState {
    AppIdle = 0,
    AppDetach = 1,
    DfuIdle = 2,
    DnloadSync = 3,
    DnBusy = 4,
    DnloadIdle = 5,
    ManifestSync = 6,
    Manifest = 7,
    ManifestWaitReset = 8,
    UploadIdle = 9,
    DfuError = 10,
}

/// bStatus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum DfuStatus {
    Ok = 0x00,
    ErrTarget = 0x01,
    ErrFile = 0x02,
    ErrWrite = 0x03,
    ErrErase = 0x04,
    ErrCheckErased = 0x05,
    ErrProg = 0x06,
    ErrVerify = 0x07,
    ErrAddress = 0x08,
    ErrNotDone = 0x09,
    ErrFirmware = 0x0A,
    ErrVendor = 0x0B,
    ErrUsbr = 0x0C,
    ErrPor = 0x0D,
    ErrUnknown = 0x0E,
    ErrStalledPkt = 0x0F,
}

impl DfuState {
    /// Decodes a bState byte.
    pub fn from_u8(value: u8) -> Option<DfuState> {
        use DfuState::*;
        const ALL: [DfuState; 11] = [
            AppIdle,
            AppDetach,
            DfuIdle,
            DnloadSync,
            DnBusy,
            DnloadIdle,
            ManifestSync,
            Manifest,
            ManifestWaitReset,
            UploadIdle,
            DfuError,
        ];
        ALL.get(usize::from(value)).copied()
    }
}

impl DfuStatus {
    /// Decodes a bStatus byte.
    pub fn from_u8(value: u8) -> Option<DfuStatus> {
        use DfuStatus::*;
        const ALL: [DfuStatus; 16] = [
            Ok,
            ErrTarget,
            ErrFile,
            ErrWrite,
            ErrErase,
            ErrCheckErased,
            ErrProg,
            ErrVerify,
            ErrAddress,
            ErrNotDone,
            ErrFirmware,
            ErrVendor,
            ErrUsbr,
            ErrPor,
            ErrUnknown,
            ErrStalledPkt,
        ];
        ALL.get(usize::from(value)).copied()
    }
}

/// The GETSTATUS payload; the poll timeout is cut to 24 bits.
pub(crate) fn status_payload(status: DfuStatus, poll_timeout_ms: u32, state: DfuState) -> Vec<u8> {
    let [t0, t1, t2, _] = poll_timeout_ms.min(0x00FF_FFFF).to_le_bytes();
    vec![status as u8, t0, t1, t2, state as u8, 0]
}
