//! DfuSe memory-layout strings (the alt-setting `iInterface` text, UM0424 §4.3.2): parsing and range queries.
//! Pure: this module never talks to a device.
//!
//! Grammar: `@<name>/0x<addr>/<NN>*<size><mult><type>[,<NN>*...][/0x<addr2>/...]` where `<mult>` is `B`, `K`,
//! `M`, a space (bytes) or absent, and `<type>` is a letter `a`–`g` whose value `letter − 'a' + 1` has the bits
//! R=1, E=2, W=4.
//!
//! ```
//! use dfuse::MemoryLayout;
//! let f7 = MemoryLayout::parse("@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg").unwrap();
//! let s = f7.sector_at(0x0802_1234).unwrap();
//! assert_eq!((s.start, s.size), (0x0802_0000, 128 * 1024));
//! assert!(f7.is_erasable(0x0800_0000, 1 << 20));
//! ```

use std::fmt;
use std::str::FromStr;

mod parse;

/// Access bits of a sector run, as encoded by the type letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Access(u8);

impl Access {
    /// Readable (DFU_UPLOAD allowed).
    pub const READABLE: u8 = 1;
    /// Erasable (DfuSe Erase allowed).
    pub const ERASABLE: u8 = 2;
    /// Writable (DFU_DNLOAD allowed).
    pub const WRITABLE: u8 = 4;

    /// Access from the R/E/W bits (higher bits ignored).
    pub fn from_bits(bits: u8) -> Self {
        Self(bits & 7)
    }

    /// Access from a type letter `a`–`g`.
    pub fn from_letter(c: char) -> Option<Self> {
        let b = u8::try_from(c).ok()?;
        (b'a'..=b'g').contains(&b).then(|| Self(b - b'a' + 1))
    }

    /// The R/E/W bits.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// The type letter, `a`–`g`, or `None` for no access at all.
    pub fn letter(self) -> Option<char> {
        (self.0 != 0).then(|| char::from(b'a' + self.0 - 1))
    }

    /// True when every bit of `need` is present.
    pub fn allows(self, need: Access) -> bool {
        self.0 & need.0 == need.0
    }

    /// True if readable.
    pub fn readable(self) -> bool {
        self.0 & Self::READABLE != 0
    }

    /// True if erasable.
    pub fn erasable(self) -> bool {
        self.0 & Self::ERASABLE != 0
    }

    /// True if writable.
    pub fn writable(self) -> bool {
        self.0 & Self::WRITABLE != 0
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = |set: bool, c: char| if set { c } else { '-' };
        write!(
            f,
            "{}{}{}",
            flag(self.readable(), 'r'),
            flag(self.erasable(), 'e'),
            flag(self.writable(), 'w')
        )
    }
}

/// `count` consecutive sectors of `size` bytes with the same access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SectorRun {
    /// Number of sectors (`NN`).
    pub count: u32,
    /// Bytes per sector, multiplier applied.
    pub size: u32,
    /// What the host may do to these sectors.
    pub access: Access,
}

impl SectorRun {
    fn bytes(&self) -> u64 {
        u64::from(self.count) * u64::from(self.size)
    }
}

/// A contiguous region: sector runs laid end to end from `start`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Region {
    /// Address of the first sector.
    pub start: u32,
    /// The runs, in address order.
    pub sectors: Vec<SectorRun>,
}

impl Region {
    /// One past the last byte (may be 2^32).
    pub fn end(&self) -> u64 {
        let bytes = self.sectors.iter().map(SectorRun::bytes);
        bytes.fold(u64::from(self.start), u64::saturating_add)
    }

    /// Each run with its start address.
    fn runs(&self) -> impl Iterator<Item = (u64, &SectorRun)> + '_ {
        let mut at = u64::from(self.start);
        self.sectors.iter().map(move |run| {
            let start = at;
            at = at.saturating_add(run.bytes());
            (start, run)
        })
    }
}

/// One sector of a layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Sector {
    /// First address.
    pub start: u32,
    /// Size in bytes.
    pub size: u32,
    /// Access bits.
    pub access: Access,
}

impl Sector {
    /// One past the last byte (may be 2^32).
    pub fn end(&self) -> u64 {
        u64::from(self.start) + u64::from(self.size)
    }
}

/// Why a range fails an access check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeViolation {
    /// This address belongs to no sector.
    Gap(u64),
    /// This sector lacks the access asked for.
    Denied(Sector),
}

/// A parsed DfuSe memory layout.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemoryLayout {
    /// The name between `@` and the first `/`, verbatim (trailing spaces kept).
    pub name: String,
    /// The regions, in string order.
    pub regions: Vec<Region>,
}

impl MemoryLayout {
    /// Parse a layout string.
    pub fn parse(s: &str) -> Result<Self, LayoutError> {
        parse::parse(s)
    }

    /// The name without surrounding spaces.
    pub fn trimmed_name(&self) -> &str {
        self.name.trim()
    }

    /// The sector containing `address` (the first match if regions overlap).
    pub fn sector_at(&self, address: u32) -> Option<Sector> {
        self.sector_at_u64(u64::from(address))
    }

    fn sector_at_u64(&self, a: u64) -> Option<Sector> {
        let runs = self.regions.iter().flat_map(Region::runs);
        for (start, run) in runs {
            if a >= start && a < start.saturating_add(run.bytes()) {
                let index = (a - start) / u64::from(run.size);
                let at = start + index * u64::from(run.size);
                return Some(Sector {
                    start: u32::try_from(at).ok()?,
                    size: run.size,
                    access: run.access,
                });
            }
        }
        None
    }

    /// Every sector with at least one byte in `[address, address + len)`, sorted by address, without repeats.
    pub fn sectors_in(&self, address: u32, len: usize) -> Vec<Sector> {
        let lo = u64::from(address);
        let hi = lo.saturating_add(len as u64);
        let mut out = Vec::new();
        for (start, run) in self.regions.iter().flat_map(Region::runs) {
            let (a, b) = (lo.max(start), hi.min(start.saturating_add(run.bytes())));
            if a >= b {
                continue;
            }
            let size = u64::from(run.size);
            for index in (a - start) / size..=(b - 1 - start) / size {
                let at = start + index * size;
                if let Ok(start) = u32::try_from(at) {
                    out.push(Sector {
                        start,
                        size: run.size,
                        access: run.access,
                    });
                }
            }
        }
        out.sort_by_key(|s| s.start);
        out.dedup_by_key(|s| s.start);
        out
    }

    /// The first byte of the range outside every sector, or the first sector lacking `need`.
    pub fn check_range(
        &self,
        address: u32,
        len: usize,
        need: Access,
    ) -> Result<(), RangeViolation> {
        let mut at = u64::from(address);
        let end = at.saturating_add(len as u64);
        while at < end {
            let sector = self.sector_at_u64(at).ok_or(RangeViolation::Gap(at))?;
            if !sector.access.allows(need) {
                return Err(RangeViolation::Denied(sector));
            }
            at = sector.end();
        }
        Ok(())
    }

    /// True when every byte of the range lies in some sector.
    pub fn contains_range(&self, address: u32, len: usize) -> bool {
        self.check_range(address, len, Access::from_bits(0)).is_ok()
    }

    /// True when every byte of the range is readable.
    pub fn is_readable(&self, address: u32, len: usize) -> bool {
        let need = Access::from_bits(Access::READABLE);
        self.check_range(address, len, need).is_ok()
    }

    /// True when every byte of the range is writable.
    pub fn is_writable(&self, address: u32, len: usize) -> bool {
        let need = Access::from_bits(Access::WRITABLE);
        self.check_range(address, len, need).is_ok()
    }

    /// True when every byte of the range is erasable.
    pub fn is_erasable(&self, address: u32, len: usize) -> bool {
        let need = Access::from_bits(Access::ERASABLE);
        self.check_range(address, len, need).is_ok()
    }

    /// Total bytes described (overlaps counted twice).
    pub fn total_size(&self) -> u64 {
        self.regions
            .iter()
            .map(|r| r.end() - u64::from(r.start))
            .fold(0, u64::saturating_add)
    }
}

impl FromStr for MemoryLayout {
    type Err = LayoutError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Canonical form: re-parses to an equal layout (sizes use the largest exact multiplier, bytes use a space).
impl fmt::Display for MemoryLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.name)?;
        for region in &self.regions {
            write!(f, "/0x{:08X}/", region.start)?;
            for (i, run) in region.sectors.iter().enumerate() {
                let sep = if i == 0 { "" } else { "," };
                let (n, mult) = match run.size {
                    s if s % (1 << 20) == 0 => (s >> 20, 'M'),
                    s if s % (1 << 10) == 0 => (s >> 10, 'K'),
                    s => (s, ' '),
                };
                let letter = run.access.letter().unwrap_or('?');
                write!(f, "{sep}{:02}*{n:03}{mult}{letter}", run.count)?;
            }
        }
        Ok(())
    }
}

/// A layout string that does not follow the grammar; `position` is a byte offset into the string.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("memory layout, at byte {position}: {problem}")]
pub struct LayoutError {
    /// Byte offset of the problem.
    pub position: usize,
    /// What was wrong there.
    pub problem: LayoutProblem,
}

/// What was wrong in a layout string.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LayoutProblem {
    /// The string must start with `@`.
    #[error("expected '@' at the start")]
    MissingAt,
    /// Nothing between `@` and `/`.
    #[error("empty name")]
    EmptyName,
    /// A specific character was expected.
    #[error("expected {expected:?}, found {found:?}")]
    Expected {
        /// What the grammar wants here.
        expected: &'static str,
        /// What is there (`None` at the end of the string).
        found: Option<char>,
    },
    /// A number does not fit in 32 bits.
    #[error("number too large")]
    NumberTooLarge,
    /// Sector size zero.
    #[error("sector size is zero")]
    ZeroSize,
    /// The region runs past the 4 GiB address space.
    #[error("region runs past the end of the 32-bit address space")]
    Overflow,
}
