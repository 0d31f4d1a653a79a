//! The chip's SWD debug port, at the level a probe's firmware drives it: the SWJ-DP's line (line resets, the
//! JTAG-to-SWD switch, the dormant wake-up), the SW-DP's registers (DPIDR, CTRL/STAT with its power-up handshake and
//! sticky errors, SELECT, RDBUFF, ABORT) and one AHB-AP (CSW, TAR, DRW, BD0–BD3, CFG, BASE, IDR) whose memory
//! transactions go to a [`Bus`] — the board's register file. Sans-io: the caller clocks bits in and makes transfers;
//! nothing here sleeps or knows about USB.
//!
//! Follows ARM's ADIv5.2 (IHI 0031) for the DP and the MEM-AP; identification values (DPIDR, the AP's IDR, the ROM
//! table address) are parameters ([`SwdIdentity`]), since for the STM32F746 they come from third-party sources.

use crate::registers::BusFault;

/// A probe's view of one SWD transfer's acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    Ok,
    Wait,
    Fault,
    /// The target did not drive an ACK (it is not in SWD mode, or the DP needs a DPIDR read after a line reset).
    NoResponse,
}

/// The result of one transfer: its ACK and, for a read acknowledged OK, the data phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    pub ack: Ack,
    pub data: u32,
}

impl Transfer {
    fn ok(data: u32) -> Self {
        Self { ack: Ack::Ok, data }
    }
    fn ack(ack: Ack) -> Self {
        Self { ack, data: 0 }
    }
}

/// 32-bit memory accesses behind the AHB-AP (the board's register file). An error is a bus fault: the AP sets
/// STICKYERR.
pub trait Bus {
    fn read(&mut self, addr: u32) -> Result<u32, BusFault>;
    fn write(&mut self, addr: u32, value: u32) -> Result<(), BusFault>;
    /// Whether the debug power domain answers CDBGPWRUPREQ/CSYSPWRUPREQ (false: the chip is off, or a planted fault
    /// keeps the domain down).
    fn debug_power(&self) -> bool;
}

/// The board's register file as the AHB-AP's bus, at the board's time `now`.
pub struct BoardBus<'a> {
    pub board: &'a mut crate::Board,
    pub now: std::time::Duration,
}

impl Bus for BoardBus<'_> {
    fn read(&mut self, addr: u32) -> Result<u32, BusFault> {
        self.board.read_u32(self.now, addr)
    }
    fn write(&mut self, addr: u32, value: u32) -> Result<(), BusFault> {
        self.board.write_u32(self.now, addr, value)
    }
    fn debug_power(&self) -> bool {
        self.board.mode() != crate::RunMode::Off && self.board.config().debug.powers_up
    }
}

/// Identification values a probe reads; see docs/probe-facts.md for their sources and confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwdIdentity {
    /// DP identification register (DPIDR).
    pub dpidr: u32,
    /// The AHB-AP's IDR.
    pub ap_idr: u32,
    /// The AHB-AP's BASE register: the first ROM table's address, with its format and present bits.
    pub ap_base: u32,
    /// TARGETID (DPv2), read with DPBANKSEL = 2.
    pub targetid: u32,
    /// A planted fault: every AP transfer answered WAIT (or FAULT) instead of being carried out.
    pub planted_ap_ack: Option<Ack>,
}

/// What the line is in, from the bits clocked on SWDIO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineMode {
    /// After power-on: an SWJ-DP starts in JTAG and ignores SWD packets.
    Jtag,
    /// In dormant state (after SWD-to-dormant); only a selection alert and activation code wake it.
    Dormant,
    /// SWD, after a line reset: only a DPIDR read is answered.
    SwdReset,
    /// SWD, answering transfers.
    Swd,
}

// CTRL/STAT bits (ADIv5.2 B2.2.2).
const ORUNDETECT: u32 = 1 << 0;
const STICKYORUN: u32 = 1 << 1;
const STICKYCMP: u32 = 1 << 4;
const STICKYERR: u32 = 1 << 5;
const WDATAERR: u32 = 1 << 7;
const CDBGRSTREQ: u32 = 1 << 26;
const CDBGRSTACK: u32 = 1 << 27;
const CDBGPWRUPREQ: u32 = 1 << 28;
const CDBGPWRUPACK: u32 = 1 << 29;
const CSYSPWRUPREQ: u32 = 1 << 30;
const CSYSPWRUPACK: u32 = 1 << 31;
/// The read/write fields of CTRL/STAT: ORUNDETECT, TRNMODE, MASKLANE, TRNCNT and the three requests.
const CTRL_RW: u32 =
    ORUNDETECT | 0b11 << 2 | 0xF << 8 | 0xFFF << 12 | CDBGRSTREQ | CDBGPWRUPREQ | CSYSPWRUPREQ;

// ABORT bits (ADIv5.2 B2.2.1).
const STKCMPCLR: u32 = 1 << 1;
const STKERRCLR: u32 = 1 << 2;
const WDERRCLR: u32 = 1 << 3;
const ORUNERRCLR: u32 = 1 << 4;

// CSW (ADIv5.2 C2.6.4): Size[2:0], AddrInc[5:4], DeviceEn 6 (read-only 1 here), TrInProg 7 (read-only 0).
const CSW_DEVICE_EN: u32 = 1 << 6;
const CSW_RW: u32 = !(CSW_DEVICE_EN | 1 << 7 | 0xF << 8);

/// The JTAG-to-SWD select sequence, sent LSB first (ADIv5.2 B5.2.2).
const JTAG_TO_SWD: u16 = 0xE79E;
/// The SWD-to-dormant sequence, sent LSB first (ADIv5.2 B5.3.2).
const SWD_TO_DORMANT: u16 = 0xE3BC;
/// The 128-bit selection alert, as the bytes sent LSB first (ADIv5.2 B5.3.4).
const SELECTION_ALERT: [u8; 16] = [
    0x92, 0xF3, 0x09, 0x62, 0x95, 0x2D, 0x85, 0x86, 0xE9, 0xAF, 0xDD, 0xE3, 0xA2, 0x0E, 0xBC, 0x19,
];
/// The SWD activation code after the alert and four idle cycles, sent LSB first.
const SWD_ACTIVATION: u8 = 0x1A;
/// A line reset is at least this many clocks with SWDIO high.
const LINE_RESET_ONES: u32 = 50;

/// The SW-DP and its AHB-AP.
#[derive(Debug, Clone)]
pub struct DebugPort {
    id: SwdIdentity,
    mode: LineMode,
    /// The last 128 bits clocked, newest in bit 0.
    history: u128,
    /// Consecutive ones clocked so far.
    ones: u32,
    /// Bits clocked since a selection alert, while waiting for the activation code.
    after_alert: Option<u32>,
    ctrl: u32,
    sticky: u32,
    select: u32,
    /// The result of the last AP read, returned by the next AP read or by RDBUFF (AP reads are posted).
    rdbuff: u32,
    csw: u32,
    tar: u32,
}

impl DebugPort {
    pub fn new(id: SwdIdentity) -> Self {
        Self {
            id,
            mode: LineMode::Jtag,
            history: 0,
            ones: 0,
            after_alert: None,
            ctrl: 0,
            sticky: 0,
            select: 0,
            rdbuff: 0,
            csw: CSW_DEVICE_EN,
            tar: 0,
        }
    }

    /// A power-on reset of the debug logic (the chip lost power): back to JTAG, everything cleared.
    pub fn power_on_reset(&mut self) {
        *self = Self::new(self.id);
    }

    pub fn mode(&self) -> LineMode {
        self.mode
    }

    /// Clock `count` bits of `data` (LSB first) on SWDIO, as DAP_SWJ_Sequence does.
    pub fn sequence(&mut self, count: usize, data: &[u8]) {
        for i in 0..count {
            let bit = data.get(i / 8).is_some_and(|b| b >> (i % 8) & 1 == 1);
            self.clock(bit);
        }
    }

    fn clock(&mut self, bit: bool) {
        self.history = self.history << 1 | u128::from(bit);
        self.ones = if bit { self.ones.saturating_add(1) } else { 0 };
        let last16 = (self.history & 0xFFFF) as u16;
        let ones_before_last16 = (self.history >> 16) & ((1u128 << LINE_RESET_ONES) - 1)
            == (1u128 << LINE_RESET_ONES) - 1;
        if let Some(n) = self.after_alert.as_mut() {
            *n += 1;
            if *n == 12 {
                // Four idle cycles, then the activation code, LSB first: the newest 12 bits.
                let code = (self.history & 0xFFF) as u16;
                let want = u16::from(SWD_ACTIVATION.reverse_bits());
                self.after_alert = None;
                if code == want {
                    self.mode = LineMode::SwdReset;
                }
            }
        }
        if self.history == alert_pattern() {
            self.after_alert = Some(0);
        }
        match self.mode {
            LineMode::Jtag if ones_before_last16 && last16 == JTAG_TO_SWD.reverse_bits() => {
                self.mode = LineMode::SwdReset;
            }
            LineMode::Swd | LineMode::SwdReset
                if ones_before_last16 && last16 == SWD_TO_DORMANT.reverse_bits() =>
            {
                self.mode = LineMode::Dormant;
            }
            LineMode::Swd | LineMode::SwdReset if self.ones >= LINE_RESET_ONES => {
                // A line reset clears DPBANKSEL; sticky flags and the power requests stay (ADIv5.2 B4.3.3).
                self.mode = LineMode::SwdReset;
                self.select &= !0xF;
            }
            _ => {}
        }
    }

    /// One SWD transfer: `ap` (APnDP), `read` (RnW), `a` the register address A[3:2] as a byte offset (0, 4, 8 or
    /// 0xC), `data` for a write.
    pub fn transfer(
        &mut self,
        bus: &mut dyn Bus,
        ap: bool,
        read: bool,
        a: u8,
        data: u32,
    ) -> Transfer {
        let a = a & 0xC;
        match self.mode {
            LineMode::Jtag | LineMode::Dormant => return Transfer::ack(Ack::NoResponse),
            // TARGETSEL is written without an ACK; any other access after a line reset but a DPIDR read goes unanswered.
            LineMode::SwdReset if (ap, read, a) != (false, true, 0) => {
                return Transfer::ack(Ack::NoResponse)
            }
            LineMode::SwdReset => self.mode = LineMode::Swd,
            LineMode::Swd => {}
        }
        self.update_power(bus);
        if ap {
            if let Some(ack) = self.id.planted_ap_ack {
                return Transfer::ack(ack);
            }
            if self.sticky != 0 {
                return Transfer::ack(Ack::Fault);
            }
            return self.ap_access(bus, read, a, data);
        }
        match (read, a) {
            (true, 0x0) => Transfer::ok(self.id.dpidr),
            (false, 0x0) => {
                self.abort(data);
                Transfer::ok(0)
            }
            (true, 0x4) => Transfer::ok(match self.select & 0xF {
                0 => self.ctrl | self.sticky,
                2 => self.id.targetid,
                _ => 0,
            }),
            // With a sticky flag set, only DPIDR, CTRL/STAT reads and ABORT writes are allowed (ADIv5.2 B4.2.3).
            _ if self.sticky != 0 => Transfer::ack(Ack::Fault),
            (false, 0x4) => {
                if self.select & 0xF == 0 {
                    self.ctrl = data & CTRL_RW;
                    self.update_power(bus);
                }
                Transfer::ok(0)
            }
            (true, 0x8) => Transfer::ok(self.rdbuff), // RESEND: the last read's data again
            (false, 0x8) => {
                self.select = data;
                Transfer::ok(0)
            }
            (true, 0xC) => Transfer::ok(self.rdbuff),
            (false, _) => Transfer::ok(0), // TARGETSEL: accepted (single-drop)
            (true, _) => Transfer::ok(0),
        }
    }

    /// The ACKs of the power-up requests follow the requests while the debug domain is powered.
    fn update_power(&mut self, bus: &dyn Bus) {
        let powered = bus.debug_power();
        let follow = |req: u32, ack: u32, ctrl: u32| {
            if powered && ctrl & req != 0 {
                ack
            } else {
                0
            }
        };
        let acks = follow(CDBGPWRUPREQ, CDBGPWRUPACK, self.ctrl)
            | follow(CSYSPWRUPREQ, CSYSPWRUPACK, self.ctrl)
            | follow(CDBGRSTREQ, CDBGRSTACK, self.ctrl);
        self.ctrl = self.ctrl & CTRL_RW | acks;
    }

    fn abort(&mut self, value: u32) {
        for (bit, flag) in [
            (STKCMPCLR, STICKYCMP),
            (STKERRCLR, STICKYERR),
            (WDERRCLR, WDATAERR),
            (ORUNERRCLR, STICKYORUN),
        ] {
            if value & bit != 0 {
                self.sticky &= !flag;
            }
        }
    }

    fn ap_access(&mut self, bus: &mut dyn Bus, read: bool, a: u8, data: u32) -> Transfer {
        let apsel = self.select >> 24;
        let reg = (self.select & 0xF0) as u8 | a;
        if apsel != 0 {
            // No AP there: reads as zero (an IDR of 0 ends a probe's AP scan), writes ignored.
            return self.posted(read, 0);
        }
        if self.ctrl & CDBGPWRUPACK == 0 {
            // The AP sits in the debug power domain.
            self.sticky |= STICKYERR;
            return self.posted(read, 0);
        }
        let value = match reg {
            0x00 if read => self.csw,
            0x00 => {
                // Packed transfers (AddrInc 2) are not offered: the field reads back as single increment, which
                // is how a debugger learns it (OpenOCD tries packed at attach).
                let inc = match (data >> 4) & 0x3 {
                    0 => 0,
                    _ => 1,
                };
                self.csw = data & CSW_RW & !0x30 | inc << 4 | CSW_DEVICE_EN;
                0
            }
            0x04 if read => self.tar,
            0x04 => {
                self.tar = data;
                0
            }
            0x0C => {
                let v = self.memory(bus, read, self.tar, data);
                self.increment();
                v
            }
            0x10..=0x1C => {
                let addr = self.tar & !0xF | u32::from(reg - 0x10);
                self.memory_word(bus, read, addr, data)
            }
            0xF4 => 0, // CFG: little-endian, no large data or address
            0xF8 => self.id.ap_base,
            0xFC => self.id.ap_idr,
            _ => 0,
        };
        self.posted(read, value)
    }

    /// An AP read returns the previous AP read's result and leaves its own in RDBUFF (ADIv5.2 B4.1.5).
    fn posted(&mut self, read: bool, value: u32) -> Transfer {
        if read {
            let previous = std::mem::replace(&mut self.rdbuff, value);
            Transfer::ok(previous)
        } else {
            Transfer::ok(0)
        }
    }

    fn size(&self) -> u32 {
        match self.csw & 0x7 {
            0 => 1,
            1 => 2,
            _ => 4,
        }
    }

    /// A DRW access of CSW's size at `addr`: sub-word reads return the whole aligned word (the addressed byte lanes
    /// are valid); sub-word writes merge the addressed lanes into the word.
    fn memory(&mut self, bus: &mut dyn Bus, read: bool, addr: u32, data: u32) -> u32 {
        let size = self.size();
        if size == 4 || read {
            return self.memory_word(bus, read, addr & !3, data);
        }
        let shift = 8 * (addr & 3);
        let mask = (if size == 1 { 0xFF } else { 0xFFFF }) << shift;
        match bus.read(addr & !3) {
            Ok(word) => self.memory_word(bus, false, addr & !3, word & !mask | data & mask),
            Err(_) => {
                self.sticky |= STICKYERR;
                0
            }
        }
    }

    fn memory_word(&mut self, bus: &mut dyn Bus, read: bool, addr: u32, data: u32) -> u32 {
        let result = if read {
            bus.read(addr)
        } else {
            bus.write(addr, data).map(|()| 0)
        };
        result.unwrap_or_else(|_| {
            self.sticky |= STICKYERR;
            0
        })
    }

    /// TAR auto-increment by the access size, within its 1 KiB block (ADIv5.2 C2.2.2 guarantees no more).
    fn increment(&mut self) {
        let step = match (self.csw >> 4) & 0x3 {
            0 => return,
            _ => self.size(),
        };
        let low = (self.tar.wrapping_add(step)) & 0x3FF;
        self.tar = self.tar & !0x3FF | low;
    }
}

/// The selection alert as the shift register holds it once its last bit is in (first bit sent in bit 127).
fn alert_pattern() -> u128 {
    let mut v = 0u128;
    for i in 0..128 {
        let bit = SELECTION_ALERT[i / 8] >> (i % 8) & 1;
        v = v << 1 | u128::from(bit);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bus of 16 words at 0x2000_0000, with a fault everywhere else.
    struct Ram {
        words: [u32; 16],
        powered: bool,
    }

    impl Bus for Ram {
        fn read(&mut self, addr: u32) -> Result<u32, BusFault> {
            let i = addr
                .checked_sub(0x2000_0000)
                .ok_or(BusFault::Unmapped { addr })?
                / 4;
            let word = self.words.get(i as usize).copied();
            word.ok_or(BusFault::Unmapped { addr })
        }
        fn write(&mut self, addr: u32, value: u32) -> Result<(), BusFault> {
            let i = addr
                .checked_sub(0x2000_0000)
                .ok_or(BusFault::Unmapped { addr })?
                / 4;
            *self
                .words
                .get_mut(i as usize)
                .ok_or(BusFault::Unmapped { addr })? = value;
            Ok(())
        }
        fn debug_power(&self) -> bool {
            self.powered
        }
    }

    const ID: SwdIdentity = SwdIdentity {
        dpidr: 0x5BA0_2477,
        ap_idr: 0x7477_0001,
        ap_base: 0xE00F_D003,
        targetid: 0,
        planted_ap_ack: None,
    };

    fn ram() -> Ram {
        let mut words = [0; 16];
        for (i, w) in words.iter_mut().enumerate() {
            *w = 0x1000_0000 + i as u32;
        }
        Ram {
            words,
            powered: true,
        }
    }

    /// The host's connect: line reset, JTAG-to-SWD, line reset, two idle bits.
    fn connect(dp: &mut DebugPort) {
        dp.sequence(51, &[0xFF; 7]);
        dp.sequence(16, &JTAG_TO_SWD.to_le_bytes());
        dp.sequence(51, &[0xFF; 7]);
        dp.sequence(2, &[0]);
    }

    fn dp_read(dp: &mut DebugPort, bus: &mut Ram, a: u8) -> Transfer {
        dp.transfer(bus, false, true, a, 0)
    }

    fn power_up(dp: &mut DebugPort, bus: &mut Ram) {
        assert_eq!(dp_read(dp, bus, 0).data, ID.dpidr);
        dp.transfer(bus, false, false, 0x4, CDBGPWRUPREQ | CSYSPWRUPREQ);
    }

    #[test]
    fn it_answers_only_after_the_switch_to_swd_and_then_a_dpidr_read_first() {
        let (mut dp, mut bus) = (DebugPort::new(ID), ram());
        assert_eq!(
            dp_read(&mut dp, &mut bus, 0).ack,
            Ack::NoResponse,
            "in JTAG"
        );
        connect(&mut dp);
        assert_eq!(dp.mode(), LineMode::SwdReset);
        assert_eq!(
            dp_read(&mut dp, &mut bus, 4).ack,
            Ack::NoResponse,
            "CTRL/STAT before DPIDR"
        );
        assert_eq!(dp_read(&mut dp, &mut bus, 0), Transfer::ok(ID.dpidr));
        assert_eq!(dp_read(&mut dp, &mut bus, 4).ack, Ack::Ok);
    }

    #[test]
    fn the_dormant_wake_up_selects_swd_too() {
        let (mut dp, mut bus) = (DebugPort::new(ID), ram());
        connect(&mut dp);
        dp.sequence(51, &[0xFF; 7]);
        dp.sequence(16, &SWD_TO_DORMANT.to_le_bytes());
        assert_eq!(dp.mode(), LineMode::Dormant);
        dp.sequence(8, &[0xFF]);
        dp.sequence(128, &SELECTION_ALERT);
        dp.sequence(4, &[0]);
        dp.sequence(8, &[SWD_ACTIVATION]);
        dp.sequence(51, &[0xFF; 7]);
        assert_eq!(dp_read(&mut dp, &mut bus, 0), Transfer::ok(ID.dpidr));
    }

    #[test]
    fn power_up_acks_follow_the_requests_unless_the_domain_stays_down() {
        let (mut dp, mut bus) = (DebugPort::new(ID), ram());
        connect(&mut dp);
        power_up(&mut dp, &mut bus);
        let ctrl = dp_read(&mut dp, &mut bus, 4).data;
        assert_eq!(
            ctrl & (CDBGPWRUPACK | CSYSPWRUPACK),
            CDBGPWRUPACK | CSYSPWRUPACK
        );

        let (mut dp, mut bus) = (
            DebugPort::new(ID),
            Ram {
                powered: false,
                ..ram()
            },
        );
        connect(&mut dp);
        power_up(&mut dp, &mut bus);
        assert_eq!(dp_read(&mut dp, &mut bus, 4).data & CDBGPWRUPACK, 0);
        // An AP access without the domain: a sticky error, then FAULT until ABORT clears it.
        dp.transfer(&mut bus, true, true, 0xC, 0);
        assert_eq!(dp.transfer(&mut bus, true, true, 0xC, 0).ack, Ack::Fault);
        assert_ne!(dp_read(&mut dp, &mut bus, 4).data & STICKYERR, 0);
        dp.transfer(&mut bus, false, false, 0x0, STKERRCLR);
        assert_eq!(dp_read(&mut dp, &mut bus, 4).data & STICKYERR, 0);
    }

    #[test]
    fn ap_reads_are_posted_and_drw_increments_tar() {
        let (mut dp, mut bus) = (DebugPort::new(ID), ram());
        connect(&mut dp);
        power_up(&mut dp, &mut bus);
        dp.transfer(&mut bus, true, false, 0x0, 0x2300_0012); // CSW: word, single increment
        dp.transfer(&mut bus, true, false, 0x4, 0x2000_0008); // TAR
        dp.transfer(&mut bus, true, true, 0xC, 0); // posted: returns the previous read
        let second = dp.transfer(&mut bus, true, true, 0xC, 0);
        assert_eq!(
            second.data, 0x1000_0002,
            "the first DRW read's data comes with the second"
        );
        assert_eq!(
            dp_read(&mut dp, &mut bus, 0xC).data,
            0x1000_0003,
            "RDBUFF: the last one"
        );
        dp.transfer(&mut bus, true, true, 0x4, 0);
        assert_eq!(
            dp_read(&mut dp, &mut bus, 0xC).data,
            0x2000_0010,
            "TAR went up by two words"
        );
    }

    #[test]
    fn a_bus_fault_sets_stickyerr_and_later_ap_accesses_fault() {
        let (mut dp, mut bus) = (DebugPort::new(ID), ram());
        connect(&mut dp);
        power_up(&mut dp, &mut bus);
        dp.transfer(&mut bus, true, false, 0x4, 0x4000_0000);
        assert_eq!(dp.transfer(&mut bus, true, true, 0xC, 0).ack, Ack::Ok);
        assert_eq!(dp.transfer(&mut bus, true, true, 0x0, 0).ack, Ack::Fault);
        assert_eq!(
            dp.transfer(&mut bus, false, false, 0x8, 0).ack,
            Ack::Fault,
            "SELECT too"
        );
        assert_eq!(
            dp_read(&mut dp, &mut bus, 0).ack,
            Ack::Ok,
            "DPIDR still answers"
        );
    }

    #[test]
    fn the_ap_identifies_itself_and_other_aps_read_zero() {
        let (mut dp, mut bus) = (DebugPort::new(ID), ram());
        connect(&mut dp);
        power_up(&mut dp, &mut bus);
        dp.transfer(&mut bus, false, false, 0x8, 0xF0); // APBANKSEL 0xF
        dp.transfer(&mut bus, true, true, 0xC, 0);
        assert_eq!(dp_read(&mut dp, &mut bus, 0xC).data, ID.ap_idr);
        dp.transfer(&mut bus, true, true, 0x8, 0);
        assert_eq!(dp_read(&mut dp, &mut bus, 0xC).data, ID.ap_base);
        dp.transfer(&mut bus, false, false, 0x8, 0x0100_00F0); // AP 1
        dp.transfer(&mut bus, true, true, 0xC, 0);
        assert_eq!(dp_read(&mut dp, &mut bus, 0xC).data, 0);
    }

    #[test]
    fn byte_writes_merge_into_their_lane() {
        let (mut dp, mut bus) = (DebugPort::new(ID), ram());
        connect(&mut dp);
        power_up(&mut dp, &mut bus);
        dp.transfer(&mut bus, true, false, 0x0, 0x2300_0000); // CSW: byte, no increment
        dp.transfer(&mut bus, true, false, 0x4, 0x2000_0001);
        dp.transfer(&mut bus, true, false, 0xC, 0x0000_AB00);
        assert_eq!(bus.words[0], 0x1000_AB00);
    }
}
