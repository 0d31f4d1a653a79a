//! The 32 user option bytes at 0x1FFF0000 as read over DFU [C3] (RM0385 transcription + BMP), and their mirror in
//! FLASH_OPTCR / FLASH_OPTCR1 [C] bit positions (CMSIS).
//!
//! Layout: four 8-byte slots, each a 32-bit word `value | !value << 16` (two value bytes, two complements) plus a
//! reserved word: slot 0 = USER, RDP; slot 1 = nWRP, IWDG_STDBY/IWDG_STOP byte; slot 2 = BOOT_ADD0; slot 3 =
//! BOOT_ADD1. The reserved words are unknown [U] (board file).
//!
//! FLASH_OPTCR/OPTCR1 show the block, unless a board file planted a stale copy (`[option_bytes.loaded]`):
//! then they show that copy until it is reloaded (at the next reset, or when the block is programmed).

use crate::config::{OptionBytesConfig, Reload};

pub const OB_BASE: u32 = 0x1FFF_0000;
pub const OB_SIZE: usize = 32;
/// Byte offsets of the value bytes; each pair's complements follow at +2, +3.
const VALUE_OFFSETS: [usize; 4] = [0, 8, 16, 24];
const RESERVED_OFFSETS: [usize; 4] = [4, 12, 20, 28];
/// RDP level 0 (no protection).
pub const RDP_LEVEL0: u8 = 0xAA;
/// RDP level 2 (permanent).
pub const RDP_LEVEL2: u8 = 0xCC;

/// The option-byte block, and the stale register copy if one is planted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionBytes {
    bytes: [u8; OB_SIZE],
    /// What FLASH_OPTCR/OPTCR1 decode instead of `bytes`, and when that ends.
    loaded: Option<([u8; OB_SIZE], Reload)>,
}

impl OptionBytes {
    /// Factory state: `FF AA 00 55 r FF FF 00 00 r 80 00 7F FF r 40 00 BF FF r` (r = reserved words) [C3].
    pub fn factory(reserved: [u32; 4]) -> OptionBytes {
        OptionBytes::from_config(&OptionBytesConfig::default(), reserved)
    }

    /// The block a board file's `[option_bytes]` describes, with the registers' stale copy if it plants one.
    pub fn from_config(config: &OptionBytesConfig, reserved: [u32; 4]) -> OptionBytes {
        let block = |values: &OptionBytesConfig| {
            let mut bytes = [0; OB_SIZE];
            for (slot, value) in slots(values).iter().enumerate() {
                set_slot(&mut bytes, slot, *value);
            }
            for (offset, word) in RESERVED_OFFSETS.iter().zip(reserved) {
                bytes[*offset..offset + 4].copy_from_slice(&word.to_le_bytes());
            }
            bytes
        };
        OptionBytes {
            bytes: block(config),
            loaded: config
                .loaded_values()
                .map(|(values, until)| (block(&values), until)),
        }
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

    /// Whether flash sector `index` is write-protected: its nWRP bit is 0 [I].
    pub fn write_protected(&self, index: usize) -> bool {
        index < 8 && self.bytes[8] >> index & 1 == 0
    }

    /// Programs a written block: the value bytes are taken, complements regenerated, reserved words kept [I]
    /// (the ROM can only set the values through FLASH_OPTCR/OPTCR1; hardware writes the complements). The
    /// ROM's reset that follows reloads the registers, so a stale copy ends.
    pub fn write(&mut self, data: &[u8; OB_SIZE]) {
        for (slot, &offset) in VALUE_OFFSETS.iter().enumerate() {
            set_slot(&mut self.bytes, slot, [data[offset], data[offset + 1]]);
        }
        self.loaded = None;
    }

    /// Sets RDP (e.g. back to level 0 by Read Unprotect, which resets the chip: a stale copy ends).
    pub fn set_rdp(&mut self, rdp: u8) {
        let user = self.bytes[0];
        set_slot(&mut self.bytes, 0, [user, rdp]);
        self.loaded = None;
    }

    /// A reset of the chip after its first boot: the registers reload from the block, unless the planted
    /// stale copy lasts until the block is programmed.
    pub fn on_reset(&mut self) {
        if matches!(self.loaded, Some((_, Reload::Reset))) {
            self.loaded = None;
        }
    }

    /// FLASH_OPTCR as after reset: OPTLOCK = 1, USER bits 7:2, RDP, nWRP, IWDG_STDBY (b30), IWDG_STOP (b31).
    /// Factory value 0xC0FFAAFD [C3] BMP.
    pub fn optcr(&self) -> u32 {
        let b = self.registers_source();
        let iwdg = u32::from(b[9] >> 6 & 0b11) << 30;
        iwdg | u32::from(b[8]) << 16 | u32::from(b[1]) << 8 | u32::from(b[0] & 0xFC) | 1
    }

    /// FLASH_OPTCR1: BOOT_ADD0 [15:0], BOOT_ADD1 [31:16]; factory 0x00400080 [C3] BMP.
    pub fn optcr1(&self) -> u32 {
        let b = self.registers_source();
        u32::from(u16::from_le_bytes([b[24], b[25]])) << 16
            | u32::from(u16::from_le_bytes([b[16], b[17]]))
    }

    /// The block the registers were loaded from: the stale copy while there is one.
    fn registers_source(&self) -> &[u8; OB_SIZE] {
        self.loaded.as_ref().map_or(&self.bytes, |(bytes, _)| bytes)
    }
}

/// The value bytes of the four slots: USER (bits 1:0 read 1 [C3]) and RDP; nWRP and the byte holding
/// IWDG_STDBY (b6) and IWDG_STOP (b7), its other bits 1 as in the factory block; BOOT_ADD0; BOOT_ADD1.
fn slots(v: &OptionBytesConfig) -> [[u8; 2]; 4] {
    let user = u8::from(v.nrst_stdby) << 7
        | u8::from(v.nrst_stop) << 6
        | u8::from(v.iwdg_sw) << 5
        | u8::from(v.wwdg_sw) << 4
        | (v.bor_lev & 0b11) << 2
        | 0b11;
    let iwdg = u8::from(v.iwdg_stop) << 7 | u8::from(v.iwdg_stdby) << 6 | 0x3F;
    [
        [user, v.rdp],
        [v.nwrp, iwdg],
        v.boot_add0.to_le_bytes(),
        v.boot_add1.to_le_bytes(),
    ]
}

fn set_slot(bytes: &mut [u8; OB_SIZE], slot: usize, value: [u8; 2]) {
    let o = VALUE_OFFSETS[slot];
    bytes[o..o + 4].copy_from_slice(&[value[0], value[1], !value[0], !value[1]]);
}
