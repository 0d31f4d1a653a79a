//! The 1 MiB main flash at 0x08000000 with the F74x sector map (4 × 32 KB, 1 × 128 KB, 3 × 256 KB) [C3]
//! (alt-0 string). Erased bytes read 0xFF; programming can only clear bits.

use super::ProgramError;

pub const FLASH_BASE: u32 = 0x0800_0000;
pub const FLASH_SIZE: u32 = 1024 * 1024;
/// (offset, size) of each sector.
pub const SECTORS: [(u32, u32); 8] = [
    (0x0_0000, 0x8000),
    (0x0_8000, 0x8000),
    (0x1_0000, 0x8000),
    (0x1_8000, 0x8000),
    (0x2_0000, 0x2_0000),
    (0x4_0000, 0x4_0000),
    (0x8_0000, 0x4_0000),
    (0xC_0000, 0x4_0000),
];

/// Main flash contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    bytes: Vec<u8>,
}

impl Default for Flash {
    fn default() -> Self {
        Flash {
            bytes: vec![0xFF; FLASH_SIZE as usize],
        }
    }
}

impl Flash {
    /// All bytes, index 0 = 0x08000000.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether `[addr, addr + len)` lies inside flash.
    pub fn contains(addr: u32, len: usize) -> bool {
        offset_range(addr, len).is_some()
    }

    /// The sector index holding `addr`.
    pub fn sector_of(addr: u32) -> Option<usize> {
        let offset = addr.checked_sub(FLASH_BASE)?;
        SECTORS
            .iter()
            .position(|&(start, size)| offset >= start && offset - start < size)
    }

    /// Reads `len` bytes at `addr`, if all inside flash.
    pub fn read(&self, addr: u32, len: usize) -> Option<&[u8]> {
        self.bytes.get(offset_range(addr, len)?)
    }

    /// Erases one sector to 0xFF.
    pub fn erase_sector(&mut self, index: usize) {
        if let Some(&(start, size)) = SECTORS.get(index) {
            self.bytes[start as usize..(start + size) as usize].fill(0xFF);
        }
    }

    /// Erases everything.
    pub fn mass_erase(&mut self) {
        self.bytes.fill(0xFF);
    }

    /// Programs bytes; cells become old AND new. Fails (after programming) if any bit needed 0 → 1.
    pub fn program(&mut self, addr: u32, data: &[u8]) -> Result<(), ProgramError> {
        let range = offset_range(addr, data.len()).ok_or(ProgramError::NotErased { addr })?;
        let cells = &mut self.bytes[range];
        // Branch-free passes over the block (they vectorise); the first bad cell is searched only on failure.
        let needs_set = cells
            .iter()
            .zip(data)
            .fold(0u8, |acc, (&cell, &new)| acc | (new & !cell));
        let first_bad = match needs_set {
            0 => None,
            _ => cells
                .iter()
                .zip(data)
                .position(|(&cell, &new)| cell & new != new),
        };
        cells
            .iter_mut()
            .zip(data)
            .for_each(|(cell, &new)| *cell &= new);
        first_bad.map_or(Ok(()), |i| {
            Err(ProgramError::NotErased {
                addr: addr.wrapping_add(i as u32),
            })
        })
    }

    /// Overwrites bytes directly (a test helper, as if loaded by a probe). False if outside flash.
    pub fn load(&mut self, addr: u32, data: &[u8]) -> bool {
        match offset_range(addr, data.len()) {
            Some(range) => {
                self.bytes[range].copy_from_slice(data);
                true
            }
            None => false,
        }
    }
}

fn offset_range(addr: u32, len: usize) -> Option<std::ops::Range<usize>> {
    let start = addr.checked_sub(FLASH_BASE)? as usize;
    let end = start.checked_add(len)?;
    (end <= FLASH_SIZE as usize).then_some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_clears_bits_and_names_the_first_cell_that_needed_a_one() {
        let mut flash = Flash::default();
        assert_eq!(flash.program(FLASH_BASE + 8, &[0x0F, 0xF0, 0x00]), Ok(()));
        let again = flash.program(FLASH_BASE + 7, &[0x00, 0x0F, 0xFF, 0x3C, 0x11]);
        assert_eq!(
            again,
            Err(ProgramError::NotErased {
                addr: FLASH_BASE + 9
            })
        );
        // The whole block is still programmed (old AND new), as on silicon.
        assert_eq!(
            flash.read(FLASH_BASE + 7, 6),
            Some(&[0x00, 0x0F, 0xF0, 0x00, 0x11, 0xFF][..])
        );
        assert_eq!(
            flash.program(FLASH_BASE + FLASH_SIZE - 1, &[0, 0]),
            Err(ProgramError::NotErased {
                addr: FLASH_BASE + FLASH_SIZE - 1
            })
        );
    }
}
