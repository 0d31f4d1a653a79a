//! The Cortex-M7's debug view: the core debug registers (DHCSR, DCRSR/DCRDR, DFSR; DEMCR lives with the DWT),
//! AIRCR's reset request, the identification registers a debugger checks (CPUID, MVFR0–2), the FPB and DWT
//! comparators it clears, DBGMCU_CR and the freeze registers, and the CoreSight ROM tables and component IDs a
//! debugger walks. Values and bit positions are docs/probe-facts.md's, each tagged there; the ones that are
//! guesses come from the board file's `[debug]` section.
//!
//! The core itself is not emulated: "running" means the ROM bootloader runs (and answers USB), "halted" means it
//! does not. Halting is recorded (how often, when first, when last), because a halting attach changes what the
//! bootloader does next (probe-rs issue 3135).

use std::collections::BTreeMap;
use std::time::Duration;

pub const CPUID: u32 = 0xE000_ED00;
pub const ICSR: u32 = 0xE000_ED04;
pub const AIRCR: u32 = 0xE000_ED0C;
pub const DFSR: u32 = 0xE000_ED30;
pub const DHCSR: u32 = 0xE000_EDF0;
pub const DCRSR: u32 = 0xE000_EDF4;
pub const DCRDR: u32 = 0xE000_EDF8;
pub const MVFR0: u32 = 0xE000_EF40;
pub const MVFR1: u32 = 0xE000_EF44;
pub const MVFR2: u32 = 0xE000_EF48;
pub const FP_CTRL: u32 = 0xE000_2000;
pub const DBGMCU_CR: u32 = 0xE004_2004;
pub const DBGMCU_APB1_FZ: u32 = 0xE004_2008;
pub const DBGMCU_APB2_FZ: u32 = 0xE004_200C;

/// DHCSR bits [C] ARMv7-M C1.6.2.
pub const C_DEBUGEN: u32 = 1 << 0;
pub const C_HALT: u32 = 1 << 1;
const C_STEP: u32 = 1 << 2;
const C_MASKINTS: u32 = 1 << 3;
const C_SNAPSTALL: u32 = 1 << 5;
const S_REGRDY: u32 = 1 << 16;
pub const S_HALT: u32 = 1 << 17;
const S_RETIRE_ST: u32 = 1 << 24;
pub const S_RESET_ST: u32 = 1 << 25;
const DBGKEY: u32 = 0xA05F << 16;
/// DEMCR.VC_CORERESET [C].
pub const VC_CORERESET: u32 = 1;
/// DFSR bits [C].
const DFSR_HALTED: u32 = 1 << 0;
const DFSR_VCATCH: u32 = 1 << 3;
/// AIRCR [C]: VECTKEY, SYSRESETREQ, VECTRESET.
const VECTKEY: u32 = 0x05FA << 16;
const VECTKEY_READ: u32 = 0xFA05 << 16;
const SYSRESETREQ: u32 = 1 << 2;
const VECTRESET: u32 = 1 << 0;

/// MVFR0–2 of the M7 with single-precision FPv5 [C3] OpenOCD `MVFR*_DEFAULT_M7_SP`.
const MVFR: [u32; 3] = [0x1011_0021, 0x1100_0011, 0x0000_0040];
/// FP_CTRL: FPBv2, 8 code and 1 literal comparator, disabled [C3] counts, [I] REV.
const FP_CTRL_RESET: u32 = 0x1000_0180;

/// A write to the system that a debugger can make happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    None,
    /// AIRCR.SYSRESETREQ (or VECTRESET): a system reset, a new boot.
    SystemReset,
}

/// The core's debug state. A system reset keeps DEMCR, DBGMCU and the debug enable (they are in the debug
/// domain); a power-on reset clears everything.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CoreDebug {
    cpuid: u32,
    /// PC and SP as a halt finds them in the bootloader [U] board file.
    halt_pc: u32,
    halt_sp: u32,
    /// C_DEBUGEN, C_HALT, C_STEP, C_MASKINTS, C_SNAPSTALL as last written.
    control: u32,
    halted: bool,
    reset_sticky: bool,
    retired_since_read: bool,
    dcrdr: u32,
    regs: BTreeMap<u32, u32>,
    dfsr: u32,
    dbgmcu: [u32; 3],
    fp_ctrl: u32,
    aircr_prigroup: u32,
    /// Writable comparator words a debugger clears or sets (FPB and DWT comparators): kept, not acted on.
    comparators: BTreeMap<u32, u32>,
    pub halts: Halts,
}

/// The record of halts: how many, the first and the last, in board time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Halts {
    pub count: u64,
    pub first: Option<Duration>,
    pub last: Option<Duration>,
}

impl CoreDebug {
    pub fn new(cpuid: u32, halt_pc: u32, halt_sp: u32) -> Self {
        Self {
            cpuid,
            halt_pc,
            halt_sp,
            control: 0,
            halted: false,
            reset_sticky: true,
            retired_since_read: true,
            dcrdr: 0,
            regs: BTreeMap::new(),
            dfsr: 0,
            dbgmcu: [0; 3],
            fp_ctrl: FP_CTRL_RESET,
            aircr_prigroup: 0,
            comparators: BTreeMap::new(),
            halts: Halts::default(),
        }
    }

    pub fn halted(&self) -> bool {
        self.halted
    }

    /// Enter Debug state: C_HALT reads 1 from then on, whatever halted the core (a debugger that writes DHCSR
    /// back as it read it keeps the core halted) [C] ARMv7-M C1.6.2.
    fn halt(&mut self, now: Duration, reason: u32) {
        self.control |= C_HALT;
        if !self.halted {
            self.halted = true;
            self.halts.count += 1;
            self.halts.first.get_or_insert(now);
            self.halts.last = Some(now);
            // What a halt finds: the ROM's loop, its stack, Thumb state.
            self.regs.insert(15, self.halt_pc);
            self.regs.insert(13, self.halt_sp);
            self.regs.insert(17, self.halt_sp);
            self.regs.insert(16, 0x0100_0000);
        }
        self.dfsr |= reason;
    }

    /// A debugger's reset-and-halt followed by a run (the in-process shortcut of probe-rs's `reset_and_halt`, then
    /// `run`): the core is caught at the reset vector, which counts as a halt, and runs on.
    pub fn caught_at_reset_and_run(&mut self, now: Duration) {
        self.halt(now, DFSR_VCATCH);
        self.halted = false;
        self.control &= !(C_HALT | C_STEP);
        self.retired_since_read = true;
    }

    /// A system or pin reset: S_RESET_ST is set; with DEMCR.VC_CORERESET and C_DEBUGEN the core halts at the
    /// reset vector, otherwise it runs.
    pub fn on_reset(&mut self, now: Duration, demcr: u32) {
        self.reset_sticky = true;
        self.regs.clear();
        self.halted = false;
        if demcr & VC_CORERESET != 0 && self.control & C_DEBUGEN != 0 {
            self.halt(now, DFSR_VCATCH);
        } else {
            self.control &= !(C_HALT | C_STEP);
            self.retired_since_read = true;
        }
    }

    /// The value at `addr`, if it is one of these registers.
    pub fn read(&mut self, addr: u32) -> Option<u32> {
        Some(match addr {
            CPUID => self.cpuid,
            ICSR => 0,
            AIRCR => VECTKEY_READ | self.aircr_prigroup,
            DFSR => self.dfsr,
            DHCSR => {
                let mut v = self.control & (C_DEBUGEN | C_HALT | C_STEP | C_MASKINTS | C_SNAPSTALL);
                v |= S_REGRDY;
                if self.halted {
                    v |= S_HALT;
                }
                if self.reset_sticky {
                    v |= S_RESET_ST;
                }
                if self.retired_since_read || !self.halted {
                    v |= S_RETIRE_ST;
                }
                // Both sticky status bits clear on read [C].
                self.reset_sticky = false;
                self.retired_since_read = false;
                v
            }
            DCRDR => self.dcrdr,
            MVFR0 => MVFR[0],
            MVFR1 => MVFR[1],
            MVFR2 => MVFR[2],
            FP_CTRL => self.fp_ctrl,
            DBGMCU_CR => self.dbgmcu[0],
            DBGMCU_APB1_FZ => self.dbgmcu[1],
            DBGMCU_APB2_FZ => self.dbgmcu[2],
            a if is_comparator(a) => self.comparators.get(&a).copied().unwrap_or(0),
            a => rom_word(a)?,
        })
    }

    /// A write to one of these registers; None when `addr` is not one of them (or is read-only).
    pub fn write(&mut self, now: Duration, addr: u32, value: u32) -> Option<Effect> {
        match addr {
            DHCSR => {
                // Without the key the whole write is ignored [C].
                if value & 0xFFFF_0000 == DBGKEY {
                    self.control = value & (C_DEBUGEN | C_HALT | C_STEP | C_MASKINTS | C_SNAPSTALL);
                    if self.control & C_DEBUGEN == 0 {
                        self.control = 0;
                        self.halted = false;
                    } else if self.control & C_HALT != 0 {
                        self.halt(now, DFSR_HALTED);
                    } else if self.halted {
                        // Resume (a step runs one instruction and halts again: the ROM's loop, unchanged).
                        if self.control & C_STEP != 0 {
                            self.dfsr |= DFSR_HALTED;
                            self.control |= C_HALT;
                        } else {
                            self.halted = false;
                        }
                        self.retired_since_read = true;
                    }
                }
            }
            DCRSR => {
                let sel = value & 0x7F;
                if value & (1 << 16) != 0 {
                    self.regs.insert(sel, self.dcrdr);
                } else {
                    self.dcrdr = self.regs.get(&sel).copied().unwrap_or(0);
                }
            }
            DCRDR => self.dcrdr = value,
            DFSR => self.dfsr &= !value,
            AIRCR if value & 0xFFFF_0000 == VECTKEY => {
                self.aircr_prigroup = value & 0x700;
                if value & (SYSRESETREQ | VECTRESET) != 0 {
                    return Some(Effect::SystemReset);
                }
            }
            AIRCR => {} // without the key: ignored
            FP_CTRL => {
                // KEY (bit 1) must be set for ENABLE (bit 0) to change.
                if value & 2 != 0 {
                    self.fp_ctrl = self.fp_ctrl & !1 | value & 1;
                }
            }
            DBGMCU_CR => self.dbgmcu[0] = value & 0xE7,
            DBGMCU_APB1_FZ => self.dbgmcu[1] = value,
            DBGMCU_APB2_FZ => self.dbgmcu[2] = value,
            a if is_comparator(a) => {
                self.comparators.insert(a, value);
            }
            _ => return None,
        }
        Some(Effect::None)
    }
}

/// Whether [`CoreDebug::write`] takes a write to `addr`.
pub(crate) fn writable(addr: u32) -> bool {
    matches!(
        addr,
        DHCSR
            | DCRSR
            | DCRDR
            | DFSR
            | AIRCR
            | FP_CTRL
            | DBGMCU_CR
            | DBGMCU_APB1_FZ
            | DBGMCU_APB2_FZ
    ) || is_comparator(addr)
}

/// FPB comparators FP_COMP0–8 and DWT comparators 0–3 (COMP, MASK, FUNCTION) [C] addresses.
fn is_comparator(addr: u32) -> bool {
    (0xE000_2008..=0xE000_2028).contains(&addr)
        || (0xE000_1020..0xE000_1060).contains(&addr) && addr & 0xF != 0xC
}

/// The CoreSight ROM tables and the component ID words of every component they list [C]/[C3]
/// docs/probe-facts.md §3.
fn rom_word(addr: u32) -> Option<u32> {
    // (base, entries, PIDR bytes 0..4 with PIDR4 last, CIDR1 class nibble, MEMTYPE)
    type Component = (u32, &'static [u32], [u32; 5], u32, u32);
    const ARM_ROM: u32 = 0x1;
    const GENERIC: u32 = 0xE;
    const CORESIGHT: u32 = 0x9;
    const COMPONENTS: [Component; 9] = [
        (
            0xE00F_D000,
            &[0x0000_1003, 0xFFF4_3003],
            [0x49, 0x04, 0x0A, 0x00, 0x00],
            ARM_ROM,
            0x1,
        ),
        (
            0xE00F_E000,
            &[0x0000_1003, 0xFFF4_3003],
            [0xC8, 0xB4, 0x0B, 0x00, 0x04],
            ARM_ROM,
            0x1,
        ),
        (
            0xE00F_F000,
            &[
                0xFFF0_F003,
                0xFFF0_2003,
                0xFFF0_3003,
                0xFFF0_1003,
                0xFFF4_1002,
                0xFFF4_2002,
            ],
            [0xC7, 0xB4, 0x0B, 0x00, 0x04],
            ARM_ROM,
            0x1,
        ),
        (0xE000_E000, &[], [0x0C, 0xB0, 0x0B, 0x00, 0x04], GENERIC, 0),
        (0xE000_1000, &[], [0x02, 0xB0, 0x0B, 0x00, 0x04], GENERIC, 0),
        (0xE000_2000, &[], [0x0E, 0xB0, 0x0B, 0x00, 0x04], GENERIC, 0),
        (0xE000_0000, &[], [0x01, 0xB0, 0x0B, 0x00, 0x04], GENERIC, 0),
        (
            0xE004_1000,
            &[],
            [0x75, 0xB9, 0x1B, 0x00, 0x04],
            CORESIGHT,
            0,
        ),
        (
            0xE004_0000,
            &[],
            [0xA9, 0xB9, 0x0B, 0x00, 0x04],
            CORESIGHT,
            0,
        ),
    ];
    let base = addr & !0xFFF;
    let (_, entries, pidr, class, memtype) = COMPONENTS.iter().find(|c| c.0 == base)?;
    let offset = addr & 0xFFF;
    let is_table = *class == ARM_ROM;
    Some(match offset {
        0xFF0 => 0x0D,
        0xFF4 => class << 4,
        0xFF8 => 0x05,
        0xFFC => 0xB1,
        0xFE0..=0xFEC => pidr[((offset - 0xFE0) / 4) as usize],
        0xFD0 => pidr[4],
        0xFD4..=0xFDC => 0,
        0xFCC if is_table => *memtype,
        // The 0x000.. words of a ROM table are its entries, ended by a zero.
        o if is_table && o < 0xF00 => entries.get((o / 4) as usize).copied().unwrap_or(0),
        // The registers of SCS, DWT, FPB and ITM themselves are elsewhere in the map; the rest of their ID
        // block (DEVARCH, DEVTYPE, the lock and claim registers) and every other word of the trace components
        // read as zero.
        _ if *class == CORESIGHT => 0,
        o if o >= 0xF00 => 0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core() -> CoreDebug {
        CoreDebug::new(0x410F_C271, 0x1FF0_9A2C, 0x2000_4F88)
    }

    #[test]
    fn halt_needs_the_key_and_debug_enabled_and_is_recorded() {
        let mut c = core();
        let t = Duration::from_millis(5);
        c.write(t, DHCSR, C_DEBUGEN | C_HALT);
        assert!(!c.halted(), "no DBGKEY: ignored");
        c.write(t, DHCSR, DBGKEY | C_DEBUGEN | C_HALT);
        assert!(c.halted());
        let dhcsr = c.read(DHCSR).unwrap();
        assert_eq!(dhcsr & (S_HALT | S_REGRDY), S_HALT | S_REGRDY);
        assert_eq!(c.halts.count, 1);
        assert_eq!(c.halts.first, Some(t));
        c.write(t, DCRSR, 15);
        assert_eq!(c.read(DCRDR), Some(0x1FF0_9A2C), "PC in the ROM");
        c.write(t, DHCSR, DBGKEY | C_DEBUGEN);
        assert!(!c.halted(), "resumed");
    }

    #[test]
    fn reset_status_is_sticky_until_read_and_vector_catch_halts_at_reset() {
        let mut c = core();
        assert_ne!(c.read(DHCSR).unwrap() & S_RESET_ST, 0);
        assert_eq!(
            c.read(DHCSR).unwrap() & S_RESET_ST,
            0,
            "cleared by the read"
        );
        c.write(Duration::ZERO, DHCSR, DBGKEY | C_DEBUGEN);
        c.on_reset(Duration::from_secs(1), VC_CORERESET);
        assert!(c.halted());
        // Halted by the catch, C_HALT reads 1: writing DHCSR back as read (with C_MASKINTS, as probe-rs does
        // before a step) keeps it halted.
        let read = c.read(DHCSR).unwrap();
        assert_ne!(read & C_HALT, 0);
        c.write(Duration::ZERO, DHCSR, DBGKEY | (read & 0xFFFF) | C_MASKINTS);
        assert!(c.halted());
        assert_ne!(c.read(DFSR).unwrap() & DFSR_VCATCH, 0);
        c.write(Duration::ZERO, DFSR, 0x1F);
        assert_eq!(c.read(DFSR), Some(0));
    }

    #[test]
    fn aircr_sysresetreq_needs_its_key() {
        let mut c = core();
        assert_eq!(
            c.write(Duration::ZERO, AIRCR, SYSRESETREQ),
            Some(Effect::None)
        );
        assert_eq!(
            c.write(Duration::ZERO, AIRCR, VECTKEY | SYSRESETREQ),
            Some(Effect::SystemReset)
        );
        assert_eq!(c.read(AIRCR).unwrap() >> 16, 0xFA05);
    }

    #[test]
    fn the_rom_tables_chain_to_the_scs() {
        let mut c = core();
        // ST table at the AP's BASE, a ROM table (class 1), ST's designer and the F74x part.
        assert_eq!(c.read(0xE00F_DFF4), Some(0x10));
        assert_eq!(c.read(0xE00F_DFE0), Some(0x49));
        let first = c.read(0xE00F_D000).unwrap();
        let cm7 = 0xE00F_D000u32.wrapping_add(first & !0xFFF);
        assert_eq!(cm7, 0xE00F_E000);
        let ppb = cm7.wrapping_add(c.read(cm7).unwrap() & !0xFFF);
        assert_eq!(ppb, 0xE00F_F000);
        let scs = ppb.wrapping_add(c.read(ppb).unwrap() & !0xFFF);
        assert_eq!(scs, 0xE000_E000);
        assert_eq!(c.read(scs + 0xFE0), Some(0x0C), "SCS part 0x00C");
        assert_eq!(c.read(scs + 0xFF4), Some(0xE0), "generic IP class");
        assert_eq!(c.read(0xE00F_D008), Some(0), "table ends");
    }
}
