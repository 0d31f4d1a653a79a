//! A virtual CMSIS-DAP v2 debug probe: the command layer a probe's firmware runs, from ARM's CMSIS-DAP
//! specification (v2.1), driving a [`Target`] — the virtual board's SWD port ([`vboard::swd::DebugPort`]) and its
//! NRST pin. Sans-io: a request packet in, a response packet out, as the probe's bulk OUT and IN endpoints carry
//! them.
//!
//! Our own rather than probe-rs's device-side crate `dap-rs`: its released version (0.2.0) puts the value-mismatch
//! flag in the transfer count, resets the match mask on every DAP_Transfer, counts the failed transfer, stubs
//! DAP_ResetTarget and DAP_ExecuteCommands, and panics on a short request — and the packets here come straight
//! from a guest, so a short one must be answered, not crash the server. Its later fixes are unreleased, and a git
//! dependency cannot be fetched here. The subset a probe needs for SWD is small.

use vboard::swd::{Ack, Transfer};

pub mod usb;

/// What the probe drives: the target's SWD line and transfers, and its reset pin.
pub trait Target {
    /// Clock `count` bits of `data`, LSB first, on SWDIO (DAP_SWJ_Sequence).
    fn sequence(&mut self, count: usize, data: &[u8]);
    /// One SWD transfer (APnDP, RnW, A[3:2] as a byte offset, data for a write).
    fn transfer(&mut self, ap: bool, read: bool, a: u8, data: u32) -> Transfer;
    /// Drive NRST: `low` true holds the chip in reset.
    fn set_reset(&mut self, low: bool);
    /// Whether NRST reads low.
    fn reset_low(&self) -> bool;
    /// Let `us` microseconds pass (DAP_Delay, the wait of DAP_SWJ_Pins, a reset pulse).
    fn delay_us(&mut self, us: u32);
}

/// The probe wired to a board: its SWD port and NRST, at the board's time `now`. NRST held low keeps the chip
/// in reset; its release is a new boot (a pin reset). A board that lost power takes its debug port back to
/// power-on state (JTAG), so a debugger must connect again.
pub struct BoardTarget<'a> {
    pub board: &'a mut vboard::Board,
    pub port: &'a mut vboard::swd::DebugPort,
    pub now: std::time::Duration,
    /// Whether the probe holds NRST low (kept by the caller between commands).
    pub reset_held: &'a mut bool,
    /// The board's power-on count when the port was last used (kept by the caller): a power cycle since resets
    /// the debug logic.
    pub power_ons: &'a mut u64,
}

impl BoardTarget<'_> {
    fn power_cycled(&mut self) {
        let now = self.board.stats().power_ons;
        if now != *self.power_ons {
            *self.power_ons = now;
            self.port.power_on_reset();
        }
    }
}

impl Target for BoardTarget<'_> {
    fn sequence(&mut self, count: usize, data: &[u8]) {
        self.power_cycled();
        self.port.sequence(count, data);
    }
    fn transfer(&mut self, ap: bool, read: bool, a: u8, data: u32) -> Transfer {
        self.power_cycled();
        if self.board.mode() == vboard::RunMode::Off {
            self.port.power_on_reset();
            return Transfer {
                ack: Ack::NoResponse,
                data: 0,
            };
        }
        let mut bus = vboard::swd::BoardBus {
            board: self.board,
            now: self.now,
        };
        self.port.transfer(&mut bus, ap, read, a, data)
    }
    fn set_reset(&mut self, low: bool) {
        self.board.set_nrst(self.now, low);
        *self.reset_held = low;
    }
    fn reset_low(&self) -> bool {
        *self.reset_held
    }
    fn delay_us(&mut self, us: u32) {
        self.now += std::time::Duration::from_micros(u64::from(us));
    }
}

/// What DAP_Info reports about the probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeInfo {
    pub vendor: String,
    pub product: String,
    pub serial: String,
    pub firmware_version: String,
    pub target_vendor: String,
    pub target_name: String,
    /// The largest command or response: the bulk endpoints' wMaxPacketSize, so that no response needs a
    /// zero-length packet after it.
    pub packet_size: u16,
}

/// CMSIS-DAP command IDs (CMSIS-DAP v2.1, "Commands").
mod cmd {
    pub const INFO: u8 = 0x00;
    pub const HOST_STATUS: u8 = 0x01;
    pub const CONNECT: u8 = 0x02;
    pub const DISCONNECT: u8 = 0x03;
    pub const TRANSFER_CONFIGURE: u8 = 0x04;
    pub const TRANSFER: u8 = 0x05;
    pub const TRANSFER_BLOCK: u8 = 0x06;
    pub const TRANSFER_ABORT: u8 = 0x07;
    pub const WRITE_ABORT: u8 = 0x08;
    pub const DELAY: u8 = 0x09;
    pub const RESET_TARGET: u8 = 0x0A;
    pub const SWJ_PINS: u8 = 0x10;
    pub const SWJ_CLOCK: u8 = 0x11;
    pub const SWJ_SEQUENCE: u8 = 0x12;
    pub const SWD_CONFIGURE: u8 = 0x13;
    pub const SWD_SEQUENCE: u8 = 0x1D;
    pub const EXECUTE_COMMANDS: u8 = 0x7F;
    pub const INVALID: u8 = 0xFF;
}

const DAP_OK: u8 = 0x00;
const DAP_ERROR: u8 = 0xFF;
/// DAP_SWJ_Pins bit of nRESET.
const PIN_NRESET: u8 = 1 << 7;
/// The DP registers the command layer itself reads and writes.
const DP_ABORT: u8 = 0x0;
const DP_RDBUFF: u8 = 0xC;

/// The protocol version DAP_Info ID 0x04 reports.
pub const PROTOCOL_VERSION: &str = "2.1.0";

/// The probe's state between commands.
pub struct Dap {
    info: ProbeInfo,
    connected: bool,
    clock_hz: u32,
    idle_cycles: u8,
    wait_retry: u16,
    match_retry: u16,
    match_mask: u32,
    /// Last DAP_HostStatus: (connected LED, running LED).
    pub leds: (bool, bool),
    /// SWD transfers made on the target so far (WAIT retries included): what an operation costs on the wire.
    pub transfers: u64,
}

/// A request that ended before its fields did.
struct Short;

/// Reads a request's fields.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn u8(&mut self) -> Result<u8, Short> {
        let (&b, rest) = self.0.split_first().ok_or(Short)?;
        self.0 = rest;
        Ok(b)
    }
    fn u16(&mut self) -> Result<u16, Short> {
        Ok(u16::from_le_bytes([self.u8()?, self.u8()?]))
    }
    fn u32(&mut self) -> Result<u32, Short> {
        Ok(u32::from_le_bytes([
            self.u8()?,
            self.u8()?,
            self.u8()?,
            self.u8()?,
        ]))
    }
    fn bytes(&mut self, n: usize) -> Result<&[u8], Short> {
        if self.0.len() < n {
            return Err(Short);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
}

/// The response byte of DAP_Transfer and DAP_TransferBlock: the last ACK, protocol error and value mismatch.
fn ack_bits(ack: Ack) -> u8 {
    match ack {
        Ack::Ok => 1,
        Ack::Wait => 2,
        Ack::Fault => 4,
        Ack::NoResponse => 7,
    }
}
const VALUE_MISMATCH: u8 = 1 << 4;
const ACK_OK: u8 = 1;

impl Dap {
    pub fn new(info: ProbeInfo) -> Self {
        Self {
            info,
            connected: false,
            clock_hz: 1_000_000,
            idle_cycles: 0,
            wait_retry: 100,
            match_retry: 0,
            match_mask: 0xFFFF_FFFF,
            leds: (false, false),
            transfers: 0,
        }
    }

    pub fn info(&self) -> &ProbeInfo {
        &self.info
    }

    /// The SWD clock the host asked for (DAP_SWJ_Clock).
    pub fn clock_hz(&self) -> u32 {
        self.clock_hz
    }

    /// Whether DAP_Connect selected SWD and no DAP_Disconnect followed.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// Execute one command packet; returns the response packet (never longer than the packet size).
    pub fn process(&mut self, target: &mut dyn Target, request: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        // A command is at most one packet; anything beyond it is not part of it.
        let request = &request[..request.len().min(usize::from(self.info.packet_size))];
        self.command(target, request, &mut out);
        out.truncate(usize::from(self.info.packet_size));
        out
    }

    /// One command at the start of `request`, its response appended to `out`; returns the bytes it used.
    fn command(&mut self, target: &mut dyn Target, request: &[u8], out: &mut Vec<u8>) -> usize {
        let Some((&id, body)) = request.split_first() else {
            out.push(cmd::INVALID);
            return 0;
        };
        let mut f = Fields(body);
        let start = out.len();
        out.push(id);
        let result = match id {
            cmd::INFO => self.dap_info(&mut f, out),
            cmd::HOST_STATUS => f.u8().and_then(|kind| {
                let on = f.u8()? != 0;
                match kind {
                    0 => self.leds.0 = on,
                    _ => self.leds.1 = on,
                }
                out.push(DAP_OK);
                Ok(())
            }),
            cmd::CONNECT => f.u8().map(|port| {
                // 0 = default (SWD here), 1 = SWD; JTAG (2) is not offered.
                self.connected = port <= 1;
                out.push(if self.connected { 1 } else { 0 });
            }),
            cmd::DISCONNECT => {
                self.connected = false;
                out.push(DAP_OK);
                Ok(())
            }
            cmd::TRANSFER_CONFIGURE => f.u8().and_then(|idle| {
                self.idle_cycles = idle;
                self.wait_retry = f.u16()?;
                self.match_retry = f.u16()?;
                out.push(DAP_OK);
                Ok(())
            }),
            cmd::TRANSFER => self.dap_transfer(target, &mut f, out),
            cmd::TRANSFER_BLOCK => self.dap_transfer_block(target, &mut f, out),
            cmd::TRANSFER_ABORT => {
                // Transfers run to completion within one command here: nothing is in flight to abort, and the
                // command has no response.
                out.truncate(start);
                return 1;
            }
            cmd::WRITE_ABORT => f.u8().and_then(|_index| {
                let value = f.u32()?;
                let t = self.retried(target, false, false, DP_ABORT, value);
                out.push(if t.ack == Ack::Ok { DAP_OK } else { DAP_ERROR });
                Ok(())
            }),
            cmd::DELAY => f.u16().map(|us| {
                target.delay_us(u32::from(us));
                out.push(DAP_OK);
            }),
            cmd::RESET_TARGET => {
                // The device-specific reset sequence is a pulse on NRST.
                target.set_reset(true);
                target.delay_us(1_000);
                target.set_reset(false);
                out.extend([DAP_OK, 1]);
                Ok(())
            }
            cmd::SWJ_PINS => f.u8().and_then(|output| {
                let select = f.u8()?;
                let wait = f.u32()?;
                if select & PIN_NRESET != 0 {
                    target.set_reset(output & PIN_NRESET == 0);
                }
                target.delay_us(wait.min(3_000_000));
                // SWCLK, SWDIO, TDI, TDO read high; nRESET as it is.
                let nreset = if target.reset_low() { 0 } else { PIN_NRESET };
                out.push(0b1111 | nreset);
                Ok(())
            }),
            cmd::SWJ_CLOCK => f.u32().map(|hz| {
                let ok = hz > 0;
                if ok {
                    self.clock_hz = hz;
                }
                out.push(if ok { DAP_OK } else { DAP_ERROR });
            }),
            cmd::SWJ_SEQUENCE => f.u8().and_then(|n| {
                let bits = if n == 0 { 256 } else { usize::from(n) };
                let data = f.bytes(bits.div_ceil(8))?;
                target.sequence(bits, data);
                out.push(DAP_OK);
                Ok(())
            }),
            cmd::SWD_CONFIGURE => f.u8().map(|config| {
                // Turnaround of one cycle and no data phase on WAIT/FAULT: the only configuration modelled.
                out.push(if config == 0 { DAP_OK } else { DAP_ERROR });
            }),
            cmd::SWD_SEQUENCE => self.swd_sequence(target, &mut f, out),
            cmd::EXECUTE_COMMANDS => self.execute(target, &mut f, out),
            _ => {
                out.truncate(start);
                out.push(cmd::INVALID);
                return request.len();
            }
        };
        if result.is_err() {
            // A request shorter than its command: answered with an error status instead of read past its end.
            out.truncate(start + 1);
            out.push(DAP_ERROR);
            return request.len();
        }
        request.len() - f.0.len()
    }

    fn dap_info(&mut self, f: &mut Fields<'_>, out: &mut Vec<u8>) -> Result<(), Short> {
        let id = f.u8()?;
        let text = |out: &mut Vec<u8>, s: &str| {
            // A string with its terminating NUL, its length first; an empty string is reported as absent.
            if s.is_empty() {
                out.push(0);
            } else {
                let bytes = s.as_bytes();
                let n = bytes.len().min(usize::from(self.info.packet_size) - 3);
                out.push((n + 1) as u8);
                out.extend_from_slice(&bytes[..n]);
                out.push(0);
            }
        };
        match id {
            0x01 => text(out, &self.info.vendor),
            0x02 => text(out, &self.info.product),
            0x03 => text(out, &self.info.serial),
            0x04 => text(out, PROTOCOL_VERSION),
            0x05 => text(out, &self.info.target_vendor),
            0x06 => text(out, &self.info.target_name),
            0x07 | 0x08 => out.push(0),
            0x09 => text(out, &self.info.firmware_version),
            // Capabilities: SWD only (no JTAG, SWO, UART, timer, atomic commands).
            0xF0 => out.extend([1, 0b0000_0001]),
            // Packet count and size.
            0xFE => out.extend([1, 1]),
            0xFF => {
                out.push(2);
                out.extend(self.info.packet_size.to_le_bytes());
            }
            _ => out.push(0),
        }
        Ok(())
    }

    /// A transfer retried on WAIT up to the configured count.
    fn retried(
        &mut self,
        target: &mut dyn Target,
        ap: bool,
        read: bool,
        a: u8,
        data: u32,
    ) -> Transfer {
        let mut t = target.transfer(ap, read, a, data);
        self.transfers += 1;
        let mut left = self.wait_retry;
        while t.ack == Ack::Wait && left > 0 {
            left -= 1;
            t = target.transfer(ap, read, a, data);
            self.transfers += 1;
        }
        t
    }

    /// A read of one register with its data: an AP read is posted, so its value comes from RDBUFF.
    fn read_value(&mut self, target: &mut dyn Target, ap: bool, a: u8) -> Transfer {
        let t = self.retried(target, ap, true, a, 0);
        if !ap || t.ack != Ack::Ok {
            return t;
        }
        self.retried(target, false, true, DP_RDBUFF, 0)
    }

    fn dap_transfer(
        &mut self,
        target: &mut dyn Target,
        f: &mut Fields<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), Short> {
        let _index = f.u8()?;
        let count = f.u8()?;
        let head = out.len();
        out.extend([0, 0]);
        let mut done = 0u8;
        let mut status = ACK_OK;
        // An AP read whose data is still in the target (posted): it comes with the next AP read or RDBUFF.
        let mut posted = false;
        for _ in 0..count {
            let request = f.u8()?;
            let ap = request & 1 != 0;
            let read = request & 2 != 0;
            let a = request & 0xC;
            // Value match applies to reads, match mask to writes (CMSIS-DAP DAP_Transfer request bits 4 and 5).
            let value_match = read && request & 0x10 != 0;
            let mask_write = !read && request & 0x20 != 0;
            let data = if !read || value_match { f.u32()? } else { 0 };
            if status != ACK_OK {
                continue; // after a failure the rest of the request is read but not executed
            }
            if mask_write {
                self.match_mask = data;
                done += 1;
                continue;
            }
            if read && ap && !value_match {
                let t = self.retried(target, true, true, a, 0);
                if t.ack != Ack::Ok {
                    status = ack_bits(t.ack);
                    continue;
                }
                if posted {
                    out.extend(t.data.to_le_bytes());
                    done += 1;
                }
                posted = true;
                continue;
            }
            if posted {
                // A DP access or a write: first collect the posted AP read's data.
                let t = self.retried(target, false, true, DP_RDBUFF, 0);
                posted = false;
                if t.ack != Ack::Ok {
                    status = ack_bits(t.ack);
                    continue;
                }
                out.extend(t.data.to_le_bytes());
                done += 1;
            }
            if value_match {
                let mut left = self.match_retry;
                let t = loop {
                    let t = self.read_value(target, ap, a);
                    if t.ack != Ack::Ok || t.data & self.match_mask == data || left == 0 {
                        break t;
                    }
                    left -= 1;
                };
                if t.ack != Ack::Ok {
                    status = ack_bits(t.ack);
                    continue;
                }
                if t.data & self.match_mask != data {
                    status = ACK_OK | VALUE_MISMATCH;
                    continue;
                }
                done += 1;
                continue;
            }
            let t = self.retried(target, ap, read, a, data);
            if t.ack != Ack::Ok {
                status = ack_bits(t.ack);
                continue;
            }
            if read {
                out.extend(t.data.to_le_bytes());
            }
            done += 1;
        }
        if posted && status == ACK_OK {
            let t = self.retried(target, false, true, DP_RDBUFF, 0);
            if t.ack == Ack::Ok {
                out.extend(t.data.to_le_bytes());
                done += 1;
            } else {
                // The last AP read's data never arrived: it does not count as done.
                status = ack_bits(t.ack);
            }
        }
        out[head] = done;
        out[head + 1] = status;
        Ok(())
    }

    fn dap_transfer_block(
        &mut self,
        target: &mut dyn Target,
        f: &mut Fields<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), Short> {
        let _index = f.u8()?;
        let count = f.u16()?;
        let request = f.u8()?;
        let (ap, read, a) = (request & 1 != 0, request & 2 != 0, request & 0xC);
        let head = out.len();
        out.extend([0, 0, 0]);
        // Reads: no more words than fit in the response (a host asks for no more; the count says what was done).
        let room = (usize::from(self.info.packet_size).saturating_sub(4)) / 4;
        let count = if read {
            count.min(u16::try_from(room).unwrap_or(u16::MAX))
        } else {
            count
        };
        let mut done: u16 = 0;
        let mut status = ACK_OK;
        if read && ap && count > 0 {
            // Pipelined: the first AP read only starts; each next one returns the previous; RDBUFF the last.
            let t = self.retried(target, true, true, a, 0);
            if t.ack != Ack::Ok {
                status = ack_bits(t.ack);
            } else {
                for i in 1..=count {
                    let t = if i == count {
                        self.retried(target, false, true, DP_RDBUFF, 0)
                    } else {
                        self.retried(target, true, true, a, 0)
                    };
                    if t.ack != Ack::Ok {
                        status = ack_bits(t.ack);
                        break;
                    }
                    out.extend(t.data.to_le_bytes());
                    done += 1;
                }
            }
        } else {
            for _ in 0..count {
                let data = if read { 0 } else { f.u32()? };
                let t = self.retried(target, ap, read, a, data);
                if t.ack != Ack::Ok {
                    status = ack_bits(t.ack);
                    break;
                }
                if read {
                    out.extend(t.data.to_le_bytes());
                }
                done += 1;
            }
        }
        out[head..head + 2].copy_from_slice(&done.to_le_bytes());
        out[head + 2] = status;
        Ok(())
    }

    /// DAP_SWD_Sequence: output sequences are clocked into the target; input sequences read SWDIO high (nothing
    /// here drives the line outside a transfer).
    fn swd_sequence(
        &mut self,
        target: &mut dyn Target,
        f: &mut Fields<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), Short> {
        let count = f.u8()?;
        out.push(DAP_OK);
        for _ in 0..count {
            let info = f.u8()?;
            let bits = match info & 0x3F {
                0 => 64,
                n => usize::from(n),
            };
            let bytes = bits.div_ceil(8);
            if info & 0x80 != 0 {
                out.extend(std::iter::repeat_n(0xFF, bytes));
            } else {
                let data = f.bytes(bytes)?;
                target.sequence(bits, data);
            }
        }
        Ok(())
    }

    /// DAP_ExecuteCommands: several commands in one packet, their responses in one.
    fn execute(
        &mut self,
        target: &mut dyn Target,
        f: &mut Fields<'_>,
        out: &mut Vec<u8>,
    ) -> Result<(), Short> {
        let count = f.u8()?;
        out.push(count);
        for _ in 0..count {
            if f.0.is_empty() {
                return Err(Short);
            }
            // Commands inside DAP_ExecuteCommands may not be DAP_ExecuteCommands themselves.
            if f.0[0] == cmd::EXECUTE_COMMANDS {
                out.push(cmd::INVALID);
                f.0 = &[];
                continue;
            }
            let used = self.command(target, f.0, out);
            f.0 = &f.0[used.min(f.0.len())..];
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
