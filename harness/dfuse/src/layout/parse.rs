//! The layout-string parser: a byte cursor that reports the position of the first thing it cannot accept.

use super::{Access, LayoutError, LayoutProblem, MemoryLayout, Region, SectorRun};

/// Parse `@<name>/0x<addr>/<runs>[/0x<addr>/<runs>...]`.
pub(super) fn parse(s: &str) -> Result<MemoryLayout, LayoutError> {
    let mut c = Cursor { s, pos: 0 };
    if !c.eat(b'@') {
        return Err(c.error(LayoutProblem::MissingAt));
    }
    let name = c.name()?;
    let mut regions = vec![c.region()?];
    while c.peek().is_some() {
        regions.push(c.region()?);
    }
    Ok(MemoryLayout { name, regions })
}

struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn found(&self) -> Option<char> {
        self.s.get(self.pos..).and_then(|rest| rest.chars().next())
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.pos += usize::from(hit);
        hit
    }

    fn error(&self, problem: LayoutProblem) -> LayoutError {
        LayoutError {
            position: self.pos,
            problem,
        }
    }

    fn expected(&self, expected: &'static str) -> LayoutError {
        self.error(LayoutProblem::Expected {
            expected,
            found: self.found(),
        })
    }

    fn expect(&mut self, b: u8, expected: &'static str) -> Result<(), LayoutError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.expected(expected))
        }
    }

    /// Everything up to the first `/`, which must exist.
    fn name(&mut self) -> Result<String, LayoutError> {
        let rest = self.s.get(self.pos..).unwrap_or("");
        let Some(len) = rest.find('/') else {
            self.pos = self.s.len();
            return Err(self.expected("'/' after the name"));
        };
        if len == 0 {
            return Err(self.error(LayoutProblem::EmptyName));
        }
        self.pos += len;
        Ok(rest[..len].to_string())
    }

    /// `/0x<addr>/<run>[,<run>...]`
    fn region(&mut self) -> Result<Region, LayoutError> {
        self.expect(b'/', "'/' before an address")?;
        self.expect(b'0', "'0x'")?;
        if !(self.eat(b'x') || self.eat(b'X')) {
            return Err(self.expected("'0x'"));
        }
        let start = self.number(16)?;
        self.expect(b'/', "'/' after the address")?;
        let mut end = u64::from(start);
        let mut sectors = Vec::new();
        loop {
            let run = self.run()?;
            end += u64::from(run.count) * u64::from(run.size);
            if end > 1 << 32 {
                return Err(self.error(LayoutProblem::Overflow));
            }
            sectors.push(run);
            if !self.eat(b',') {
                break;
            }
        }
        Ok(Region { start, sectors })
    }

    /// `<NN>*<size><mult><type>`
    fn run(&mut self) -> Result<SectorRun, LayoutError> {
        let count = self.number(10)?;
        self.expect(b'*', "'*' after the sector count")?;
        let size_at = self.pos;
        let size = self.number(10)?;
        let shift = match self.peek() {
            Some(b'B' | b' ') => Some(0),
            Some(b'K') => Some(10),
            Some(b'M') => Some(20),
            _ => None,
        };
        self.pos += usize::from(shift.is_some());
        let shift = shift.unwrap_or(0);
        let size = u32::try_from(u64::from(size) << shift).map_err(|_| LayoutError {
            position: size_at,
            problem: LayoutProblem::NumberTooLarge,
        })?;
        if size == 0 {
            return Err(LayoutError {
                position: size_at,
                problem: LayoutProblem::ZeroSize,
            });
        }
        let access = self
            .peek()
            .and_then(|b| Access::from_letter(char::from(b)))
            .ok_or_else(|| self.expected("a type letter 'a'..'g'"))?;
        self.pos += 1;
        Ok(SectorRun {
            count,
            size,
            access,
        })
    }

    /// One or more digits in `radix`, fitting in a u32.
    fn number(&mut self, radix: u32) -> Result<u32, LayoutError> {
        let start = self.pos;
        let mut value: u32 = 0;
        while let Some(d) = self.peek().and_then(|b| char::from(b).to_digit(radix)) {
            value = value
                .checked_mul(radix)
                .and_then(|v| v.checked_add(d))
                .ok_or(LayoutError {
                    position: start,
                    problem: LayoutProblem::NumberTooLarge,
                })?;
            self.pos += 1;
        }
        if self.pos == start {
            let what = if radix == 16 { "hex digits" } else { "digits" };
            return Err(self.expected(what));
        }
        Ok(value)
    }
}
