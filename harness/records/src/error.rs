//! [`RecordError`]: a record file that cannot be written or read, naming the file and, for a bad row, its
//! line, column and key, so a hand-edited or damaged CSV can be found and mended.

use std::io;
use std::path::PathBuf;

/// A record file that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Not CSV: unequal field counts, unbalanced quotes.
    #[error("{path}:{line}")]
    Csv {
        path: PathBuf,
        line: u64,
        #[source]
        source: csv::Error,
    },
    /// A field that does not hold what its column means. `column` is 1-based, in characters.
    #[error("{path}:{line}:{column}: {key}: {message}")]
    Field {
        path: PathBuf,
        line: u64,
        column: u64,
        key: &'static str,
        message: String,
    },
    /// The header or the schema version is not the one this harness writes.
    #[error("{path}:{line}: {message}")]
    Schema {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// Something other than this recorder wrote to, cut or replaced the file since its last row: an exec step's
    /// tool, another hil on the same folder, an editor. Nothing more is appended to it.
    #[error(
        "{path}: changed by something other than hil since its last row (appended to, cut or replaced: {expected} \
         bytes then, {found} now; an exec step's command, another hil on the same folder?); nothing more is written \
         to it"
    )]
    Changed {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    /// manifest.json is not JSON of the expected shape.
    #[error("{path}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl RecordError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(io::Error) -> RecordError + '_ {
        move |source| RecordError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
