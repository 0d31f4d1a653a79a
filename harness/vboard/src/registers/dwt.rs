//! DWT cycle counter and DEMCR: CYCCNT counts at the actual SYSCLK in virtual time while DEMCR.TRCENA and
//! DWT_CTRL.CYCCNTENA are set [C] CMSIS bit positions, and not while the core is halted in Debug state [C] ARMv7-M
//! C1.8.8 (it counts processor clock cycles, and a halted core has none); debugger writes bypass the DWT software
//! lock [U].

use std::time::Duration;

/// DEMCR.TRCENA.
pub const TRCENA: u32 = 1 << 24;
/// DWT_CTRL.CYCCNTENA.
pub const CYCCNTENA: u32 = 1;
/// DWT_CTRL.NUMCOMP = 4 on Cortex-M7 (read-only) [I].
const NUMCOMP_4: u32 = 4 << 28;

/// Debug-domain state; reset by power-on only.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dwt {
    pub demcr: u32,
    ctrl: u32,
    base: u32,
    anchor: Duration,
    hz: f64,
    /// The core is halted in Debug state: the count stands still.
    halted: bool,
}

impl Default for Dwt {
    fn default() -> Self {
        Dwt {
            demcr: 0,
            ctrl: NUMCOMP_4,
            base: 0,
            anchor: Duration::ZERO,
            hz: 0.0,
            halted: false,
        }
    }
}

impl Dwt {
    pub fn ctrl(&self) -> u32 {
        self.ctrl
    }

    fn counting(&self) -> bool {
        self.demcr & TRCENA != 0 && self.ctrl & CYCCNTENA != 0
    }

    /// CYCCNT at `now` (wraps at 32 bits).
    pub fn cyccnt(&self, now: Duration) -> u32 {
        if !self.counting() || self.halted {
            return self.base;
        }
        let cycles = now.saturating_sub(self.anchor).as_secs_f64() * self.hz;
        let cycles = cycles.clamp(0.0, u64::MAX as f64) as u64;
        self.base.wrapping_add(cycles as u32)
    }

    /// Freezes the count at `at` and continues at `new_hz` (a boot changed SYSCLK).
    pub fn rebase(&mut self, at: Duration, new_hz: f64) {
        self.base = self.cyccnt(at);
        self.anchor = at;
        self.hz = new_hz.max(0.0);
    }

    /// The core entered (`true`) or left Debug state at `now`.
    pub fn set_halted(&mut self, now: Duration, halted: bool) {
        if halted != self.halted {
            self.freeze(now);
            self.halted = halted;
        }
    }

    pub fn write_ctrl(&mut self, now: Duration, value: u32) {
        self.freeze(now);
        self.ctrl = NUMCOMP_4 | (value & 0x0FFF_FFFF);
    }

    pub fn write_cyccnt(&mut self, now: Duration, value: u32) {
        self.base = value;
        self.anchor = now;
    }

    pub fn write_demcr(&mut self, now: Duration, value: u32) {
        self.freeze(now);
        self.demcr = value;
    }

    fn freeze(&mut self, now: Duration) {
        self.base = self.cyccnt(now);
        self.anchor = now;
    }
}
