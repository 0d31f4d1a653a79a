//! Downloads, uploads and erases planned as values before any transfer: which sectors to erase, where to set the
//! address pointer, which wBlockNum carries which bytes. Pure; refusals happen here, not halfway through a flash.

use crate::error::ErrorKind;
use crate::layout::{Access, MemoryLayout, RangeViolation};
use crate::request::BLOCK_FIRST_DATA;

/// How data blocks are addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AddressMode {
    /// One Set Address Pointer per contiguous run, then wBlockNum 2, 3, 4, … with full `transfer_size`
    /// blocks and only the last one short: AN3156's `address = (wBlockNum − 2) × wTransferSize + pointer`.
    /// Requires `transfer_size` to equal the device's wTransferSize.
    #[default]
    Contiguous,
    /// dfu-util 0.11: Set Address Pointer before every block, each block sent as wBlockNum 2.
    PerBlock,
}

/// One data block: optionally preceded by Set Address Pointer, then sent/received as `block`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Chunk {
    /// Set the address pointer here first.
    pub set_address: Option<u32>,
    /// wBlockNum (≥ 2).
    #[doc(alias = "wBlockNum")]
    pub block: u16,
    /// Offset into the data.
    pub offset: usize,
    /// Bytes in this block (wLength).
    pub len: usize,
}

/// A data block of a download.
pub type Write = Chunk;
/// A data block of an upload.
pub type Read = Chunk;

/// A download as values: first every erase, then every write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Address of data byte 0.
    pub address: u32,
    /// Start address of each erasable sector touched, each once, ascending.
    pub erases: Vec<u32>,
    /// The data blocks, in order.
    pub writes: Vec<Write>,
}

impl Plan {
    /// Number of DfuSe commands (erases and Set Address Pointers).
    pub fn commands(&self) -> usize {
        self.erases.len() + set_addresses(&self.writes)
    }

    /// Fewest control transfers this plan can take: each command and each block is one DFU_DNLOAD plus at
    /// least two DFU_GETSTATUS (AN3156: the first answers dfuDNBUSY, the next the result).
    pub fn min_transfers(&self) -> usize {
        3 * (self.commands() + self.writes.len())
    }
}

/// An upload as values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadPlan {
    /// Address of byte 0.
    pub address: u32,
    /// The blocks, in order.
    pub reads: Vec<Read>,
}

/// Why an operation is refused before any transfer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// wLength must be 1..=65535.
    #[error("transfer size {0} is not usable (1..=65535)")]
    BadTransferSize(usize),
    /// The range runs past 4 GiB.
    #[error("{len} bytes at {address:#010x} run past the 32-bit address space")]
    AddressOverflow {
        /// Start.
        address: u32,
        /// Length.
        len: usize,
    },
    /// Part of the range is in no sector of the layout.
    #[error("{len} bytes at {address:#010x} leave the memory layout at {first_outside:#010x}")]
    OutOfLayout {
        /// Start.
        address: u32,
        /// Length.
        len: usize,
        /// First address outside.
        first_outside: u64,
    },
    /// A sector in the range cannot be written.
    #[error("sector at {sector:#010x} ({access}) is not writable")]
    NotWritable {
        /// Sector start.
        sector: u32,
        /// Its access.
        access: Access,
    },
    /// A sector in the range cannot be erased.
    #[error("sector at {sector:#010x} ({access}) is not erasable")]
    NotErasable {
        /// Sector start.
        sector: u32,
        /// Its access.
        access: Access,
    },
    /// A sector in the range cannot be read.
    #[error("sector at {sector:#010x} ({access}) is not readable")]
    NotReadable {
        /// Sector start.
        sector: u32,
        /// Its access.
        access: Access,
    },
}

impl PlanError {
    /// The coarse class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::BadTransferSize(_) | Self::AddressOverflow { .. } => ErrorKind::Usage,
            _ => ErrorKind::Layout,
        }
    }
}

/// Plan writing `len` bytes at `address`: erase every erasable sector touched (writable-only sectors such as
/// option bytes and OTP get none), then write in `transfer_size` blocks addressed per `mode`.
///
/// Erasing is by whole sector: bytes of a touched sector outside the range are erased too (as dfu-util does).
pub fn plan_download(
    layout: &MemoryLayout,
    address: u32,
    len: usize,
    transfer_size: usize,
    mode: AddressMode,
) -> Result<Plan, PlanError> {
    check_transfer_size(transfer_size)?;
    check_access(layout, address, len, Access::WRITABLE)?;
    let erases = layout
        .sectors_in(address, len)
        .into_iter()
        .filter(|s| s.access.erasable())
        .map(|s| s.start)
        .collect();
    Ok(Plan {
        address,
        erases,
        writes: chunks(len, transfer_size, address, mode),
    })
}

/// Plan reading `len` bytes at `address`: one Set Address Pointer, then wBlockNum 2, 3, … (a new pointer when
/// wBlockNum would overflow); a short last block asks for exactly the bytes left, as wBlockNum 2 after its own
/// pointer (so the 32 option bytes are one 32-byte block 2).
pub fn plan_upload(
    address: u32,
    len: usize,
    transfer_size: usize,
) -> Result<UploadPlan, PlanError> {
    check_transfer_size(transfer_size)?;
    check_span(address, len)?;
    let reads = chunks(len, transfer_size, address, AddressMode::Contiguous);
    Ok(UploadPlan { address, reads })
}

/// Plan erasing every sector touched by the range: all must exist and be erasable.
pub fn plan_erase(layout: &MemoryLayout, address: u32, len: usize) -> Result<Vec<u32>, PlanError> {
    check_access(layout, address, len, Access::ERASABLE)?;
    Ok(layout
        .sectors_in(address, len)
        .iter()
        .map(|s| s.start)
        .collect())
}

/// Refuse a read of a range the layout does not mark readable.
pub fn check_readable(layout: &MemoryLayout, address: u32, len: usize) -> Result<(), PlanError> {
    check_access(layout, address, len, Access::READABLE)
}

fn check_transfer_size(transfer_size: usize) -> Result<(), PlanError> {
    if (1..=usize::from(u16::MAX)).contains(&transfer_size) {
        Ok(())
    } else {
        Err(PlanError::BadTransferSize(transfer_size))
    }
}

fn check_span(address: u32, len: usize) -> Result<(), PlanError> {
    if u64::from(address) + len as u64 <= 1 << 32 {
        Ok(())
    } else {
        Err(PlanError::AddressOverflow { address, len })
    }
}

/// The whole range inside the layout, then every sector with `need`.
fn check_access(
    layout: &MemoryLayout,
    address: u32,
    len: usize,
    need: u8,
) -> Result<(), PlanError> {
    check_span(address, len)?;
    let refuse = |v| match v {
        RangeViolation::Gap(first_outside) => PlanError::OutOfLayout {
            address,
            len,
            first_outside,
        },
        RangeViolation::Denied(s) => {
            let (sector, access) = (s.start, s.access);
            match need {
                Access::WRITABLE => PlanError::NotWritable { sector, access },
                Access::ERASABLE => PlanError::NotErasable { sector, access },
                _ => PlanError::NotReadable { sector, access },
            }
        }
    };
    layout
        .check_range(address, len, Access::from_bits(0))
        .map_err(refuse)?;
    layout
        .check_range(address, len, Access::from_bits(need))
        .map_err(refuse)
}

/// Blocks per address-pointer run: wBlockNum 2..=65535.
const BLOCKS_PER_RUN: usize = (u16::MAX - BLOCK_FIRST_DATA) as usize + 1;

/// A short last block goes as wBlockNum 2 after its own Set Address Pointer, never as wBlockNum > 2: AN3156
/// leaves open whether the ROM multiplies wBlockNum by the fixed wTransferSize or by the block's wLength
/// (reference notes §1.3), and this is correct under either reading at the cost of one command. For downloads
/// a wrong reading would write flash at the wrong address; for uploads it would make a verify fail and blame
/// the board. (dfu-util 0.11 does the same for downloads, but not for uploads.)
fn chunks(len: usize, transfer_size: usize, address: u32, mode: AddressMode) -> Vec<Chunk> {
    let starts = (0..len).step_by(transfer_size.max(1));
    starts
        .enumerate()
        .map(|(i, offset)| {
            let short = len - offset < transfer_size;
            let index = match mode {
                AddressMode::Contiguous if short => 0,
                AddressMode::Contiguous => i % BLOCKS_PER_RUN,
                AddressMode::PerBlock => 0,
            };
            let at = address.wrapping_add(offset as u32);
            Chunk {
                set_address: (index == 0).then_some(at),
                block: BLOCK_FIRST_DATA + index as u16,
                offset,
                len: transfer_size.min(len - offset),
            }
        })
        .collect()
}

fn set_addresses(chunks: &[Chunk]) -> usize {
    chunks.iter().filter(|c| c.set_address.is_some()).count()
}
