//! ST DfuSe `.dfu` files (UM0391), read and written. Written by hand: the `dfufile` crate reads DfuSe only
//! from a `std::fs::File`, cannot write, and reports no offsets; we parse from bytes (so the parser is
//! property-tested), write files (fixtures, user output) and name the offset of what is wrong.
//!
//! ```text
//! prefix   11 B   "DfuSe", bVersion 0x01, DFUImageSize u32, bTargets u8
//! target  274 B   "Target", bAlternateSetting u8, bTargetNamed u32, szTargetName[255],
//!                 dwTargetSize u32 (bytes of its elements), dwNbElements u32
//! element   8 B   dwElementAddress u32, dwElementSize u32, then the data
//! suffix   16 B   bcdDevice, idProduct, idVendor, bcdDFU = 0x011A (u16 each), "UFD", bLength = 16,
//!                 dwCRC u32
//! ```
//! All integers little endian. dwCRC is the DFU 1.1 file CRC over every byte before it: CRC-32 with
//! initial value 0xFFFF_FFFF and no final XOR, i.e. the bitwise NOT of the usual (zlib) CRC-32.
//! DFUImageSize is the file without its suffix; dfuse-pack writes the whole file length, so both are
//! accepted when reading.

use std::path::Path;

use super::{Image, ImageError, ImageErrorKind, Segment};

/// Start of every DfuSe file.
pub(super) const PREFIX_SIGNATURE: &[u8] = b"DfuSe";
const PREFIX_LEN: usize = 11;
const TARGET_SIGNATURE: &[u8] = b"Target";
const TARGET_PREFIX_LEN: usize = 274;
const NAME_LEN: usize = 255;
const ELEMENT_HEADER_LEN: usize = 8;
const SUFFIX_SIGNATURE: &[u8] = b"UFD";
const SUFFIX_LEN: usize = 16;

/// bcdDFU of DfuSe files: DFU 1.1 with ST's extensions ("1.1a").
#[doc(alias = "bcdDFU")]
pub const DFUSE_BCD_DFU: u16 = 0x011A;

/// A parsed DfuSe file: the device it is meant for and its targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DfuseFile {
    /// idVendor (0xFFFF: any).
    pub vendor_id: u16,
    /// idProduct (0xFFFF: any).
    pub product_id: u16,
    /// bcdDevice (0xFFFF: any).
    pub device_release: u16,
    /// The targets in file order.
    pub targets: Vec<DfuseTarget>,
}

/// One target of a DfuSe file: an image for one alternate setting (a memory of the device).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DfuseTarget {
    /// bAlternateSetting: which memory the image is for (0 = internal flash on the STM32 ROM bootloader).
    pub alt_setting: u8,
    /// szTargetName when bTargetNamed is set, cut at the first NUL.
    pub name: Option<String>,
    /// The elements, as an image.
    pub image: Image,
}

impl DfuseFile {
    /// Parse and check a whole DfuSe file: suffix signature and CRC, prefix, every target and element.
    pub fn parse(bytes: &[u8]) -> Result<Self, ImageError> {
        let suffix = Suffix::parse(bytes)?;
        let body = &bytes[..bytes.len() - suffix.len];
        let mut cursor = Cursor {
            bytes: body,
            pos: 0,
        };
        let target_count = parse_prefix(&mut cursor, bytes.len())?;
        let mut targets = Vec::new();
        for _ in 0..target_count {
            targets.push(parse_target(&mut cursor)?);
        }
        if cursor.pos != body.len() {
            let (stated, actual) = (cursor.pos as u64, body.len() as u64);
            return Err(ImageErrorKind::DfuseSize {
                what: "bTargets",
                stated,
                actual,
            }
            .into());
        }
        Ok(Self {
            vendor_id: suffix.vendor_id,
            product_id: suffix.product_id,
            device_release: suffix.device_release,
            targets,
        })
    }

    /// Read and parse the DfuSe file at `path`; errors name it.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ImageError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| ImageError::from(ImageErrorKind::Io(e)).in_file(path))?;
        Self::parse(&bytes).map_err(|e| e.in_file(path))
    }

    /// The file's bytes, suffix and CRC included.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ImageError> {
        to_dfuse_file(
            self.vendor_id,
            self.product_id,
            self.device_release,
            &self.targets,
        )
    }

    /// Everything for alternate setting `alt`, merged over all its targets (as dfu-util flashes them).
    pub fn image_for_alt(&self, alt: u8) -> Result<Image, ImageError> {
        let mut matching = self
            .targets
            .iter()
            .filter(|t| t.alt_setting == alt)
            .peekable();
        if matching.peek().is_none() {
            let available = self.targets.iter().map(|t| t.alt_setting).collect();
            return Err(ImageErrorKind::DfuseNoTarget { alt, available }.into());
        }
        let segments = matching.flat_map(|t| t.image.segments().iter().cloned());
        super::non_empty(Image::new(segments)?)
    }
}

/// Write a DfuSe file for device `vendor_id:product_id` release `device_release` (0xFFFF: any), one element
/// per segment.
pub fn to_dfuse_file(
    vendor_id: u16,
    product_id: u16,
    device_release: u16,
    targets: &[DfuseTarget],
) -> Result<Vec<u8>, ImageError> {
    let target_count =
        u8::try_from(targets.len()).map_err(|_| too_large("more than 255 targets"))?;
    let mut out = Vec::new();
    out.extend_from_slice(PREFIX_SIGNATURE);
    out.push(1);
    out.extend_from_slice(&[0; 4]); // DFUImageSize, patched below
    out.push(target_count);
    for target in targets {
        write_target(&mut out, target)?;
    }
    let image_size = u32::try_from(out.len()).map_err(|_| too_large("file over 4 GiB"))?;
    out[6..10].copy_from_slice(&image_size.to_le_bytes());
    for field in [device_release, product_id, vendor_id, DFUSE_BCD_DFU] {
        out.extend_from_slice(&field.to_le_bytes());
    }
    out.extend_from_slice(SUFFIX_SIGNATURE);
    out.push(SUFFIX_LEN as u8);
    let crc = dfu_crc(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}

/// The DFU file CRC (DFU 1.1 appendix B): CRC-32 without the final inversion.
#[doc(alias = "dwCRC")]
pub(super) fn dfu_crc(bytes: &[u8]) -> u32 {
    !crc32fast::hash(bytes)
}

fn too_large(what: &'static str) -> ImageError {
    ImageErrorKind::DfuseTooLarge(what).into()
}

fn write_target(out: &mut Vec<u8>, target: &DfuseTarget) -> Result<(), ImageError> {
    let name = target.name.as_deref().unwrap_or("").as_bytes();
    if name.len() > NAME_LEN {
        return Err(too_large("target name over 255 bytes"));
    }
    let segments = target.image.segments();
    let elements_len: usize = segments
        .iter()
        .map(|s| ELEMENT_HEADER_LEN + s.data.len())
        .sum();
    let target_size = u32::try_from(elements_len).map_err(|_| too_large("target over 4 GiB"))?;
    out.extend_from_slice(TARGET_SIGNATURE);
    out.push(target.alt_setting);
    out.extend_from_slice(&u32::from(target.name.is_some()).to_le_bytes());
    out.extend_from_slice(name);
    out.resize(out.len() + NAME_LEN - name.len(), 0);
    out.extend_from_slice(&target_size.to_le_bytes());
    out.extend_from_slice(&(segments.len() as u32).to_le_bytes());
    for segment in segments {
        out.extend_from_slice(&segment.address.to_le_bytes());
        out.extend_from_slice(&(segment.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&segment.data);
    }
    Ok(())
}

/// The DFU suffix, read from the end of the file.
struct Suffix {
    device_release: u16,
    product_id: u16,
    vendor_id: u16,
    len: usize,
}

impl Suffix {
    fn parse(bytes: &[u8]) -> Result<Self, ImageError> {
        let Some(start) = bytes.len().checked_sub(SUFFIX_LEN) else {
            return Err(ImageErrorKind::DfuseNoSuffix.into());
        };
        let s = &bytes[start..];
        if &s[8..11] != SUFFIX_SIGNATURE {
            return Err(ImageErrorKind::DfuseNoSuffix.into());
        }
        let len = s[11];
        if usize::from(len) < SUFFIX_LEN || usize::from(len) > bytes.len() {
            return Err(ImageErrorKind::DfuseSuffixLength(len).into());
        }
        let stored = u32::from_le_bytes([s[12], s[13], s[14], s[15]]);
        let computed = dfu_crc(&bytes[..bytes.len() - 4]);
        if stored != computed {
            return Err(ImageErrorKind::DfuseCrc { stored, computed }.into());
        }
        let u16_at = |i: usize| u16::from_le_bytes([s[i], s[i + 1]]);
        Ok(Self {
            device_release: u16_at(0),
            product_id: u16_at(2),
            vendor_id: u16_at(4),
            len: usize::from(len),
        })
    }
}

/// Checks the prefix; returns bTargets.
fn parse_prefix(cursor: &mut Cursor<'_>, file_len: usize) -> Result<u8, ImageError> {
    let offset = cursor.pos;
    let prefix = cursor.take(PREFIX_LEN, "prefix")?;
    if &prefix[..5] != PREFIX_SIGNATURE {
        return Err(ImageErrorKind::DfuseSignature {
            what: "prefix",
            offset,
        }
        .into());
    }
    if prefix[5] != 1 {
        return Err(ImageErrorKind::DfuseVersion(prefix[5]).into());
    }
    let image_size = u64::from(u32_at(prefix, 6));
    let body_len = cursor.bytes.len() as u64;
    if image_size != body_len && image_size != file_len as u64 {
        let what = "DFUImageSize";
        return Err(ImageErrorKind::DfuseSize {
            what,
            stated: image_size,
            actual: body_len,
        }
        .into());
    }
    Ok(prefix[10])
}

fn parse_target(cursor: &mut Cursor<'_>) -> Result<DfuseTarget, ImageError> {
    let offset = cursor.pos;
    let prefix = cursor.take(TARGET_PREFIX_LEN, "target prefix")?;
    if &prefix[..6] != TARGET_SIGNATURE {
        return Err(ImageErrorKind::DfuseSignature {
            what: "target",
            offset,
        }
        .into());
    }
    let named = u32_at(prefix, 7) != 0;
    let name_field = &prefix[11..11 + NAME_LEN];
    let name_len = name_field.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
    let name = named.then(|| String::from_utf8_lossy(&name_field[..name_len]).into_owned());
    let target_size = u64::from(u32_at(prefix, 266));
    let element_count = u32_at(prefix, 270);
    let elements_start = cursor.pos;
    let mut segments = Vec::new();
    for _ in 0..element_count {
        let header = cursor.take(ELEMENT_HEADER_LEN, "element header")?;
        let (address, size) = (u32_at(header, 0), u32_at(header, 4));
        let data = cursor.take(size as usize, "element data")?;
        segments.push(Segment::new(address, data.to_vec()));
    }
    let actual = (cursor.pos - elements_start) as u64;
    if actual != target_size {
        let what = "dwTargetSize";
        return Err(ImageErrorKind::DfuseSize {
            what,
            stated: target_size,
            actual,
        }
        .into());
    }
    Ok(DfuseTarget {
        alt_setting: prefix[6],
        name,
        image: Image::new(segments)?,
    })
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Reads structures front to back, failing with the structure's name when the file runs out.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, needed: usize, what: &'static str) -> Result<&'a [u8], ImageError> {
        let available = self.bytes.len() - self.pos;
        if needed > available {
            let offset = self.pos;
            return Err(ImageErrorKind::DfuseTruncated {
                what,
                offset,
                needed,
                available,
            }
            .into());
        }
        let taken = &self.bytes[self.pos..self.pos + needed];
        self.pos += needed;
        Ok(taken)
    }
}
