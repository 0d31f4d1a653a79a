//! Option bytes as the flash interface shows them (FLASH_OPTCR/OPTCR1), and the comparison with the 32-byte
//! option-byte block read over DFU (reference notes §4.2–4.3: OPTCR bits [C] CMSIS, DFU layout [C3]).

use serde::Serialize;

/// RDP byte for read protection level 0 and level 2 [C3]; anything else is level 1.
const RDP_LEVEL_0: u8 = 0xAA;
const RDP_LEVEL_2: u8 = 0xCC;

/// FLASH_OPTCR and FLASH_OPTCR1, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OptionBytesRegs {
    /// OPTLOCK: the option control register is locked (normal while nobody programs option bytes).
    pub locked: bool,
    pub rdp: u8,
    /// 0, 1 or 2.
    pub rdp_level: u8,
    /// BOR_LEV field: 11 = off, 10 = level 1, 01 = level 2, 00 = level 3 (RM0385 [U]).
    pub bor_lev: u8,
    pub wwdg_sw: bool,
    pub iwdg_sw: bool,
    pub nrst_stop: bool,
    pub nrst_stdby: bool,
    pub nwrp: u8,
    pub iwdg_stdby: bool,
    pub iwdg_stop: bool,
    pub boot_add0: u16,
    pub boot_add1: u16,
}

impl OptionBytesRegs {
    pub fn decode(optcr: u32, optcr1: u32) -> OptionBytesRegs {
        let rdp = (optcr >> 8) as u8;
        OptionBytesRegs {
            locked: optcr & 1 != 0,
            rdp,
            rdp_level: match rdp {
                RDP_LEVEL_0 => 0,
                RDP_LEVEL_2 => 2,
                _ => 1,
            },
            bor_lev: (optcr >> 2 & 0b11) as u8,
            wwdg_sw: optcr >> 4 & 1 != 0,
            iwdg_sw: optcr >> 5 & 1 != 0,
            nrst_stop: optcr >> 6 & 1 != 0,
            nrst_stdby: optcr >> 7 & 1 != 0,
            nwrp: (optcr >> 16) as u8,
            iwdg_stdby: optcr >> 30 & 1 != 0,
            iwdg_stop: optcr >> 31 & 1 != 0,
            boot_add0: optcr1 as u16,
            boot_add1: (optcr1 >> 16) as u16,
        }
    }

    /// "off", "level 1" … for BOR_LEV.
    pub fn bor_name(&self) -> &'static str {
        match self.bor_lev {
            0b11 => "off",
            0b10 => "level 1",
            0b01 => "level 2",
            _ => "level 3",
        }
    }

    /// The USER byte bits 7:2 as they appear in the option-byte block (bits 1:0 are OPTLOCK/OPTSTRT here).
    fn user_bits(&self) -> u8 {
        u8::from(self.nrst_stdby) << 7
            | u8::from(self.nrst_stop) << 6
            | u8::from(self.iwdg_sw) << 5
            | u8::from(self.wwdg_sw) << 4
            | self.bor_lev << 2
    }
}

/// Whether the option bytes read over DFU say the same as OPTCR/OPTCR1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionBytesCheck {
    pub matches: bool,
    /// One line per disagreement, e.g. "RDP: OPTCR 0xAA, DFU 0xBB".
    pub mismatches: Vec<String>,
}

impl OptionBytesCheck {
    /// Compares the DFU option-byte block (32 bytes at 0x1FFF0000 on F7) with the registers, and checks the
    /// complement half of each used word (a corrupted transfer shows there first).
    pub fn compare(regs: &OptionBytesRegs, dfu: &[u8]) -> OptionBytesCheck {
        if dfu.len() < 28 {
            let line = format!("DFU returned {} bytes, expected 32", dfu.len());
            return Self::from_lines(vec![line]);
        }
        let word = |i: usize| u32::from_le_bytes([dfu[i], dfu[i + 1], dfu[i + 2], dfu[i + 3]]);
        let (w0, w2, w4, w6) = (word(0), word(8), word(16), word(24));
        let mut lines = Vec::new();
        let mut check = |name: &str, reg: u32, ob: u32, width: usize| {
            if reg != ob {
                lines.push(format!("{name}: OPTCR {reg:#0width$X}, DFU {ob:#0width$X}"));
            }
        };
        check("USER[7:2]", u32::from(regs.user_bits()), w0 & 0xFC, 4);
        check("RDP", u32::from(regs.rdp), w0 >> 8 & 0xFF, 4);
        check("nWRP", u32::from(regs.nwrp), w2 & 0xFF, 4);
        check("IWDG_STDBY", u32::from(regs.iwdg_stdby), w2 >> 14 & 1, 3);
        check("IWDG_STOP", u32::from(regs.iwdg_stop), w2 >> 15 & 1, 3);
        check("BOOT_ADD0", u32::from(regs.boot_add0), w4 & 0xFFFF, 6);
        check("BOOT_ADD1", u32::from(regs.boot_add1), w6 & 0xFFFF, 6);
        for (offset, w) in [(0, w0), (8, w2), (16, w4), (24, w6)] {
            if w >> 16 != !w & 0xFFFF {
                lines.push(format!(
                    "DFU word at +{offset:#04X} ({w:#010X}): upper half is not the complement"
                ));
            }
        }
        Self::from_lines(lines)
    }

    fn from_lines(mismatches: Vec<String>) -> OptionBytesCheck {
        OptionBytesCheck {
            matches: mismatches.is_empty(),
            mismatches,
        }
    }
}
