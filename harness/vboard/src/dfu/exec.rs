//! Executing a downloaded DfuSe command or data block on the first GETSTATUS [C] AN3156 §5.1–5.3: what it does
//! to memory, how long it takes (bwPollTimeout) and the state it ends in. Errors [C]: bad/unsupported address →
//! errTARGET, refused because of read protection → errVENDOR. Inferred [I]: errPROG for a write needing 0 → 1,
//! errWRITE for a locked OTP block, errTARGET for misaligned writes, errVENDOR for flash/OTP erase or write under
//! RDP level 1, OB/OTP/Device Feature not erasable (AN3156 Table 5 [C]) → errTARGET. Write protection (a
//! cleared nWRP bit): a sector erase answers OK [C] AN3156 and leaves the sector as it was [I]; a write or mass
//! erase touching a protected sector changes nothing and answers `bootloader.write_protected_status` [U].

use super::answer::{After, Ctx};
use super::machine::Dfu;
use super::state::{DfuState, DfuStatus};
use crate::memory::{
    Flash, ProgramError, Region, DEVICE_FEATURE_BASE, OB_BASE, OB_SIZE, RDP_LEVEL0, SECTORS,
};
use crate::stats::Rule;

/// A downloaded operation waiting for GETSTATUS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pending {
    SetAddress(u32),
    Erase(u32),
    MassErase,
    ReadUnprotect,
    /// Address as computed from the block number (may exceed 32 bits: then errTARGET).
    Write {
        addr: u64,
        data: Vec<u8>,
    },
}

/// The outcome of an operation.
pub(crate) struct Done {
    pub busy_ms: u32,
    pub result: (DfuState, DfuStatus),
    pub after: After,
}

impl Done {
    fn ok(busy_ms: u32) -> Done {
        Done {
            busy_ms,
            result: (DfuState::DnloadIdle, DfuStatus::Ok),
            after: After::Nothing,
        }
    }

    fn error(status: DfuStatus) -> Done {
        Done {
            busy_ms: 0,
            result: (DfuState::DfuError, status),
            after: After::Nothing,
        }
    }
}

pub(crate) fn execute(pending: Pending, dfu: &mut Dfu, ctx: &mut Ctx) -> Done {
    match pending {
        Pending::SetAddress(addr) => set_address(addr, dfu, ctx),
        Pending::Erase(addr) => erase(addr, ctx),
        Pending::MassErase => mass_erase(ctx),
        Pending::ReadUnprotect => read_unprotect(ctx),
        Pending::Write { addr, data } => match u32::try_from(addr) {
            Ok(addr) => write(addr, &data, dfu, ctx),
            Err(_) => Done::error(DfuStatus::ErrTarget),
        },
    }
}

/// Allowed even under read protection [C]; an address outside every region is errTARGET [I].
fn set_address(addr: u32, dfu: &mut Dfu, ctx: &mut Ctx) -> Done {
    if Region::of(addr, 1).is_none() {
        return Done::error(DfuStatus::ErrTarget);
    }
    dfu.pointer = addr;
    dfu.leave_address = addr;
    Done::ok(ctx.config.bootloader.set_address_poll_ms)
}

fn erase(addr: u32, ctx: &mut Ctx) -> Done {
    let Some(sector) = Flash::sector_of(addr) else {
        return Done::error(DfuStatus::ErrTarget);
    };
    if ctx.memory.option_bytes.read_protected() {
        return Done::error(DfuStatus::ErrVendor);
    }
    if !ctx.memory.option_bytes.write_protected(sector) {
        ctx.memory.flash.erase_sector(sector);
    }
    let t = &ctx.config.flash_timing;
    let ms = match SECTORS[sector].1 {
        0x8000 => t.erase_32k_ms,
        0x2_0000 => t.erase_128k_ms,
        _ => t.erase_256k_ms,
    };
    Done::ok(ms)
}

fn mass_erase(ctx: &mut Ctx) -> Done {
    if ctx.memory.option_bytes.read_protected() {
        return Done::error(DfuStatus::ErrVendor);
    }
    let ms = ctx.config.flash_timing.mass_erase_ms;
    if (0..SECTORS.len()).any(|s| ctx.memory.option_bytes.write_protected(s)) {
        return write_protected(ms, ctx);
    }
    ctx.memory.flash.mass_erase();
    Done::ok(ms)
}

/// RDP → level 0 with a full flash erase, then a system reset; no second GETSTATUS answer [C] AN3156.
fn read_unprotect(ctx: &mut Ctx) -> Done {
    ctx.memory.flash.mass_erase();
    ctx.memory.option_bytes.set_rdp(RDP_LEVEL0);
    let ms = ctx.config.flash_timing.mass_erase_ms;
    Done {
        after: After::Reset(ms),
        ..Done::ok(ms)
    }
}

fn write(addr: u32, data: &[u8], dfu: &mut Dfu, ctx: &mut Ctx) -> Done {
    let done = match Region::of(addr, data.len()) {
        None => Done::error(DfuStatus::ErrTarget),
        Some(Region::Flash) => write_flash(addr, data, ctx),
        Some(Region::OptionBytes) => write_option_bytes(addr, data, ctx),
        Some(Region::Otp) => write_otp(addr, data, ctx),
        Some(Region::DeviceFeature) => write_device_feature(addr, data, ctx),
    };
    if done.result.0 != DfuState::DfuError {
        dfu.leave_address = addr;
    }
    done
}

fn write_flash(addr: u32, data: &[u8], ctx: &mut Ctx) -> Done {
    if ctx.memory.option_bytes.read_protected() {
        return Done::error(DfuStatus::ErrVendor);
    }
    if !addr.is_multiple_of(ctx.config.bootloader.write_alignment) {
        return Done::error(DfuStatus::ErrTarget);
    }
    let ms = program_ms(data.len(), ctx);
    let last = addr.saturating_add((data.len().max(1) - 1) as u32);
    let sectors = Flash::sector_of(addr).zip(Flash::sector_of(last));
    if sectors.is_some_and(|(first, last)| {
        (first..=last).any(|s| ctx.memory.option_bytes.write_protected(s))
    }) {
        return write_protected(ms, ctx);
    }
    let result = ctx.memory.flash.program(addr, data);
    program_result(result, ms, ctx)
}

/// A write or mass erase refused by write protection: nothing changes; the status is the board file's guess.
fn write_protected(busy_ms: u32, ctx: &Ctx) -> Done {
    match DfuStatus::from_u8(ctx.config.bootloader.write_protected_status) {
        None | Some(DfuStatus::Ok) => Done::ok(busy_ms),
        Some(status) => Done::error(status),
    }
}

/// Only the whole block at its start address [C] AN3156; applied, then the chip resets [C] AN3156 §5.1.
fn write_option_bytes(addr: u32, data: &[u8], ctx: &mut Ctx) -> Done {
    let Ok(block) = <&[u8; OB_SIZE]>::try_from(data) else {
        return Done::error(DfuStatus::ErrTarget);
    };
    if addr != OB_BASE {
        return Done::error(DfuStatus::ErrTarget);
    }
    ctx.memory.option_bytes.write(block);
    let ms = ctx.config.flash_timing.option_bytes_ms;
    Done {
        after: After::Reset(ms),
        ..Done::ok(ms)
    }
}

fn write_otp(addr: u32, data: &[u8], ctx: &mut Ctx) -> Done {
    if ctx.memory.option_bytes.read_protected() {
        return Done::error(DfuStatus::ErrVendor);
    }
    let result = ctx.memory.otp.program(addr, data);
    program_result(result, program_ms(data.len(), ctx), ctx)
}

/// Byte 0 (voltage range) must be 0..=4; reserved bytes 1–3 keep their value [I].
fn write_device_feature(addr: u32, data: &[u8], ctx: &mut Ctx) -> Done {
    let offset = (addr - DEVICE_FEATURE_BASE) as usize;
    if offset == 0 && data.first().is_some_and(|&range| range > 4) {
        return Done::error(DfuStatus::ErrTarget);
    }
    if offset == 0 {
        if let Some(&range) = data.first() {
            ctx.memory.device_feature[0] = range;
        }
    }
    Done::ok(program_ms(data.len(), ctx))
}

fn program_result(result: Result<(), ProgramError>, busy_ms: u32, ctx: &mut Ctx) -> Done {
    match result {
        Ok(()) => Done::ok(busy_ms),
        Err(ProgramError::NotErased { addr }) => {
            ctx.violation(
                Rule::NotErased,
                format!("write needs a 0 -> 1 bit at {addr:#010X}: erase first"),
            );
            Done {
                busy_ms,
                ..Done::error(DfuStatus::ErrProg)
            }
        }
        Err(ProgramError::Locked { .. }) => Done::error(DfuStatus::ErrWrite),
    }
}

/// Byte-wide programming time, rounded up to whole ms (bwPollTimeout unit).
fn program_ms(len: usize, ctx: &Ctx) -> u32 {
    let ms = len as f64 * ctx.config.flash_timing.program_us_per_byte / 1000.0;
    ms.ceil().clamp(0.0, f64::from(crate::config::MAX_POLL_MS)) as u32
}
