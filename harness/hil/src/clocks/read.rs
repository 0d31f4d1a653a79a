//! Reading the registers a [`TargetDescription`] names through any `probe_rs::MemoryInterface`, into a
//! [`ClockSnapshot`] (raw words plus their decoding). Only 32-bit aligned reads are issued: the u16 flash
//! size and the u8 bootloader ID are taken out of their words, which every probe and the virtual board allow.

use probe_rs::MemoryInterface;
use serde::Serialize;

use super::decode::{FlashInterface, Identity, Rcc};
use super::options::OptionBytesRegs;
use super::{ClockError, TargetDescription};

/// The register words as read, for records and for re-decoding later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RawRegisters {
    pub rcc_cr: u32,
    pub rcc_pllcfgr: u32,
    pub rcc_cfgr: u32,
    pub rcc_csr: u32,
    pub rcc_dckcfgr2: u32,
    pub flash_acr: u32,
    pub flash_optcr: u32,
    pub flash_optcr1: u32,
    pub dbgmcu_idcode: u32,
    pub uid: [u32; 3],
    pub flash_size_kb: u16,
    pub bootloader_id: u8,
}

/// The target facts a snapshot is interpreted with (from its [`TargetDescription`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetFacts {
    /// Target description name, e.g. "stm32f7".
    pub name: String,
    pub expected_dev_id: u16,
    pub hsi_hz: u32,
    pub pll_input_hz: u32,
    pub usb_tolerance_ppm: f64,
}

impl TargetFacts {
    pub fn of(t: &TargetDescription) -> TargetFacts {
        TargetFacts {
            name: t.name.clone(),
            expected_dev_id: t.dev_id,
            hsi_hz: t.hsi_hz,
            pll_input_hz: t.bootloader.pll_input_hz,
            usb_tolerance_ppm: t.bootloader.usb_tolerance_ppm,
        }
    }
}

/// One reading of the clock and identity registers, decoded, with the target facts it was read against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockSnapshot {
    pub target: TargetFacts,
    pub raw: RawRegisters,
    pub rcc: Rcc,
    pub flash: FlashInterface,
    pub option_bytes: OptionBytesRegs,
    pub identity: Identity,
}

impl ClockSnapshot {
    /// Pure decoding of raw register words.
    pub fn decode(raw: RawRegisters, target: &TargetDescription) -> ClockSnapshot {
        ClockSnapshot {
            target: TargetFacts::of(target),
            rcc: Rcc::decode(
                raw.rcc_cr,
                raw.rcc_pllcfgr,
                raw.rcc_cfgr,
                raw.rcc_csr,
                raw.rcc_dckcfgr2,
            ),
            flash: FlashInterface::decode(raw.flash_acr),
            option_bytes: OptionBytesRegs::decode(raw.flash_optcr, raw.flash_optcr1),
            identity: Identity::decode(
                raw.dbgmcu_idcode,
                raw.uid,
                raw.flash_size_kb,
                raw.bootloader_id,
            ),
            raw,
        }
    }
}

/// Reads every register of `target` and decodes them.
pub fn read_snapshot<M>(
    mem: &mut M,
    target: &TargetDescription,
) -> Result<ClockSnapshot, ClockError>
where
    M: MemoryInterface + ?Sized,
{
    read_raw(mem, target).map(|raw| ClockSnapshot::decode(raw, target))
}

fn read_raw<M>(mem: &mut M, target: &TargetDescription) -> Result<RawRegisters, ClockError>
where
    M: MemoryInterface + ?Sized,
{
    let r = &target.registers;
    let id = &target.identity;
    // Registers at consecutive addresses are read as one run (one TAR write and a block transfer on a probe),
    // the rest one by one; an error names the run's first register.
    let [rcc_cr, rcc_pllcfgr, rcc_cfgr] =
        run(mem, "RCC_CR", r.rcc_cr, [r.rcc_pllcfgr, r.rcc_cfgr])?;
    let [flash_optcr, flash_optcr1] = run(mem, "FLASH_OPTCR", r.flash_optcr, [r.flash_optcr1])?;
    let uid = run(mem, "UID[0]", id.uid, [id.uid + 4, id.uid + 8])?;
    let mut word = |what: &'static str, addr: u32| read_word(mem, what, addr);
    Ok(RawRegisters {
        rcc_cr,
        rcc_pllcfgr,
        rcc_cfgr,
        rcc_csr: word("RCC_CSR", r.rcc_csr)?,
        rcc_dckcfgr2: word("RCC_DCKCFGR2", r.rcc_dckcfgr2)?,
        flash_acr: word("FLASH_ACR", r.flash_acr)?,
        flash_optcr,
        flash_optcr1,
        dbgmcu_idcode: word("DBGMCU_IDCODE", r.dbgmcu_idcode)?,
        uid,
        flash_size_kb: sub_word(word("flash size", id.flash_size & !3)?, id.flash_size, 16) as u16,
        bootloader_id: sub_word(
            word("bootloader ID", id.bootloader_id & !3)?,
            id.bootloader_id,
            8,
        ) as u8,
    })
}

/// The words at `first` and `rest`: one block read when they follow each other (as on the F7), else one by one
/// (a target file may place them apart).
fn run<M, const N: usize, const R: usize>(
    mem: &mut M,
    what: &'static str,
    first: u32,
    rest: [u32; R],
) -> Result<[u32; N], ClockError>
where
    M: MemoryInterface + ?Sized,
{
    let mut out = [0u32; N];
    let consecutive = rest
        .iter()
        .enumerate()
        .all(|(i, &a)| Some(a) == first.checked_add(4 * (i as u32 + 1)));
    if consecutive && N == R + 1 {
        mem.read_32(u64::from(first), &mut out)
            .map_err(|e| ClockError::read(what, first, e))?;
        return Ok(out);
    }
    for (slot, addr) in out.iter_mut().zip(std::iter::once(first).chain(rest)) {
        *slot = read_word(mem, what, addr)?;
    }
    Ok(out)
}

/// One 32-bit read with the register named in the error.
pub(crate) fn read_word<M>(mem: &mut M, what: &'static str, addr: u32) -> Result<u32, ClockError>
where
    M: MemoryInterface + ?Sized,
{
    mem.read_word_32(u64::from(addr))
        .map_err(|e| ClockError::read(what, addr, e))
}

/// One 32-bit write with the register named in the error.
pub(crate) fn write_word<M>(
    mem: &mut M,
    what: &'static str,
    addr: u32,
    value: u32,
) -> Result<(), ClockError>
where
    M: MemoryInterface + ?Sized,
{
    mem.write_word_32(u64::from(addr), value)
        .map_err(|e| ClockError::write(what, addr, e))
}

/// The `bits`-wide value at byte address `addr` inside the little-endian word that holds it.
fn sub_word(word: u32, addr: u32, bits: u32) -> u32 {
    let shifted = word >> (8 * (addr & 3));
    if bits >= 32 {
        shifted
    } else {
        shifted & ((1 << bits) - 1)
    }
}
