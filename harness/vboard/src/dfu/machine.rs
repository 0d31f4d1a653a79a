//! DFU class requests on the DFU interface, one at a time, as AN3156 §4–5 describes the ROM. Transitions not
//! written in AN3156 follow ST's application DFU class (MW) and are marked [I]: CLRSTATUS outside dfuERROR →
//! dfuERROR/errUNKNOWN, ABORT semantics, Get Commands leaving dfuIDLE for wLength > 3, bwPollTimeout for
//! dfuMANIFEST.

use super::answer::{After, Answer, Ctx};
use super::exec::{self, Pending};
use super::state::{status_payload, DfuState, DfuStatus};
use super::{CMD_ERASE, CMD_READ_UNPROTECT, CMD_SET_ADDRESS_POINTER, DEFAULT_POINTER};
use crate::memory::Region;
use crate::setup::*;
use crate::stats::Rule;

/// DFU state of one bootloader run (a new one at every boot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dfu {
    pub state: DfuState,
    pub status: DfuStatus,
    /// The Address Pointer for block addressing.
    pub pointer: u32,
    /// Where leave jumps: last Set Address Pointer or last write address [C] AN3156 §5.5.
    pub leave_address: u32,
    pending: Option<Pending>,
    /// The state dfuDNBUSY settles to once the operation is done.
    result: Option<(DfuState, DfuStatus)>,
}

impl Default for Dfu {
    fn default() -> Self {
        Dfu {
            state: DfuState::DfuIdle,
            status: DfuStatus::Ok,
            pointer: DEFAULT_POINTER,
            leave_address: DEFAULT_POINTER,
            pending: None,
            result: None,
        }
    }
}

impl Dfu {
    /// Handles one class request to interface 0.
    pub fn request(&mut self, setup: &Setup, data: &[u8], ctx: &mut Ctx) -> Answer {
        if self.state == DfuState::DnBusy {
            // Requests wait until the flash work is done (the board delays them); then DFU 1.1 says dfuDNBUSY
            // moves on to dfuDNLOAD-SYNC, where the next GETSTATUS reports the result.
            self.state = DfuState::DnloadSync;
        }
        if setup.index != 0 {
            return Answer::stall();
        }
        match (setup.request_type, setup.request) {
            (0x21, DFU_DNLOAD) => self.dnload(setup, data, ctx),
            (0xA1, DFU_UPLOAD) => self.upload(setup, ctx),
            (0xA1, DFU_GETSTATUS) => self.get_status(ctx),
            (0x21, DFU_CLRSTATUS) => self.clear_status(),
            (0xA1, DFU_GETSTATE) => Answer::ok(vec![self.state as u8]),
            (0x21, DFU_ABORT) => self.abort(),
            (0x21, DFU_DETACH) => Answer::ok(vec![]), // meaningless for the ROM [C] AN3156: accepted, ignored [I]
            _ => self.error_stall(DfuStatus::ErrStalledPkt),
        }
    }

    fn dnload(&mut self, setup: &Setup, data: &[u8], ctx: &mut Ctx) -> Answer {
        if !matches!(self.state, DfuState::DfuIdle | DfuState::DnloadIdle) {
            return self.wrong_state("DFU_DNLOAD", ctx);
        }
        if setup.length == 0 {
            self.state = DfuState::ManifestSync;
            return Answer::ok(vec![]);
        }
        let transfer_size = ctx.config.descriptors.transfer_size;
        if setup.length > transfer_size {
            ctx.violation(
                Rule::LengthMismatch,
                format!("DFU_DNLOAD wLength {} > wTransferSize", setup.length),
            );
            return self.error_stall(DfuStatus::ErrStalledPkt);
        }
        let pending = match setup.value {
            0 => parse_command(data),
            1 => None,
            block => Some(self.write_block(block, setup.length, data, ctx)),
        };
        match pending {
            Some(p) => {
                self.pending = Some(p);
                self.state = DfuState::DnloadSync;
                Answer::ok(vec![])
            }
            None => {
                ctx.violation(
                    Rule::UnsupportedCommand,
                    format!("DFU_DNLOAD wValue {} data {data:02X?}", setup.value),
                );
                self.error_stall(DfuStatus::ErrStalledPkt)
            }
        }
    }

    fn write_block(&self, block: u16, length: u16, data: &[u8], ctx: &mut Ctx) -> Pending {
        let addr = self.block_address(block, length, "DFU_DNLOAD", ctx);
        Pending::Write {
            addr,
            data: data.to_vec(),
        }
    }

    /// `((wBlockNum − 2) × wTransferSize) + Address_Pointer` [C] AN3156, multiplier = descriptor wTransferSize
    /// [I]; wLength ≠ wTransferSize beyond block 2 is flagged as unverified but acted on.
    fn block_address(&self, block: u16, length: u16, request: &str, ctx: &mut Ctx) -> u64 {
        let size = ctx.config.descriptors.transfer_size;
        if block > 2 && length != size {
            let detail = format!(
                "{request} wBlockNum {block} with wLength {length} != wTransferSize {size}"
            );
            ctx.violation(Rule::TransferSizeUnverified, detail);
        }
        u64::from(block - 2) * u64::from(size) + u64::from(self.pointer)
    }

    fn upload(&mut self, setup: &Setup, ctx: &mut Ctx) -> Answer {
        if !matches!(self.state, DfuState::DfuIdle | DfuState::UploadIdle) {
            return self.wrong_state("DFU_UPLOAD", ctx);
        }
        if setup.length > ctx.config.descriptors.transfer_size {
            ctx.violation(
                Rule::LengthMismatch,
                format!("DFU_UPLOAD wLength {} > wTransferSize", setup.length),
            );
            return self.error_stall(DfuStatus::ErrStalledPkt);
        }
        match setup.value {
            0 => self.get_commands(setup.length, ctx),
            1 => {
                ctx.violation(
                    Rule::UnsupportedCommand,
                    "DFU_UPLOAD wValue 1 (reserved)".into(),
                );
                self.error_stall(DfuStatus::ErrStalledPkt)
            }
            block => {
                let addr = self.block_address(block, setup.length, "DFU_UPLOAD", ctx);
                self.read(addr, usize::from(setup.length), ctx)
            }
        }
    }

    fn get_commands(&mut self, length: u16, ctx: &mut Ctx) -> Answer {
        // [I] MW: wLength > 3 returns to dfuIDLE, otherwise dfuUPLOAD-IDLE.
        self.state = if length > 3 {
            DfuState::DfuIdle
        } else {
            DfuState::UploadIdle
        };
        Answer::ok(ctx.config.bootloader.get_commands.clone())
    }

    fn read(&mut self, addr: u64, len: usize, ctx: &mut Ctx) -> Answer {
        let Ok(addr) = u32::try_from(addr) else {
            return self.error_stall(DfuStatus::ErrTarget);
        };
        let region = Region::of(addr, len);
        if matches!(region, Some(Region::Flash | Region::Otp))
            && ctx.memory.option_bytes.read_protected()
        {
            return self.error_stall(DfuStatus::ErrVendor);
        }
        match region.and_then(|_| ctx.memory.read(addr, len)) {
            Some(bytes) => {
                self.state = DfuState::UploadIdle;
                Answer::ok(bytes)
            }
            None => self.error_stall(DfuStatus::ErrTarget),
        }
    }

    fn get_status(&mut self, ctx: &mut Ctx) -> Answer {
        match self.state {
            DfuState::DnloadSync => match self.pending.take() {
                Some(pending) => self.execute(pending, ctx),
                None => {
                    (self.state, self.status) = self
                        .result
                        .take()
                        .unwrap_or((DfuState::DnloadIdle, DfuStatus::Ok));
                    self.status_answer(0)
                }
            },
            DfuState::ManifestSync => {
                self.state = DfuState::Manifest;
                let poll = ctx.config.bootloader.manifest_poll_ms;
                Answer {
                    after: After::Manifest,
                    ..self.status_answer(poll)
                }
            }
            _ => self.status_answer(0),
        }
    }

    /// The first GETSTATUS after a DNLOAD: run the operation, answer dfuDNBUSY with its duration.
    fn execute(&mut self, pending: Pending, ctx: &mut Ctx) -> Answer {
        let done = exec::execute(pending, self, ctx);
        self.result = Some(done.result);
        self.state = DfuState::DnBusy;
        self.status = DfuStatus::Ok;
        Answer {
            busy_ms: done.busy_ms,
            after: done.after,
            ..self.status_answer(done.busy_ms)
        }
    }

    fn status_answer(&self, poll_timeout_ms: u32) -> Answer {
        Answer::ok(status_payload(self.status, poll_timeout_ms, self.state))
    }

    fn clear_status(&mut self) -> Answer {
        if self.state == DfuState::DfuError {
            (self.state, self.status) = (DfuState::DfuIdle, DfuStatus::Ok);
        } else {
            (self.state, self.status) = (DfuState::DfuError, DfuStatus::ErrUnknown);
            // [I] MW
        }
        Answer::ok(vec![])
    }

    fn abort(&mut self) -> Answer {
        use DfuState::*;
        if matches!(
            self.state,
            DfuIdle | DnloadSync | DnloadIdle | ManifestSync | UploadIdle
        ) {
            (self.state, self.status) = (DfuIdle, DfuStatus::Ok); // [I] MW
            self.pending = None;
            self.result = None;
        }
        Answer::ok(vec![])
    }

    fn wrong_state(&mut self, request: &str, ctx: &mut Ctx) -> Answer {
        ctx.violation(Rule::WrongState, format!("{request} in {:?}", self.state));
        self.error_stall(DfuStatus::ErrStalledPkt)
    }

    fn error_stall(&mut self, status: DfuStatus) -> Answer {
        (self.state, self.status) = (DfuState::DfuError, status);
        self.pending = None;
        Answer::stall()
    }
}

/// Decodes a DfuSe command (DNLOAD wValue = 0) [C] AN3156 §5; None if unsupported or malformed.
fn parse_command(data: &[u8]) -> Option<Pending> {
    let address = |d: &[u8]| u32::from_le_bytes([d[1], d[2], d[3], d[4]]);
    match data {
        [CMD_SET_ADDRESS_POINTER, _, _, _, _] => Some(Pending::SetAddress(address(data))),
        [CMD_ERASE, _, _, _, _] => Some(Pending::Erase(address(data))),
        [CMD_ERASE] => Some(Pending::MassErase),
        [CMD_READ_UNPROTECT] => Some(Pending::ReadUnprotect),
        _ => None,
    }
}
