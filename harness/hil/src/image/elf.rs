//! ELF reader: the bytes a loader would put in memory, at their physical (load) addresses.
//!
//! Uses program headers, not sections: PT_LOAD entries with `p_filesz > 0`, placed at `p_paddr`. That is
//! where a linker puts initialised `.data` (its LMA, in flash) when it runs from RAM (its VMA); `.bss`
//! (`p_memsz` beyond `p_filesz`) is not written.

use object::elf::{FileHeader32, FileHeader64, PT_LOAD};
use object::read::elf::{FileHeader, ProgramHeader};
use object::{Endianness, FileKind};

use super::{Image, ImageError, ImageErrorKind, Segment};

pub(super) fn parse(bytes: &[u8]) -> Result<Image, ImageError> {
    let kind = FileKind::parse(bytes).map_err(ImageErrorKind::Elf)?;
    match kind {
        FileKind::Elf32 => parse_with::<FileHeader32<Endianness>>(bytes),
        FileKind::Elf64 => parse_with::<FileHeader64<Endianness>>(bytes),
        _ => Err(ImageErrorKind::NotElf.into()),
    }
}

fn parse_with<H: FileHeader<Endian = Endianness>>(bytes: &[u8]) -> Result<Image, ImageError> {
    let header = H::parse(bytes).map_err(ImageErrorKind::Elf)?;
    let endian = header.endian().map_err(ImageErrorKind::Elf)?;
    let program_headers = header
        .program_headers(endian, bytes)
        .map_err(ImageErrorKind::Elf)?;
    let mut segments = Vec::new();
    for (index, ph) in program_headers.iter().enumerate() {
        if ph.p_type(endian) != PT_LOAD || ph.p_filesz(endian).into() == 0 {
            continue;
        }
        let data = ph
            .data(endian, bytes)
            .map_err(|()| ImageErrorKind::ElfSegmentOutOfFile { index })?;
        let address = to_u32(ph.p_paddr(endian).into(), data.len())?;
        segments.push(Segment::new(address, data.to_vec()));
    }
    if segments.is_empty() {
        return Err(ImageErrorKind::ElfNoLoadSegments.into());
    }
    let entry = header.e_entry(endian).into();
    Ok(Image::new(segments)?.with_entry_point(u32::try_from(entry).ok()))
}

fn to_u32(address: u64, len: usize) -> Result<u32, ImageErrorKind> {
    u32::try_from(address).map_err(|_| ImageErrorKind::AddressOverflow { address, len })
}
