//! The one error type of the image loaders: where (file, line) and what ([`ImageErrorKind`]).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::Format;

/// A firmware image could not be read, parsed or written.
///
/// Displays as `FILE:LINE: what is wrong` (file and line when known); the underlying parser error, if any,
/// is the `source()`.
#[derive(Debug)]
pub struct ImageError {
    /// The file, when the image came from one.
    pub path: Option<PathBuf>,
    /// 1-based line in a text format (Intel HEX).
    pub line: Option<usize>,
    /// What is wrong.
    pub kind: ImageErrorKind,
}

impl ImageError {
    /// The same error, attributed to `path`.
    pub fn in_file(mut self, path: &Path) -> Self {
        self.path = Some(path.to_path_buf());
        self
    }

    /// The same error, at 1-based `line`.
    pub fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
}

impl From<ImageErrorKind> for ImageError {
    fn from(kind: ImageErrorKind) -> Self {
        Self {
            path: None,
            line: None,
            kind,
        }
    }
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.line) {
            (Some(path), Some(line)) => write!(f, "{}:{line}: ", path.display())?,
            (Some(path), None) => write!(f, "{}: ", path.display())?,
            (None, Some(line)) => write!(f, "line {line}: ")?,
            (None, None) => {}
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for ImageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

/// What is wrong with an image. Messages never repeat their `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageErrorKind {
    /// The file could not be read or written.
    #[error("cannot read the file")]
    Io(#[source] io::Error),
    /// Neither the contents nor the extension say which format this is.
    #[error("unknown image format: expected .bin (with an address), .hex, .elf or .dfu")]
    UnknownFormat,
    /// A raw binary has no address of its own.
    #[error("a raw binary needs a load address")]
    MissingAddress,
    /// A load address was given for a format that carries its own.
    #[error(
        "{format} files carry their own addresses; a load address only applies to raw binaries"
    )]
    AddressNotApplicable {
        /// The detected format.
        format: Format,
    },
    /// A segment runs past the end of the 32-bit address space.
    #[error("{len} bytes at {address:#010x} run past the end of the 32-bit address space")]
    AddressOverflow {
        /// Start of the segment.
        address: u64,
        /// Its length.
        len: usize,
    },
    /// Two pieces of data claim the same bytes.
    #[error("data at {first:#010x} and data at {second:#010x} overlap")]
    Overlap {
        /// Start of the earlier piece.
        first: u32,
        /// Start of the piece that overlaps it.
        second: u32,
    },
    /// The file holds no data to write.
    #[error("the image holds no data")]
    Empty,

    /// A line is not a valid Intel HEX record.
    #[error("bad Intel HEX record")]
    HexRecord(#[source] ihex::ReaderError),
    /// A record's checksum byte does not match its bytes. Our own words: the ihex crate calls the checksum it
    /// computed "found" and the record's own byte "expecting", the wrong way round for a reader of the file.
    #[error("bad Intel HEX record: its checksum byte is {in_record:02X}, but its bytes give {computed:02X}")]
    HexChecksum { in_record: u8, computed: u8 },
    /// A line is not valid text.
    #[error("Intel HEX line is not ASCII text")]
    HexNotText,
    /// The file ends without the end-of-file record (type 01): probably truncated.
    #[error("Intel HEX file has no end-of-file record (truncated?)")]
    HexNoEndOfFile,
    /// A record follows the end-of-file record.
    #[error("Intel HEX record after the end-of-file record")]
    HexAfterEndOfFile,

    /// The file is not ELF (the object parser recognised another format).
    #[error("not an ELF file")]
    NotElf,
    /// The ELF parser rejected the file.
    #[error("malformed ELF file")]
    Elf(#[source] object::read::Error),
    /// A program header points outside the file.
    #[error("ELF program header {index} points outside the file")]
    ElfSegmentOutOfFile {
        /// Index of the program header.
        index: usize,
    },
    /// No PT_LOAD program header has bytes in the file.
    #[error("ELF file has no loadable segments with contents (PT_LOAD with p_filesz > 0)")]
    ElfNoLoadSegments,

    /// The file ends in the middle of a structure.
    #[error(
        "DfuSe file truncated: {what} at offset {offset} needs {needed} bytes, {available} left"
    )]
    DfuseTruncated {
        /// The structure being read.
        what: &'static str,
        /// Where it starts.
        offset: usize,
        /// Its size.
        needed: usize,
        /// What the file had left.
        available: usize,
    },
    /// A signature is not what the format requires.
    #[error("DfuSe {what} signature missing at offset {offset}")]
    DfuseSignature {
        /// `"prefix"` or `"target"`.
        what: &'static str,
        /// Where it should be.
        offset: usize,
    },
    /// The file does not end with a DFU suffix ("UFD" signature).
    #[error("DfuSe file does not end with a DFU suffix (truncated?)")]
    DfuseNoSuffix,
    /// The prefix names a format version other than 1.
    #[error("DfuSe format version {0} is not supported (only 1)")]
    DfuseVersion(u8),
    /// The suffix's bLength is smaller than 16 or larger than the file.
    #[error("DFU suffix length {0} is invalid")]
    DfuseSuffixLength(u8),
    /// The suffix CRC does not match the contents.
    #[error("DFU suffix CRC is {stored:#010x}, the contents give {computed:#010x}")]
    DfuseCrc {
        /// dwCRC as stored in the file.
        stored: u32,
        /// What the file's bytes give.
        computed: u32,
    },
    /// A size field disagrees with the file.
    #[error("DfuSe {what} says {stated} bytes, found {actual}")]
    DfuseSize {
        /// Which size field.
        what: &'static str,
        /// The value in the file.
        stated: u64,
        /// What the structure really occupies.
        actual: u64,
    },
    /// No target has the wanted alternate setting.
    #[error("DfuSe file has no target for alternate setting {alt} (it has {available:?})")]
    DfuseNoTarget {
        /// The wanted alternate setting.
        alt: u8,
        /// The alternate settings in the file.
        available: Vec<u8>,
    },
    /// Something does not fit the DfuSe format when writing (name over 255 bytes, over 255 targets, over
    /// 4 GiB of data).
    #[error("cannot write DfuSe file: {0}")]
    DfuseTooLarge(&'static str),
}
