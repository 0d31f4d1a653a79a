//! The register file a SWD probe sees while the chip runs: RCC, FLASH interface, DBGMCU, DWT/DEMCR, the
//! device-ID words in system memory, and flash/OTP/option-byte memory, all consistent with the clock model.
//! Writable: DEMCR, DWT_CTRL, DWT_CYCCNT, DWT_LAR (ignored) and RCC_CSR.RMVF; other modelled addresses are
//! read-only here (the model does not let a probe reconfigure the chip). Must not change DFU state.

pub mod core;
mod dwt;
mod map;

pub(crate) use core::CoreDebug;
pub(crate) use dwt::Dwt;

/// A failed debug access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BusFault {
    /// The chip is not powered.
    #[error("target not powered")]
    PoweredOff,
    /// 32-bit accesses must be word aligned.
    #[error("unaligned access at {addr:#010X}")]
    Unaligned { addr: u32 },
    /// Nothing is modelled at this address.
    #[error("no register or memory modelled at {addr:#010X}")]
    Unmapped { addr: u32 },
    /// The address is modelled but not writable in this model.
    #[error("register at {addr:#010X} is read-only in this model")]
    ReadOnly { addr: u32 },
}

pub const RCC_CR: u32 = 0x4002_3800;
pub const RCC_PLLCFGR: u32 = 0x4002_3804;
pub const RCC_CFGR: u32 = 0x4002_3808;
pub const RCC_CSR: u32 = 0x4002_3874;
pub const RCC_DCKCFGR2: u32 = 0x4002_3890;
pub const FLASH_ACR: u32 = 0x4002_3C00;
pub const FLASH_KEYR: u32 = 0x4002_3C04;
pub const FLASH_OPTKEYR: u32 = 0x4002_3C08;
pub const FLASH_SR: u32 = 0x4002_3C0C;
pub const FLASH_CR: u32 = 0x4002_3C10;
pub const FLASH_OPTCR: u32 = 0x4002_3C14;
pub const FLASH_OPTCR1: u32 = 0x4002_3C18;
pub const DBGMCU_IDCODE: u32 = 0xE004_2000;
pub const DWT_CTRL: u32 = 0xE000_1000;
pub const DWT_CYCCNT: u32 = 0xE000_1004;
pub const DWT_LAR: u32 = 0xE000_1FB0;
pub const DEMCR: u32 = 0xE000_EDFC;
/// Unique ID words [C] CMSIS.
pub const UID_BASE: u32 = 0x1FF0_F420;
/// Flash size (u16, KB) at 0x1FF0F442 [C]; read as the upper half of this word.
pub const FLASHSIZE_WORD: u32 = 0x1FF0_F440;
/// Bootloader ID byte at 0x1FF0EDBE [C] AN2606; read as byte 2 of this word.
pub const BL_ID_WORD: u32 = 0x1FF0_EDBC;
/// DEV_ID of STM32F74x/75x [C3].
pub const DEV_ID_F74X: u32 = 0x449;
/// Flash size of the F746xG in KB.
pub const FLASH_SIZE_KB: u32 = 1024;
