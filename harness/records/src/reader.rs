//! The one streaming reader of cycles.csv and steps.csv, shared by `--resume` and the report. It reads
//! complete lines only (a torn last line from a killed run is left out), checks the header and every row's
//! `schema`, decodes each row into one reused typed row, and stops at the first bad row with an error that
//! names the file, line, column and key. Memory is constant in the number of rows.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use csv::ByteRecord;

use crate::decode::{schema_of, FieldError, Record};
use crate::error::RecordError;
use crate::schema::SCHEMA_VERSION;
use crate::tail::complete_len;

/// Read buffer: large enough that the reader is not bound by system calls.
const BUFFER: usize = 1 << 20;

/// Rows of one record file (or of one chunk of it), decoded one at a time into the same value.
pub struct Rows<T> {
    path: PathBuf,
    reader: csv::Reader<std::io::Take<BufReader<File>>>,
    record: ByteRecord,
    row: T,
    /// Where the chunk starts in the file, for line numbers in errors.
    start: u64,
}

impl<T: Record> Rows<T> {
    /// Open `path`, check its header. An empty file (a run that recorded nothing yet) has no rows.
    pub fn open(path: &Path) -> Result<Self, RecordError> {
        let mut file = File::open(path).map_err(RecordError::io(path))?;
        let keep = complete_len(&mut file).map_err(RecordError::io(path))?;
        Self::open_chunk(
            path,
            &Chunk {
                start: 0,
                end: keep,
            },
        )
    }

    /// Open one chunk of `path` (from [`chunks`]); the first chunk's header is checked.
    pub fn open_chunk(path: &Path, chunk: &Chunk) -> Result<Self, RecordError> {
        let mut file = File::open(path).map_err(RecordError::io(path))?;
        file.seek(SeekFrom::Start(chunk.start))
            .map_err(RecordError::io(path))?;
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .buffer_capacity(BUFFER)
            .from_reader(BufReader::with_capacity(BUFFER, file).take(chunk.end - chunk.start));
        let mut rows = Self {
            path: path.to_path_buf(),
            reader,
            record: ByteRecord::new(),
            row: T::default(),
            start: chunk.start,
        };
        if chunk.start == 0 {
            rows.check_header()?;
        }
        Ok(rows)
    }

    /// The 1-based line in the file of the current record.
    fn line(&self) -> u64 {
        self.file_line(self.record.position().map_or(0, |p| p.line()))
    }

    /// The line in the file of line `in_chunk` of this chunk (counting the lines before it on an error path).
    fn file_line(&self, in_chunk: u64) -> u64 {
        match self.start {
            0 => in_chunk,
            start => lines_before(&self.path, start) + in_chunk,
        }
    }

    fn check_header(&mut self) -> Result<(), RecordError> {
        if !self.read_record()? {
            return Ok(());
        }
        let got: Vec<&[u8]> = self.record.iter().collect();
        if got
            .iter()
            .copied()
            .eq(T::COLUMNS.iter().map(|c| c.as_bytes()))
        {
            return Ok(());
        }
        // A header of another schema: say which version the rows are, when they say it.
        let header = self.record.clone();
        let version = self
            .read_record()?
            .then(|| schema_of(&self.record))
            .flatten();
        let message = match version {
            Some(v) if v != SCHEMA_VERSION => wrong_schema(v),
            _ => {
                let at = (0..T::COLUMNS.len().max(header.len()))
                    .find(|&i| header.get(i) != T::COLUMNS.get(i).map(|c| c.as_bytes()))
                    .unwrap_or(0);
                let found = header
                    .get(at)
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                format!(
                    "the header is not schema {SCHEMA_VERSION}'s: column {} is {found:?}, expected {:?}",
                    at + 1,
                    T::COLUMNS.get(at).copied().unwrap_or("nothing")
                )
            }
        };
        Err(RecordError::Schema {
            path: self.path.clone(),
            line: 1,
            message,
        })
    }

    fn read_record(&mut self) -> Result<bool, RecordError> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(more) => Ok(more),
            Err(source) => Err(RecordError::Csv {
                path: self.path.clone(),
                line: self.file_line(source.position().map_or(0, |p| p.line())),
                source,
            }),
        }
    }

    /// The next row, or `None` at the end of the complete rows.
    pub fn next_row(&mut self) -> Result<Option<&T>, RecordError> {
        self.next_row_where(|_| true)
    }

    /// The next row whose raw record `keep` accepts; the others are skipped without being decoded (a reader
    /// that needs a few rows of a large file).
    pub fn next_row_where(
        &mut self,
        mut keep: impl FnMut(&ByteRecord) -> bool,
    ) -> Result<Option<&T>, RecordError> {
        loop {
            if !self.read_record()? {
                return Ok(None);
            }
            if keep(&self.record) {
                return self.decode_current().map(Some);
            }
        }
    }

    fn decode_current(&mut self) -> Result<&T, RecordError> {
        if self.record.len() != T::COLUMNS.len() {
            return Err(RecordError::Schema {
                path: self.path.clone(),
                line: self.line(),
                message: format!(
                    "the row has {} fields, the header {}",
                    self.record.len(),
                    T::COLUMNS.len()
                ),
            });
        }
        if schema_of(&self.record) != Some(SCHEMA_VERSION) {
            return Err(self.schema_error(self.line()));
        }
        match self.row.decode(&self.record) {
            Ok(()) => Ok(&self.row),
            Err(e) => Err(self.field_error(self.line(), e)),
        }
    }

    fn schema_error(&self, line: u64) -> RecordError {
        let found = self
            .record
            .get(0)
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let message = match schema_of(&self.record) {
            Some(v) => wrong_schema(v),
            None => format!("schema: {found:?} is not a schema version"),
        };
        RecordError::Schema {
            path: self.path.clone(),
            line,
            message,
        }
    }

    fn field_error(&self, line: u64, e: FieldError) -> RecordError {
        let offset = self.start + self.record.position().map_or(0, |p| p.byte());
        let (lines, column) = char_column(&self.path, offset, e.column).unwrap_or((0, 0));
        RecordError::Field {
            path: self.path.clone(),
            line: line + lines,
            column,
            key: T::COLUMNS.get(e.column).copied().unwrap_or("?"),
            message: e.message,
        }
    }
}

fn wrong_schema(v: u32) -> String {
    format!(
        "schema {v}, but this hil reads schema {SCHEMA_VERSION} (the folder was written by {} hil)",
        if v < SCHEMA_VERSION {
            "an older"
        } else {
            "a newer"
        }
    )
}

/// A byte range of a record file that starts and ends at a row boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    pub start: u64,
    pub end: u64,
}

/// Below this a file is read as one chunk: splitting costs more than it saves.
const MIN_CHUNK: u64 = 16 << 20;

/// Split the complete rows of `path` into at most `parts` chunks of about equal size, each starting at a
/// row boundary: at a newline outside any quoted field (the quotes before it are even in number), so a
/// field with a newline in it is never cut. The chunks' rows, read in chunk order, are the file's rows.
pub fn chunks(path: &Path, parts: usize) -> Result<Vec<Chunk>, RecordError> {
    split(path, parts, MIN_CHUNK)
}

fn split(path: &Path, parts: usize, min_chunk: u64) -> Result<Vec<Chunk>, RecordError> {
    let mut file = File::open(path).map_err(RecordError::io(path))?;
    let len = complete_len(&mut file).map_err(RecordError::io(path))?;
    let parts = (parts.max(1) as u64).min(len / min_chunk).max(1);
    file.seek(SeekFrom::Start(0))
        .map_err(RecordError::io(path))?;
    let mut reader = BufReader::with_capacity(BUFFER, file).take(len);
    let mut bounds = vec![0];
    let (mut pos, mut quotes) = (0u64, 0u64);
    let mut buf = vec![0u8; BUFFER];
    for k in 1..parts {
        let target = len * k / parts;
        // Count quotes up to the target, then go on to the first newline with an even count.
        'find: loop {
            let n = reader.read(&mut buf).map_err(RecordError::io(path))?;
            if n == 0 {
                break 'find;
            }
            let block = &buf[..n];
            // Whole blocks before the target only need their quotes counted.
            let scan_from = target.saturating_sub(pos).min(n as u64) as usize;
            quotes += memchr::memchr_iter(b'"', &block[..scan_from]).count() as u64;
            let mut at = scan_from;
            while let Some(i) = memchr::memchr2(b'"', b'\n', &block[at..]) {
                let i = at + i;
                if block[i] == b'"' {
                    quotes += 1;
                } else if quotes % 2 == 0 {
                    let boundary = pos + i as u64 + 1;
                    bounds.push(boundary);
                    // Go on from the boundary: seeking drops the rest of the buffer.
                    let mut inner = reader.into_inner();
                    inner
                        .seek(SeekFrom::Start(boundary))
                        .map_err(RecordError::io(path))?;
                    reader = inner.take(len - boundary);
                    pos = boundary;
                    break 'find;
                }
                at = i + 1;
            }
            pos += n as u64;
        }
    }
    bounds.push(len);
    bounds.dedup();
    Ok(bounds
        .windows(2)
        .map(|w| Chunk {
            start: w[0],
            end: w[1],
        })
        .collect())
}

/// Newlines in `path` before byte `offset` (error path only: reads that much of the file again).
fn lines_before(path: &Path, offset: u64) -> u64 {
    let Ok(file) = File::open(path) else { return 0 };
    let mut reader = BufReader::with_capacity(BUFFER, file).take(offset);
    let mut buf = vec![0u8; BUFFER];
    let mut lines = 0;
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
    lines
}

/// Call `f` with every complete row of `path`, in file order; the number of rows read.
pub fn for_each<T: Record, E>(
    path: &Path,
    mut f: impl FnMut(&T) -> Result<(), E>,
) -> Result<Result<u64, E>, RecordError> {
    let mut rows = Rows::<T>::open(path)?;
    let mut n = 0;
    while let Some(row) = rows.next_row()? {
        if let Err(e) = f(row) {
            return Ok(Err(e));
        }
        n += 1;
    }
    Ok(Ok(n))
}

/// Every complete row of `path` (small files and tests; the report and resume stream instead).
pub fn read_all<T: Record + Clone>(path: &Path) -> Result<Vec<T>, RecordError> {
    let mut out = Vec::new();
    for_each(path, |r: &T| {
        out.push(r.clone());
        Ok::<(), std::convert::Infallible>(())
    })?
    .map(|_| out)
    .map_err(|never| match never {})
}

/// Where field `field` of the record at byte `offset` starts: the lines into the record (a quoted field before
/// it may hold newlines) and the 1-based character column on that line. Error path only: reads the record
/// again.
fn char_column(path: &Path, offset: u64, field: usize) -> Option<(u64, u64)> {
    let mut file = File::open(path).ok()?;
    file.seek(SeekFrom::Start(offset)).ok()?;
    let mut line = Vec::new();
    BufReader::new(file)
        .take(1 << 20)
        .read_to_end(&mut line)
        .ok()?;
    let (mut quoted, mut fields, mut start, mut line_start, mut lines) = (false, 0, 0, 0, 0);
    for (i, &b) in line.iter().enumerate() {
        if fields == field {
            break;
        }
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                fields += 1;
                start = i + 1;
            }
            b'\n' if quoted => {
                lines += 1;
                line_start = i + 1;
            }
            b'\n' => break,
            _ => {}
        }
    }
    let chars = String::from_utf8_lossy(&line[line_start..start.max(line_start)])
        .chars()
        .count();
    Some((lines, chars as u64 + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CycleRow, CYCLES_CSV};

    /// Rows whose details hold quotes, commas and newlines (as a hand-edited or foreign file may: the recorder
    /// itself writes one line per row), so a careless split would cut a field.
    fn awkward_folder(rows: u64) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut rec = csv::Writer::from_path(dir.path().join(CYCLES_CSV)).unwrap();
        for cycle in 1..=rows {
            let row = CycleRow {
                schema: crate::SCHEMA_VERSION,
                board: format!("b{}", cycle % 3),
                cycle,
                attempt: 1,
                error_detail: "x\n".repeat((cycle % 7) as usize) + "\"quoted, too\"",
                ..CycleRow::default()
            };
            rec.serialize(&row).unwrap();
        }
        rec.flush().unwrap();
        dir
    }

    #[test]
    fn chunks_read_in_order_are_the_whole_file() {
        let dir = awkward_folder(500);
        let path = dir.path().join(CYCLES_CSV);
        let whole: Vec<CycleRow> = read_all(&path).unwrap();
        for parts in [1, 2, 3, 7] {
            let chunks = split(&path, parts, 1).unwrap();
            assert_eq!(chunks.len(), parts);
            let mut rows = Vec::new();
            for c in &chunks {
                let mut r = Rows::<CycleRow>::open_chunk(&path, c).unwrap();
                while let Some(row) = r.next_row().unwrap() {
                    rows.push(row.clone());
                }
            }
            assert_eq!(rows, whole, "{parts} parts");
        }
    }

    #[test]
    fn a_short_first_row_of_a_later_chunk_is_refused() {
        let dir = awkward_folder(200);
        let path = dir.path().join(CYCLES_CSV);
        let chunks = split(&path, 2, 1).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let at = chunks[1].start as usize;
        let end = at + text[at..].find('\n').unwrap();
        let row = &text[at..end];
        let short = &row[..row.rfind(',').unwrap()];
        std::fs::write(&path, format!("{}{short}{}", &text[..at], &text[end..])).unwrap();
        let line = text[..at].matches('\n').count() + 1;
        let mut r = Rows::<CycleRow>::open_chunk(&path, &chunks[1]).unwrap();
        let err = r.next_row().unwrap_err().to_string();
        assert!(err.contains(&format!(":{line}: the row has ")), "{err}");
        assert!(err.ends_with("fields, the header 38"), "{err}");
    }

    #[test]
    fn a_column_after_a_field_with_newlines_is_counted_on_its_own_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CYCLES_CSV);
        let mut w = csv::Writer::from_path(&path).unwrap();
        let row = CycleRow {
            schema: crate::SCHEMA_VERSION,
            error_detail: "a\nbbbb".into(),
            ..CycleRow::default()
        };
        w.serialize(&row).unwrap();
        w.flush().unwrap();
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace(",0.0,0,,,", ",abc,0,,,");
        std::fs::write(&path, &text).unwrap();
        let err = read_all::<CycleRow>(&path).unwrap_err().to_string();
        // Line 2 starts the row; the field after the detail is on line 3, right after `bbbb",`.
        assert!(err.contains(":3:7: elapsed_ms: "), "{err}\n{text}");
    }

    #[test]
    fn an_error_in_a_later_chunk_names_its_line_in_the_file() {
        let dir = awkward_folder(200);
        let path = dir.path().join(CYCLES_CSV);
        let text = std::fs::read_to_string(&path).unwrap();
        let v = crate::SCHEMA_VERSION;
        let cut = text.rfind(&format!("\n{v},")).unwrap() + 1;
        let line = text[..cut].matches('\n').count() + 1;
        std::fs::write(
            &path,
            format!("{}{v},t,inf{}", &text[..cut], &text[cut + 5..]),
        )
        .unwrap();
        let chunks = split(&path, 2, 1).unwrap();
        let mut r = Rows::<CycleRow>::open_chunk(&path, &chunks[1]).unwrap();
        let err = loop {
            match r.next_row() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("no error"),
                Err(e) => break e,
            }
        };
        assert!(
            err.to_string().contains(&format!(":{line}:5: time_s:")),
            "{err} (line {line})"
        );
    }
}
