//! The F7 one-time-programmable area: 1024 data bytes at 0x1FF0F000 in 16 blocks of 64 bytes, then 16 lock
//! bytes at 0x1FF0F400 [C] CMSIS range 0x1FF0F000–0x1FF0F41F, [C3] OpenOCD (16 blocks × 64 bytes on F7).
//! Bits only go 1 → 0; a lock byte of 0x00 locks its block (any value other than 0xFF locks it [I]).

use super::ProgramError;

pub const OTP_BASE: u32 = 0x1FF0_F000;
pub const OTP_DATA_SIZE: usize = 1024;
pub const OTP_BLOCK_SIZE: usize = 64;
pub const OTP_LOCK_BASE: u32 = OTP_BASE + OTP_DATA_SIZE as u32;
pub const OTP_LOCK_SIZE: usize = 16;

/// OTP data and lock bytes, contiguous as read over DFU (1040 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Otp {
    bytes: Vec<u8>,
}

impl Default for Otp {
    fn default() -> Self {
        Otp {
            bytes: vec![0xFF; OTP_DATA_SIZE + OTP_LOCK_SIZE],
        }
    }
}

impl Otp {
    /// Whether `[addr, addr + len)` lies inside data + lock bytes.
    pub fn contains(addr: u32, len: usize) -> bool {
        range(addr, len).is_some()
    }

    /// Reads bytes.
    pub fn read(&self, addr: u32, len: usize) -> Option<&[u8]> {
        self.bytes.get(range(addr, len)?)
    }

    /// Whether data block `block` is locked.
    pub fn locked(&self, block: usize) -> bool {
        self.bytes
            .get(OTP_DATA_SIZE + block)
            .is_some_and(|&b| b != 0xFF)
    }

    /// Programs bytes (1 → 0 only). Data in a locked block is refused before anything is written.
    pub fn program(&mut self, addr: u32, data: &[u8]) -> Result<(), ProgramError> {
        let r = range(addr, data.len()).ok_or(ProgramError::Locked { addr })?;
        let locked =
            (r.start..r.end).find(|&i| i < OTP_DATA_SIZE && self.locked(i / OTP_BLOCK_SIZE));
        if let Some(i) = locked {
            return Err(ProgramError::Locked {
                addr: OTP_BASE + i as u32,
            });
        }
        let mut first_bad = None;
        for (i, (cell, &new)) in self.bytes[r.clone()].iter_mut().zip(data).enumerate() {
            if *cell & new != new && first_bad.is_none() {
                first_bad = Some(addr.wrapping_add(i as u32));
            }
            *cell &= new;
        }
        first_bad.map_or(Ok(()), |addr| Err(ProgramError::NotErased { addr }))
    }

    /// Raw byte access for the register file (offset from OTP_BASE).
    pub fn byte(&self, offset: usize) -> Option<u8> {
        self.bytes.get(offset).copied()
    }
}

fn range(addr: u32, len: usize) -> Option<std::ops::Range<usize>> {
    let start = addr.checked_sub(OTP_BASE)? as usize;
    let end = start.checked_add(len)?;
    (end <= OTP_DATA_SIZE + OTP_LOCK_SIZE).then_some(start..end)
}
