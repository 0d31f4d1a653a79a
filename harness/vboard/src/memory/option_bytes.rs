//! The 32 user option bytes at 0x1FFF0000 as read over DFU [C3] (RM0385 transcription + BMP), and their mirror in
//! FLASH_OPTCR / FLASH_OPTCR1 [C] bit positions (CMSIS).
//!
//! Layout: four 8-byte slots, each a 32-bit word `value | !value << 16` (two value bytes, two complements) plus a
//! reserved word: slot 0 = USER, RDP; slot 1 = nWRP, IWDG_STDBY/IWDG_STOP byte; slot 2 = BOOT_ADD0; slot 3 =
//! BOOT_ADD1. The reserved words are unknown [U] (board file).

pub const OB_BASE: u32 = 0x1FFF_0000;
pub const OB_SIZE: usize = 32;
/// Byte offsets of the value bytes; each pair's complements follow at +2, +3.
const VALUE_OFFSETS: [usize; 4] = [0, 8, 16, 24];
const RESERVED_OFFSETS: [usize; 4] = [4, 12, 20, 28];
/// RDP level 0 (no protection).
pub const RDP_LEVEL0: u8 = 0xAA;
/// RDP level 2 (permanent).
pub const RDP_LEVEL2: u8 = 0xCC;

/// The option-byte block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionBytes {
    bytes: [u8; OB_SIZE],
}

impl OptionBytes {
    /// Factory state: `FF AA 00 55 r FF FF 00 00 r 80 00 7F FF r 40 00 BF FF r` (r = reserved words) [C3].
    pub fn factory(reserved: [u32; 4]) -> OptionBytes {
        let mut ob = OptionBytes {
            bytes: [0; OB_SIZE],
        };
        let values: [[u8; 2]; 4] = [[0xFF, RDP_LEVEL0], [0xFF, 0xFF], [0x80, 0x00], [0x40, 0x00]];
        for (slot, value) in values.iter().enumerate() {
            ob.set_slot(slot, *value);
        }
        for (offset, word) in RESERVED_OFFSETS.iter().zip(reserved) {
            ob.bytes[*offset..offset + 4].copy_from_slice(&word.to_le_bytes());
        }
        ob
    }

    /// The 32 bytes as read over DFU.
    pub fn bytes(&self) -> [u8; OB_SIZE] {
        self.bytes
    }

    /// Read-protection byte.
    pub fn rdp(&self) -> u8 {
        self.bytes[1]
    }

    /// RDP level 1 or 2: anything but 0xAA [C3].
    pub fn read_protected(&self) -> bool {
        self.rdp() != RDP_LEVEL0
    }

    /// BOOT_ADD0 (boot address = value << 14) [C].
    pub fn boot_add0(&self) -> u16 {
        u16::from_le_bytes([self.bytes[16], self.bytes[17]])
    }

    /// BOOT_ADD1.
    pub fn boot_add1(&self) -> u16 {
        u16::from_le_bytes([self.bytes[24], self.bytes[25]])
    }

    /// Programs a written block: the value bytes are taken, complements regenerated, reserved words kept [I]
    /// (the ROM can only set the values through FLASH_OPTCR/OPTCR1; hardware writes the complements).
    pub fn write(&mut self, data: &[u8; OB_SIZE]) {
        for (slot, &offset) in VALUE_OFFSETS.iter().enumerate() {
            self.set_slot(slot, [data[offset], data[offset + 1]]);
        }
    }

    /// Sets RDP (e.g. back to level 0 by Read Unprotect).
    pub fn set_rdp(&mut self, rdp: u8) {
        self.set_slot(0, [self.bytes[0], rdp]);
    }

    /// FLASH_OPTCR as after reset: OPTLOCK = 1, USER bits 7:2, RDP, nWRP, IWDG_STDBY (b30), IWDG_STOP (b31).
    /// Factory value 0xC0FFAAFD [C3] BMP.
    pub fn optcr(&self) -> u32 {
        let b = &self.bytes;
        let iwdg = u32::from(b[9] >> 6 & 0b11) << 30;
        iwdg | u32::from(b[8]) << 16 | u32::from(b[1]) << 8 | u32::from(b[0] & 0xFC) | 1
    }

    /// FLASH_OPTCR1: BOOT_ADD0 [15:0], BOOT_ADD1 [31:16]; factory 0x00400080 [C3] BMP.
    pub fn optcr1(&self) -> u32 {
        u32::from(self.boot_add1()) << 16 | u32::from(self.boot_add0())
    }

    fn set_slot(&mut self, slot: usize, value: [u8; 2]) {
        let o = VALUE_OFFSETS[slot];
        self.bytes[o..o + 4].copy_from_slice(&[value[0], value[1], !value[0], !value[1]]);
    }
}
