//! cycles.csv and steps.csv: created with a header, appended one row at a time, each row flushed to the OS
//! the moment it is written. A kill between rows loses nothing; a kill inside a row can leave a torn last
//! line, which [`repair_torn_tail`] cuts off before a resumed run appends.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::schema::{CycleRow, StepRow};

/// File names inside a run folder.
pub const CYCLES_CSV: &str = "cycles.csv";
pub const STEPS_CSV: &str = "steps.csv";

/// A record file that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> RecordError + '_ {
    move |source| RecordError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn csv_err(path: &Path) -> impl FnOnce(csv::Error) -> RecordError + '_ {
    move |source| RecordError::Csv {
        path: path.to_path_buf(),
        source,
    }
}

/// One CSV file being appended to, flushed after every row.
struct Table {
    path: PathBuf,
    writer: csv::Writer<File>,
}

impl Table {
    /// Open `path` for appending; writes the header when the file is new or empty.
    fn open(path: PathBuf) -> Result<Self, RecordError> {
        repair_torn_tail(&path)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        let empty = file.metadata().map_err(io_err(&path))?.len() == 0;
        let writer = csv::WriterBuilder::new()
            .has_headers(empty)
            .from_writer(file);
        Ok(Self { path, writer })
    }

    fn append(&mut self, row: &impl Serialize) -> Result<(), RecordError> {
        self.writer.serialize(row).map_err(csv_err(&self.path))?;
        self.writer.flush().map_err(io_err(&self.path))
    }
}

/// Appends cycle and step rows to a run folder.
pub struct Recorder {
    cycles: Table,
    steps: Table,
}

impl Recorder {
    /// Open (or create) the record files in `dir`.
    pub fn open(dir: &Path) -> Result<Self, RecordError> {
        Ok(Self {
            cycles: Table::open(dir.join(CYCLES_CSV))?,
            steps: Table::open(dir.join(STEPS_CSV))?,
        })
    }

    /// Write and flush one cycles.csv row.
    pub fn cycle(&mut self, row: &CycleRow) -> Result<(), RecordError> {
        self.cycles.append(row)
    }

    /// Write and flush one steps.csv row.
    pub fn step(&mut self, row: &StepRow) -> Result<(), RecordError> {
        self.steps.append(row)
    }
}

/// Cut a partial last line (a row torn by a kill) off `path`, so the file ends at a row boundary.
/// A missing file is fine.
pub fn repair_torn_tail(path: &Path) -> Result<(), RecordError> {
    let mut file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(path)(e)),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io_err(path))?;
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if keep < bytes.len() {
        file.set_len(keep as u64).map_err(io_err(path))?;
        file.seek(SeekFrom::End(0)).map_err(io_err(path))?;
    }
    Ok(())
}

/// Every row of a record file. A torn last line (the run was killed mid-write) is skipped, not an error.
pub fn read_rows<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, RecordError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io_err(path))?;
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut reader = csv::Reader::from_reader(&bytes[..keep]);
    reader
        .deserialize()
        .collect::<Result<Vec<T>, _>>()
        .map_err(csv_err(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(board: &str, cycle: u64) -> CycleRow {
        CycleRow {
            schema: 1,
            board: board.into(),
            phase: "p".into(),
            cycle,
            attempt: 1,
            ..CycleRow::default()
        }
    }

    #[test]
    fn rows_round_trip_and_appending_keeps_one_header() {
        let dir = tempdir("round_trip");
        Recorder::open(&dir).unwrap().cycle(&row("a", 1)).unwrap();
        Recorder::open(&dir).unwrap().cycle(&row("b", 2)).unwrap();
        let rows: Vec<CycleRow> = read_rows(&dir.join(CYCLES_CSV)).unwrap();
        assert_eq!(rows, vec![row("a", 1), row("b", 2)]);
    }

    #[test]
    fn a_torn_last_line_is_skipped_when_reading_and_cut_before_appending() {
        let dir = tempdir("torn");
        Recorder::open(&dir).unwrap().cycle(&row("a", 1)).unwrap();
        let path = dir.join(CYCLES_CSV);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("1,2026-11-23T00:00:00Z,0.5,b,p,2,1,fal");
        std::fs::write(&path, &text).unwrap();
        assert_eq!(read_rows::<CycleRow>(&path).unwrap().len(), 1);
        Recorder::open(&dir).unwrap().cycle(&row("c", 3)).unwrap();
        let rows: Vec<CycleRow> = read_rows(&path).unwrap();
        assert_eq!(rows, vec![row("a", 1), row("c", 3)]);
    }

    fn tempdir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("hil-records-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
