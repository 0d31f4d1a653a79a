//! Address decoding for [`crate::Board::read_u32`] / [`crate::Board::write_u32`] and the register values.

use std::time::Duration;

use super::*;
use crate::board::{Board, RunMode};
use crate::memory::{FLASH_BASE, FLASH_SIZE, OB_BASE, OB_SIZE, OTP_BASE};

/// RCC_CR bits [C] CMSIS.
const HSION: u32 = 1;
const HSIRDY: u32 = 1 << 1;
const HSEON: u32 = 1 << 16;
const HSERDY: u32 = 1 << 17;
const HSEBYP: u32 = 1 << 18;
const CSSON: u32 = 1 << 19;
const PLLON: u32 = 1 << 24;
const PLLRDY: u32 = 1 << 25;
/// RCC_PLLCFGR reset value without bit 29 [C] HAL (0x24003010 with it).
const PLLCFGR_RESET: u32 = 0x0400_3010;
/// RCC_CSR.RMVF.
const RMVF: u32 = 1 << 24;
/// OTP area incl. lock and reserved bytes up to 0x1FF0F41F [C] CMSIS.
const OTP_AREA: u32 = 0x420;
const ITCM_FLASH: u32 = 0x0020_0000;

impl Board {
    /// A 32-bit debug read.
    pub fn read_u32(&mut self, now: Duration, addr: u32) -> Result<u32, BusFault> {
        self.touch(now);
        self.check_access(addr)?;
        self.register(now, addr)
            .or_else(|| self.memory_word(addr))
            .or_else(|| self.core.read(addr))
            .ok_or(BusFault::Unmapped { addr })
    }

    /// A 32-bit debug write (only DEMCR, DWT_CTRL, DWT_CYCCNT, DWT_LAR and RCC_CSR.RMVF take effect).
    pub fn write_u32(&mut self, now: Duration, addr: u32, value: u32) -> Result<(), BusFault> {
        self.touch(now);
        self.check_access(addr)?;
        match addr {
            DEMCR => self.dwt.write_demcr(now, value),
            DWT_CTRL => self.dwt.write_ctrl(now, value),
            DWT_CYCCNT => self.dwt.write_cyccnt(now, value),
            DWT_LAR => {}
            RCC_CSR if value & RMVF != 0 => self.csr_flags = 0,
            RCC_CSR => {}
            _ if core::writable(addr) => {
                if self.core.write(now, addr, value) == Some(core::Effect::SystemReset) {
                    self.software_reset(now);
                }
                self.dwt.set_halted(now, self.core.halted());
            }
            _ if self.register(now, addr).is_some() || self.memory_word(addr).is_some() => {
                return Err(BusFault::ReadOnly { addr })
            }
            _ => return Err(BusFault::Unmapped { addr }),
        }
        Ok(())
    }

    fn check_access(&self, addr: u32) -> Result<(), BusFault> {
        if self.mode == RunMode::Off {
            Err(BusFault::PoweredOff)
        } else if !addr.is_multiple_of(4) {
            Err(BusFault::Unaligned { addr })
        } else {
            Ok(())
        }
    }

    fn register(&self, now: Duration, addr: u32) -> Option<u32> {
        let b = &self.config.bootloader;
        let bit29 = if b.pllcfgr_bit29 { 1 << 29 } else { 0 };
        let value = match addr {
            RCC_CR => self.rcc_cr(),
            RCC_PLLCFGR => self.boot.map_or(PLLCFGR_RESET | bit29, |boot| {
                boot.pll.pllcfgr(b.pllcfgr_bit29)
            }),
            RCC_CFGR => self.boot.map_or(0, |_| rcc_cfgr(self)),
            RCC_CSR => self.csr_flags,
            RCC_DCKCFGR2 => 0,
            FLASH_ACR => self.boot.map_or(0, |_| b.flash_acr),
            FLASH_OPTCR => self.memory.option_bytes.optcr(),
            FLASH_OPTCR1 => self.memory.option_bytes.optcr1(),
            DBGMCU_IDCODE => u32::from(b.rev_id) << 16 | DEV_ID_F74X,
            DWT_CTRL => self.dwt.ctrl(),
            DWT_CYCCNT => self.dwt.cyccnt(now),
            DWT_LAR => 0,
            DEMCR => self.dwt.demcr,
            FLASHSIZE_WORD => FLASH_SIZE_KB << 16 | 0xFFFF, // lower half [U]
            BL_ID_WORD => u32::from(b.bl_id) << 16,         // other system-memory bytes [U]
            a if (UID_BASE..UID_BASE + 12).contains(&a) => {
                self.config.memory.uid[((a - UID_BASE) / 4) as usize]
            }
            // FLASH_CR: locked, as after reset [C] RM0385 reset value; KEYR, OPTKEYR (write-only) and SR read 0.
            FLASH_CR => 0x8000_0000,
            FLASH_KEYR | FLASH_OPTKEYR | FLASH_SR => 0,
            // The rest of the RCC register file (CIR, the reset and clock-enable registers, BDCR, SSCGR, PLLI2S/SAI,
            // DCKCFGR1): read 0 [U] — the bootloader's own peripheral enables are not modelled.
            a if (RCC_CR..RCC_CR + 0x94).contains(&a) => 0,
            _ => return None,
        };
        Some(value)
    }

    fn rcc_cr(&self) -> u32 {
        let h = &self.config.hsi;
        let hsi = u32::from(h.cal) << 8 | u32::from(h.trim & 0x1F) << 3;
        let Some(_) = self.boot else {
            return hsi | HSION | HSIRDY;
        };
        let b = &self.config.bootloader;
        let hsi_on = if b.hsi_stays_on { HSION | HSIRDY } else { 0 };
        let bypass = if b.sets_hsebyp { HSEBYP } else { 0 };
        hsi | hsi_on | HSEON | HSERDY | bypass | CSSON | PLLON | PLLRDY
    }

    /// Flash (and its ITCM alias), option bytes and OTP, read as little-endian words.
    fn memory_word(&self, addr: u32) -> Option<u32> {
        let word = |bytes: &[u8]| u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        if let Some(offset) = offset_in(addr, ITCM_FLASH, FLASH_SIZE) {
            return self.memory.flash.read(FLASH_BASE + offset, 4).map(word);
        }
        if let Some(offset) = offset_in(addr, OTP_BASE, OTP_AREA) {
            let byte = |i: u32| self.memory.otp.byte((offset + i) as usize).unwrap_or(0xFF);
            return Some(u32::from_le_bytes([byte(0), byte(1), byte(2), byte(3)]));
        }
        if offset_in(addr, OB_BASE, OB_SIZE as u32).is_some()
            || offset_in(addr, FLASH_BASE, FLASH_SIZE).is_some()
        {
            return self.memory.read(addr, 4).map(|b| word(&b));
        }
        None
    }
}

fn rcc_cfgr(board: &Board) -> u32 {
    let b = &board.config.bootloader;
    let hpre = match b.ahb_div {
        1 => 0,
        2 => 0b1000,
        4 => 0b1001,
        8 => 0b1010,
        16 => 0b1011,
        64 => 0b1100,
        128 => 0b1101,
        256 => 0b1110,
        _ => 0b1111,
    };
    let sw_sws_pll = 0b10 << 2 | 0b10;
    u32::from(b.rtcpre & 0x1F) << 16
        | ppre(b.apb2_div) << 13
        | ppre(b.apb1_div) << 10
        | hpre << 4
        | sw_sws_pll
}

fn ppre(div: u8) -> u32 {
    match div {
        1 => 0,
        2 => 0b100,
        4 => 0b101,
        8 => 0b110,
        _ => 0b111,
    }
}

fn offset_in(addr: u32, base: u32, size: u32) -> Option<u32> {
    let offset = addr.checked_sub(base)?;
    offset
        .checked_add(4)
        .is_some_and(|end| end <= size)
        .then_some(offset)
}
