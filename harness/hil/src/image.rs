//! Firmware images to flash: raw binaries, Intel HEX, ELF and ST DfuSe `.dfu` files, read into one
//! [`Image`] of sorted, non-overlapping [`Segment`]s (and DfuSe files written back out).
//!
//! Pure code over bytes apart from [`Image::load`] and [`DfuseFile::load`], which read a file and name it in
//! their errors. Nothing here talks to a device or knows about flash sectors: erasing and writing is the
//! flash step's business.

mod dfuse_file;
mod elf;
mod error;
mod hex;

use std::fmt;
use std::path::Path;

pub use dfuse_file::{to_dfuse_file, DfuseFile, DfuseTarget, DFUSE_BCD_DFU};
pub use error::{ImageError, ImageErrorKind};

/// One contiguous run of bytes to write at `address`.
#[derive(Clone, PartialEq, Eq)]
pub struct Segment {
    /// Where the first byte goes (for ELF files: the physical/load address).
    pub address: u32,
    /// The bytes, never empty inside an [`Image`].
    pub data: Vec<u8>,
}

impl Segment {
    /// A segment of `data` starting at `address`.
    pub fn new(address: u32, data: Vec<u8>) -> Self {
        Self { address, data }
    }

    /// One past the last byte, as u64 so that a segment ending at 0xFFFF_FFFF has an end.
    pub fn end(&self) -> u64 {
        u64::from(self.address) + self.data.len() as u64
    }
}

impl fmt::Debug for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Segment({:#010x}, {} bytes",
            self.address,
            self.data.len()
        )?;
        if self.data.len() <= 16 {
            write!(f, ": {:02x?}", self.data)?;
        }
        f.write_str(")")
    }
}

/// A firmware image: segments sorted by address, non-overlapping, adjacent ones merged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Image {
    segments: Vec<Segment>,
    entry_point: Option<u32>,
    /// The VID:PID a DfuSe file says it was made for (its suffix); None for other formats.
    made_for: Option<(u16, u16)>,
}

/// The file formats [`Image::load`] understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Raw bytes; the address comes from the caller.
    Bin,
    /// Intel HEX (I32HEX, with I16HEX segment records accepted).
    IntelHex,
    /// ELF executable; PT_LOAD segments at their physical address.
    Elf,
    /// ST DfuSe `.dfu` file (UM0391).
    Dfuse,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bin => "raw binary",
            Self::IntelHex => "Intel HEX",
            Self::Elf => "ELF",
            Self::Dfuse => "DfuSe",
        })
    }
}

const ELF_MAGIC: &[u8] = b"\x7fELF";

impl Format {
    /// Pick a format from the file's contents first (ELF magic, `DfuSe` prefix), then its extension, then a
    /// leading `:` for Intel HEX. `None` when nothing matches.
    pub fn detect(path: &Path, bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(ELF_MAGIC) {
            return Some(Self::Elf);
        }
        if bytes.starts_with(dfuse_file::PREFIX_SIGNATURE) {
            return Some(Self::Dfuse);
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("bin") => Some(Self::Bin),
            Some("hex" | "ihex" | "ihx") => Some(Self::IntelHex),
            Some("elf" | "axf" | "out") => Some(Self::Elf),
            Some("dfu") => Some(Self::Dfuse),
            _ if bytes.trim_ascii_start().starts_with(b":") => Some(Self::IntelHex),
            _ => None,
        }
    }
}

impl Image {
    /// Build an image from segments in any order: drops empty ones, sorts, merges adjacent ones and rejects
    /// overlaps ([`ImageErrorKind::Overlap`] names the start of both pieces) and segments running past 4 GiB.
    pub fn new(segments: impl IntoIterator<Item = Segment>) -> Result<Self, ImageError> {
        let mut pieces: Vec<Segment> = segments
            .into_iter()
            .filter(|s| !s.data.is_empty())
            .collect();
        pieces.sort_by_key(|s| s.address);
        let mut merged: Vec<Segment> = Vec::with_capacity(pieces.len());
        let mut last_piece_start = 0;
        for piece in pieces {
            if piece.end() > 1 << 32 {
                return Err(ImageErrorKind::AddressOverflow {
                    address: u64::from(piece.address),
                    len: piece.data.len(),
                }
                .into());
            }
            if let Some(last) = merged.last_mut() {
                if u64::from(piece.address) < last.end() {
                    let (first, second) = (last_piece_start, piece.address);
                    return Err(ImageErrorKind::Overlap { first, second }.into());
                }
                if u64::from(piece.address) == last.end() {
                    last_piece_start = piece.address;
                    last.data.extend_from_slice(&piece.data);
                    continue;
                }
            }
            last_piece_start = piece.address;
            merged.push(piece);
        }
        Ok(Self {
            segments: merged,
            entry_point: None,
            made_for: None,
        })
    }

    /// A raw binary placed at `address`.
    pub fn from_bin(bytes: &[u8], address: u32) -> Result<Self, ImageError> {
        non_empty(Self::new([Segment::new(address, bytes.to_vec())])?)
    }

    /// An Intel HEX file. Errors carry the 1-based line number.
    pub fn from_ihex(bytes: &[u8]) -> Result<Self, ImageError> {
        hex::parse(bytes).and_then(non_empty)
    }

    /// An ELF file: every PT_LOAD program header with a non-zero file size, at its physical address (LMA).
    pub fn from_elf(bytes: &[u8]) -> Result<Self, ImageError> {
        elf::parse(bytes)
    }

    /// The image of alternate setting `alt` in a DfuSe file (all targets for `alt`, merged, as dfu-util
    /// flashes them).
    pub fn from_dfuse(bytes: &[u8], alt: u8) -> Result<Self, ImageError> {
        let file = DfuseFile::parse(bytes)?;
        let made_for = (file.vendor_id, file.product_id);
        let mut image = file.image_for_alt(alt)?;
        image.made_for = Some(made_for);
        Ok(image)
    }

    /// The VID:PID a DfuSe file was made for (0xFFFF matches any, per the DFU suffix), or None.
    pub fn made_for(&self) -> Option<(u16, u16)> {
        self.made_for
    }

    /// Read `path`, pick its format with [`Format::detect`] and parse it. `address` is required for raw
    /// binaries and refused for the other formats, which carry their own addresses; a file of no
    /// recognisable format is taken as a raw binary when an address is given. DfuSe files yield alternate
    /// setting 0 (internal flash on the STM32 ROM bootloader). Errors name the file.
    pub fn load(path: impl AsRef<Path>, address: Option<u32>) -> Result<Self, ImageError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| ImageError::from(ImageErrorKind::Io(e)).in_file(path))?;
        Self::parse_as_detected(path, &bytes, address).map_err(|e| e.in_file(path))
    }

    fn parse_as_detected(
        path: &Path,
        bytes: &[u8],
        address: Option<u32>,
    ) -> Result<Self, ImageError> {
        let format = Format::detect(path, bytes);
        match (format, address) {
            (Some(Format::Bin), Some(address)) => Self::from_bin(bytes, address),
            (Some(Format::Bin), None) => Err(ImageErrorKind::MissingAddress.into()),
            (None, Some(address)) => Self::from_bin(bytes, address),
            (None, None) => Err(ImageErrorKind::UnknownFormat.into()),
            (Some(format), Some(_)) => Err(ImageErrorKind::AddressNotApplicable { format }.into()),
            (Some(Format::IntelHex), None) => Self::from_ihex(bytes),
            (Some(Format::Elf), None) => Self::from_elf(bytes),
            (Some(Format::Dfuse), None) => Self::from_dfuse(bytes, 0),
        }
    }

    /// The segments, sorted by address, non-overlapping, never adjacent, never empty.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Consume the image, keeping its segments.
    pub fn into_segments(self) -> Vec<Segment> {
        self.segments
    }

    /// The entry point the file named (HEX record 05, ELF `e_entry`), if any.
    pub fn entry_point(&self) -> Option<u32> {
        self.entry_point
    }

    /// The same image with `entry_point` recorded.
    pub fn with_entry_point(mut self, entry_point: Option<u32>) -> Self {
        self.entry_point = entry_point;
        self
    }

    /// Total number of data bytes over all segments.
    pub fn len(&self) -> usize {
        self.segments.iter().map(|s| s.data.len()).sum()
    }

    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// The lowest address written, if any.
    pub fn start(&self) -> Option<u32> {
        self.segments.first().map(|s| s.address)
    }

    /// One past the highest address written (u64: it may be 2^32).
    pub fn end(&self) -> Option<u64> {
        self.segments.last().map(Segment::end)
    }
}

/// Formats that carry data must not come out empty: an empty image flashes nothing and is always a mistake.
fn non_empty(image: Image) -> Result<Image, ImageError> {
    if image.is_empty() {
        Err(ImageErrorKind::Empty.into())
    } else {
        Ok(image)
    }
}

#[cfg(test)]
mod tests;
