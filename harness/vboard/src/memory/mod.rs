//! Non-volatile memory of the chip as the bootloader sees it: 1 MiB flash, the 32 option bytes, OTP and the
//! 4-byte Device Feature area. Owns contents and the rules for changing them; must not know about USB or DFU.

mod flash;
mod map;
mod option_bytes;
mod otp;

pub use flash::{Flash, FLASH_BASE, FLASH_SIZE, SECTORS};
pub use map::{Memory, Region, DEVICE_FEATURE_BASE, DEVICE_FEATURE_SIZE};
pub use option_bytes::{OptionBytes, OB_BASE, OB_SIZE, RDP_LEVEL0, RDP_LEVEL2};
pub use otp::{Otp, OTP_BASE, OTP_BLOCK_SIZE, OTP_DATA_SIZE, OTP_LOCK_BASE, OTP_LOCK_SIZE};

/// Why a program operation did not give the requested contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramError {
    /// A bit would have to go 0 → 1: only an erase can do that. The cells end up as old AND new [C] RM0090
    /// (programming only clears bits); the bootloader reporting errPROG for it is [I].
    NotErased { addr: u32 },
    /// The target OTP block is locked.
    Locked { addr: u32 },
}
