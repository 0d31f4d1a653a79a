//! The DFU-visible memory map: which region an address range falls in, and reads across all regions.

use super::{Flash, OptionBytes, Otp, OB_BASE, OB_SIZE};

/// Device Feature virtual area [C] AN2606 Table 4.
pub const DEVICE_FEATURE_BASE: u32 = 0xFFFF_0000;
pub const DEVICE_FEATURE_SIZE: usize = 4;

/// Where a DFU address range points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Flash,
    OptionBytes,
    Otp,
    DeviceFeature,
}

impl Region {
    /// The region wholly containing `[addr, addr + len)` (len 0 counts as 1 byte).
    pub fn of(addr: u32, len: usize) -> Option<Region> {
        let len = len.max(1);
        if Flash::contains(addr, len) {
            Some(Region::Flash)
        } else if Otp::contains(addr, len) {
            Some(Region::Otp)
        } else if within(addr, len, OB_BASE, OB_SIZE) {
            Some(Region::OptionBytes)
        } else if within(addr, len, DEVICE_FEATURE_BASE, DEVICE_FEATURE_SIZE) {
            Some(Region::DeviceFeature)
        } else {
            None
        }
    }
}

/// All non-volatile contents; survives resets and power cycles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    pub flash: Flash,
    pub option_bytes: OptionBytes,
    pub otp: Otp,
    pub device_feature: [u8; DEVICE_FEATURE_SIZE],
}

impl Memory {
    /// Erased flash and OTP, with these option bytes and Device Feature bytes.
    pub fn new(option_bytes: OptionBytes, device_feature: [u8; 4]) -> Memory {
        Memory {
            flash: Flash::default(),
            option_bytes,
            otp: Otp::default(),
            device_feature,
        }
    }

    /// Reads `len` bytes at `addr` from whichever region holds them.
    pub fn read(&self, addr: u32, len: usize) -> Option<Vec<u8>> {
        let bytes = match Region::of(addr, len)? {
            Region::Flash => self.flash.read(addr, len)?.to_vec(),
            Region::Otp => self.otp.read(addr, len)?.to_vec(),
            Region::OptionBytes => slice(&self.option_bytes.bytes(), addr - OB_BASE, len)?,
            Region::DeviceFeature => slice(&self.device_feature, addr - DEVICE_FEATURE_BASE, len)?,
        };
        Some(bytes)
    }
}

fn within(addr: u32, len: usize, base: u32, size: usize) -> bool {
    addr >= base
        && ((addr - base) as usize)
            .checked_add(len)
            .is_some_and(|end| end <= size)
}

fn slice(bytes: &[u8], offset: u32, len: usize) -> Option<Vec<u8>> {
    let start = offset as usize;
    bytes
        .get(start..start.checked_add(len)?)
        .map(<[u8]>::to_vec)
}
