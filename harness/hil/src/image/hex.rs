//! Intel HEX reader: records 00 (data), 01 (end of file), 02 (extended segment address), 04 (extended
//! linear address), 05 (start linear address, kept as the entry point); 03 (8086 CS:IP start) is ignored.

use ihex::Record;

use super::{Image, ImageError, ImageErrorKind, Segment};

/// Parse a whole HEX file. Lines are numbered from 1 as an editor shows them; blank lines are skipped.
pub(super) fn parse(bytes: &[u8]) -> Result<Image, ImageError> {
    let mut state = State::default();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = raw.trim_ascii();
        if line.is_empty() {
            continue;
        }
        state
            .line(line)
            .map_err(|kind| ImageError::from(kind).at_line(index + 1))?;
    }
    if !state.seen_eof {
        return Err(ImageErrorKind::HexNoEndOfFile.into());
    }
    state.finish()
}

#[derive(Default)]
struct State {
    base: u32,
    runs: Vec<Segment>,
    entry_point: Option<u32>,
    seen_eof: bool,
}

impl State {
    fn line(&mut self, line: &[u8]) -> Result<(), ImageErrorKind> {
        let text = std::str::from_utf8(line).map_err(|_| ImageErrorKind::HexNotText)?;
        let record = Record::from_record_string(text).map_err(|e| match e {
            ihex::ReaderError::ChecksumMismatch(computed, in_record) => {
                ImageErrorKind::HexChecksum {
                    in_record,
                    computed,
                }
            }
            e => ImageErrorKind::HexRecord(e),
        })?;
        if self.seen_eof {
            return Err(ImageErrorKind::HexAfterEndOfFile);
        }
        match record {
            Record::Data { offset, value } => self.data(self.base + u32::from(offset), value),
            Record::EndOfFile => self.seen_eof = true,
            Record::ExtendedSegmentAddress(segment) => self.base = u32::from(segment) << 4,
            Record::ExtendedLinearAddress(upper) => self.base = u32::from(upper) << 16,
            Record::StartLinearAddress(entry) => self.entry_point = Some(entry),
            Record::StartSegmentAddress { .. } => {}
        }
        Ok(())
    }

    /// Records usually follow each other; extend the current run instead of making a segment per record.
    fn data(&mut self, address: u32, value: Vec<u8>) {
        match self.runs.last_mut() {
            Some(run) if run.end() == u64::from(address) => run.data.extend_from_slice(&value),
            _ => self.runs.push(Segment::new(address, value)),
        }
    }

    fn finish(self) -> Result<Image, ImageError> {
        Ok(Image::new(self.runs)?.with_entry_point(self.entry_point))
    }
}
