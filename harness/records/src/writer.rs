//! cycles.csv and steps.csv being written: created with a header, appended one row at a time, each row
//! flushed to the OS the moment it is written. A kill between rows loses nothing; a kill inside a row can
//! leave a torn last line, which [`Recorder::open`] cuts off before appending.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::decode::Record;
use crate::error::RecordError;
use crate::folder::{CYCLES_CSV, STEPS_CSV};
use crate::reader::Rows;
use crate::schema::{CycleRow, StepRow, CYCLE_COLUMNS, STEP_COLUMNS};
use crate::tail::complete_len;

/// One CSV file being appended to, flushed after every row. `len` is its length after our last row, counted
/// from the bytes we wrote: a file of another length was written by someone else, and one that is no longer the
/// file at `path` (replaced by a rename) is not ours any more; neither is appended to (a row of ours after a
/// foreign one would hide where the damage is).
struct Table {
    path: PathBuf,
    writer: csv::Writer<Counted>,
    len: u64,
    /// (device, inode) of the file we opened.
    identity: (u64, u64),
}

/// A file that counts the bytes written to it.
struct Counted {
    file: File,
    written: u64,
}

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

fn identity(m: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino())
}

impl Table {
    /// Open `path` for appending, first cutting a torn last line; the header is written with the first row
    /// of a new or empty file.
    fn open(path: PathBuf) -> Result<Self, RecordError> {
        let io = |e| RecordError::io(&path)(e);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io)?;
        let keep = complete_len(&mut file).map_err(io)?;
        file.set_len(keep).map_err(io)?;
        drop(file);
        let file = OpenOptions::new().append(true).open(&path).map_err(io)?;
        let identity = identity(&file.metadata().map_err(io)?);
        let writer = csv::WriterBuilder::new()
            .has_headers(keep == 0)
            .from_writer(Counted { file, written: 0 });
        Ok(Self {
            path,
            writer,
            len: keep,
            identity,
        })
    }

    fn append(&mut self, row: &impl Serialize) -> Result<(), RecordError> {
        self.check()?;
        let before = self.writer.get_ref().written;
        let written = self
            .writer
            .serialize(row)
            .map_err(|source| RecordError::Csv {
                path: self.path.clone(),
                line: 0,
                source,
            })
            .and_then(|()| self.writer.flush().map_err(RecordError::io(&self.path)));
        // Bytes of a failed write that reached the file are ours too: the next row must not blame another writer.
        self.len += self.writer.get_ref().written - before;
        written?;
        // Bytes someone else appended while we wrote would otherwise be taken for ours.
        self.check()
    }

    /// The file at `path` is still ours and has the length our rows gave it.
    fn check(&self) -> Result<(), RecordError> {
        let open = self
            .writer
            .get_ref()
            .file
            .metadata()
            .map_err(RecordError::io(&self.path))?;
        let changed = |found| RecordError::Changed {
            path: self.path.clone(),
            expected: self.len,
            found,
        };
        match std::fs::metadata(&self.path) {
            Ok(at_path) if identity(&at_path) == self.identity => {}
            // Renamed over or deleted: what is at the path now is not what we have been writing.
            Ok(at_path) => return Err(changed(at_path.len())),
            Err(_) => return Err(changed(0)),
        }
        match open.len() {
            found if found == self.len => Ok(()),
            found => Err(changed(found)),
        }
    }
}

/// `text` on one line, when it has line breaks: every row the recorder writes is one line, so the last newline
/// in a file is always a row boundary and a row torn by a kill is always the text after it.
fn one_line(text: &str) -> Option<String> {
    text.contains(['\n', '\r'])
        .then(|| text.replace("\r\n", " ").replace(['\n', '\r'], " "))
}

/// Appends cycle and step rows to a run folder.
pub struct Recorder {
    cycles: Table,
    steps: Table,
}

impl Recorder {
    /// Write the record files of a new run folder, each holding only its header, so that a run folder is
    /// complete before its first cycle (and a reader of it finds the schema's columns, not an empty file).
    pub fn create(dir: &Path) -> Result<(), RecordError> {
        header_only(&dir.join(CYCLES_CSV), &CYCLE_COLUMNS)?;
        header_only(&dir.join(STEPS_CSV), &STEP_COLUMNS)
    }

    /// Open (or create) the record files in `dir`.
    pub fn open(dir: &Path) -> Result<Self, RecordError> {
        Ok(Self {
            cycles: Table::open(dir.join(CYCLES_CSV))?,
            steps: Table::open(dir.join(STEPS_CSV))?,
        })
    }

    /// Write and flush one cycles.csv row.
    pub fn cycle(&mut self, row: &CycleRow) -> Result<(), RecordError> {
        match one_line(&row.error_detail) {
            None => self.cycles.append(row),
            Some(detail) => self.cycles.append(&CycleRow {
                error_detail: detail,
                ..row.clone()
            }),
        }
    }

    /// Write and flush one steps.csv row.
    pub fn step(&mut self, row: &StepRow) -> Result<(), RecordError> {
        match one_line(&row.detail) {
            None => self.steps.append(row),
            Some(detail) => self.steps.append(&StepRow {
                detail,
                ..row.clone()
            }),
        }
    }
}

fn header_only(path: &Path, columns: &[&str]) -> Result<(), RecordError> {
    let csv = |source| RecordError::Csv {
        path: path.to_path_buf(),
        line: 1,
        source,
    };
    let mut w = csv::Writer::from_path(path).map_err(csv)?;
    w.write_record(columns).map_err(csv)?;
    w.flush().map_err(RecordError::io(path))
}

/// Rewrite `path` keeping only the rows `keep` accepts, atomically (a kill leaves the old file or the new
/// one). Returns how many rows were dropped.
pub fn retain<T: Record>(
    path: &Path,
    mut keep: impl FnMut(&T) -> bool,
) -> Result<u64, RecordError> {
    let tmp = path.with_extension("csv.tmp");
    let csv = |source| RecordError::Csv {
        path: tmp.clone(),
        line: 0,
        source,
    };
    let mut w = csv::Writer::from_path(&tmp).map_err(csv)?;
    let mut rows = Rows::<T>::open(path)?;
    let mut dropped = 0;
    while let Some(row) = rows.next_row()? {
        if keep(row) {
            w.serialize(row).map_err(csv)?;
        } else {
            dropped += 1;
        }
    }
    w.flush().map_err(RecordError::io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(RecordError::io(path))?;
    Ok(dropped)
}
