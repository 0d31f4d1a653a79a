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

/// Rows of one record file, decoded one at a time into the same value.
pub struct Rows<T> {
    path: PathBuf,
    reader: csv::Reader<std::io::Take<BufReader<File>>>,
    record: ByteRecord,
    row: T,
}

impl<T: Record> Rows<T> {
    /// Open `path`, check its header. An empty file (a run that recorded nothing yet) has no rows.
    pub fn open(path: &Path) -> Result<Self, RecordError> {
        let mut file = File::open(path).map_err(RecordError::io(path))?;
        let keep = complete_len(&mut file).map_err(RecordError::io(path))?;
        file.seek(SeekFrom::Start(0))
            .map_err(RecordError::io(path))?;
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .buffer_capacity(BUFFER)
            .from_reader(BufReader::with_capacity(BUFFER, file).take(keep));
        let mut rows = Self {
            path: path.to_path_buf(),
            reader,
            record: ByteRecord::new(),
            row: T::default(),
        };
        rows.check_header()?;
        Ok(rows)
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
        self.reader
            .read_byte_record(&mut self.record)
            .map_err(|source| RecordError::Csv {
                path: self.path.clone(),
                line: source.position().map_or(0, |p| p.line()),
                source,
            })
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
        let line = self.record.position().map_or(0, |p| p.line());
        if schema_of(&self.record) != Some(SCHEMA_VERSION) {
            return Err(self.schema_error(line));
        }
        match self.row.decode(&self.record) {
            Ok(()) => Ok(&self.row),
            Err(e) => Err(self.field_error(line, e)),
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
        let offset = self.record.position().map_or(0, |p| p.byte());
        RecordError::Field {
            path: self.path.clone(),
            line,
            column: char_column(&self.path, offset, e.column).unwrap_or(0),
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

/// The 1-based character column where field `field` of the record at byte `offset` starts (error path only:
/// reads that line again).
fn char_column(path: &Path, offset: u64, field: usize) -> Option<u64> {
    let mut file = File::open(path).ok()?;
    file.seek(SeekFrom::Start(offset)).ok()?;
    let mut line = Vec::new();
    BufReader::new(file)
        .take(1 << 20)
        .read_to_end(&mut line)
        .ok()?;
    let (mut quoted, mut fields, mut start) = (false, 0, 0);
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
            b'\n' if !quoted => break,
            _ => {}
        }
    }
    let chars = String::from_utf8_lossy(&line[..start]).chars().count();
    Some(chars as u64 + 1)
}
