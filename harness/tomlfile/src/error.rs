//! [`FileError`]: what went wrong in a TOML file and where (`file:line:column: key `boards[2].usb`: message`),
//! and [`Location`], the line and column.

use std::fmt;

/// A TOML file that cannot be used. Every variant names the file (`origin`); all but `Io` also name the line
/// and column (1-based, when known) and the dotted key, e.g. `boards[2].usb`.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read; `what` says which kind of file (`file`, `board file`).
    #[error("{origin}: cannot read {what}")]
    Io {
        origin: String,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key, a missing key or a value of the wrong type.
    #[error("{origin}{location}: {}{message}", key_part(key))]
    Parse {
        origin: String,
        location: Location,
        key: String,
        message: String,
    },
    /// Well-formed but out of range, inconsistent, or naming something that does not exist.
    #[error("{origin}{location}: {}{message}", key_part(key))]
    Invalid {
        origin: String,
        location: Location,
        key: String,
        message: String,
    },
    /// A file this one refers to (a rig file, a board file) cannot be used; the cause is the source.
    #[error("{origin}{location}: key `{key}`: {what} {path} cannot be used")]
    Referenced {
        origin: String,
        location: Location,
        key: String,
        what: &'static str,
        path: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl FileError {
    /// The dotted key the error is about (empty for I/O errors).
    pub fn key(&self) -> &str {
        match self {
            FileError::Io { .. } => "",
            FileError::Parse { key, .. }
            | FileError::Invalid { key, .. }
            | FileError::Referenced { key, .. } => key,
        }
    }

    /// The 1-based line, when known.
    pub fn line(&self) -> Option<u32> {
        match self {
            FileError::Io { .. } => None,
            FileError::Parse { location, .. }
            | FileError::Invalid { location, .. }
            | FileError::Referenced { location, .. } => location.line,
        }
    }
}

/// "key `a.b`: ", or nothing when no key is known (a file that is not text, a syntax error between keys).
fn key_part(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("key `{key}`: ")
    }
}

/// A 1-based position in a file; displays as `:line:column` or nothing when unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Location {
    /// Line and column of a byte offset into `text`.
    pub fn of_offset(text: &str, offset: usize) -> Location {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |s| s.chars().count()) + 1;
        Location {
            line: u32::try_from(line).ok(),
            column: u32::try_from(column).ok(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, ":{line}:{column}"),
            (Some(line), None) => write!(f, ":{line}"),
            _ => Ok(()),
        }
    }
}
