//! Leaving DFU (AN3156 §5.5 [C]): after dfuMANIFEST the device detaches, loads MSP from `[pointer]` and jumps to
//! `[pointer + 4]`; a non-executable target resets the chip (which may re-enter the bootloader).

use std::time::Duration;

use super::power::{Board, PINRSTF};
use super::types::RunMode;
use crate::memory::{FLASH_BASE, FLASH_SIZE};

/// SRAM range a plausible initial stack pointer lies in (top of stack may equal the end) [I].
const SRAM: std::ops::RangeInclusive<u32> = 0x2000_0001..=0x2005_0000;
/// ITCM alias of flash, where code may also run [C] (BOOT_ADD0 0x0080 → 0x00200000).
const ITCM_FLASH: u32 = 0x0020_0000;

impl Board {
    /// After dfuMANIFEST: detach, then jump if `[pointer]` is a plausible MSP and `[pointer + 4]` a Thumb address
    /// in flash; otherwise system reset (which re-enters the bootloader while BOOT0 selects it) [C] AN3156 §5.5.
    pub(crate) fn leave(&mut self, at: Duration) {
        let address = self
            .rom
            .as_ref()
            .map_or(FLASH_BASE, |rom| rom.dfu.leave_address);
        let word = |offset: u32| {
            let bytes = self.memory.read(address.wrapping_add(offset), 4)?;
            Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
        };
        let plausible = match (word(0), word(4)) {
            (Some(msp), Some(pc)) => SRAM.contains(&msp) && pc & 1 == 1 && in_flash(pc & !1),
            _ => false,
        };
        if plausible {
            self.mode = RunMode::Application {
                vector_table: address,
            };
            self.rom = None;
            self.on_bus = false;
        } else {
            self.software_reset(at);
        }
    }

    /// A debugger's intrusive reset: an NRST pulse with the core caught at the reset vector, then resumed at
    /// `entry` in SRAM where it spins. The ROM never runs, so the clocks keep their reset values: SYSCLK is
    /// HSI (this temperature's error, no per-boot jitter [I]) and CYCCNT counts at it. The board is off USB,
    /// running "user code" at `entry` ([`RunMode::Application`]), until the next reset. No effect while off.
    pub fn reset_halt_run_from(&mut self, now: Duration, entry: u32) {
        self.touch(now);
        if self.mode == RunMode::Off {
            return;
        }
        self.csr_flags |= PINRSTF;
        self.core.on_reset(now, self.dwt.demcr);
        self.core.caught_at_reset_and_run(now);
        self.count_boot();
        self.faults.on_boot();
        (self.busy_until, self.poll_not_before) = (Duration::ZERO, Duration::ZERO);
        (self.boot, self.rom, self.on_bus) = (None, None, false);
        self.mode = RunMode::Application {
            vector_table: entry,
        };
        self.dwt.set_halted(now, self.core.halted());
        self.dwt.rebase(now, self.sysclk_hz());
    }
}

fn in_flash(addr: u32) -> bool {
    let in_range = |base: u32| addr >= base && addr - base < FLASH_SIZE;
    in_range(FLASH_BASE) || in_range(ITCM_FLASH)
}
