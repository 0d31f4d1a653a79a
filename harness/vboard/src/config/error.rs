//! [`ConfigError`]: what went wrong in a board file and where (file, line, column, key).

use std::fmt;

/// A board file that cannot be used. Every variant names the file (`origin`); parse and validation errors also
/// name the line, the column (1-based) and the dotted key, e.g. `hsi.trim`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{origin}: cannot read board file")]
    Io {
        origin: String,
        #[source]
        source: std::io::Error,
    },
    /// Not valid TOML, an unknown key, or a value of the wrong type.
    #[error("{origin}{location}: key `{key}`: {message}")]
    Parse {
        origin: String,
        location: Location,
        key: String,
        message: String,
    },
    /// Well-formed but out of range or inconsistent.
    #[error("{origin}{location}: key `{key}`: {message}")]
    Invalid {
        origin: String,
        location: Location,
        key: String,
        message: String,
    },
}

impl ConfigError {
    /// The dotted key the error is about (empty for I/O errors).
    pub fn key(&self) -> &str {
        match self {
            ConfigError::Io { .. } => "",
            ConfigError::Parse { key, .. } | ConfigError::Invalid { key, .. } => key,
        }
    }

    /// The 1-based line, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Io { .. } => None,
            ConfigError::Parse { location, .. } | ConfigError::Invalid { location, .. } => {
                location.line
            }
        }
    }
}

/// A 1-based position in the board file; displays as `:line:column` or nothing when unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    pub line: Option<usize>,
    pub column: Option<usize>,
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
