//! [`Source`]: one file's text, its origin and its key index — turns serde and validation failures into
//! located [`FileError`]s and resolves paths written in the file relative to the file.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::error::{FileError, Location};
use super::locate::{KeyPath, SpanIndex};

/// The text of one TOML file, ready to be parsed and to locate errors.
#[derive(Debug)]
pub struct Source {
    origin: String,
    path: PathBuf,
    text: String,
    index: SpanIndex,
}

impl Source {
    /// Reads `path`; an error says `cannot read file`.
    pub fn read(path: &Path) -> Result<Source, FileError> {
        Source::read_as(path, "file")
    }

    /// Reads `path`; an error says `cannot read {what}` (e.g. `board file`).
    pub fn read_as(path: &Path, what: &'static str) -> Result<Source, FileError> {
        let bytes = std::fs::read(path).map_err(|source| FileError::Io {
            origin: path.display().to_string(),
            what,
            source,
        })?;
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Source::new(text, path)),
            Err(e) => {
                // Name the line and column of the first byte that is not UTF-8, counted in the valid part.
                let good = e.utf8_error().valid_up_to();
                let valid = String::from_utf8_lossy(&e.as_bytes()[..good]).into_owned();
                Err(FileError::Parse {
                    origin: path.display().to_string(),
                    location: Location::of_offset(&valid, good),
                    key: String::new(),
                    message: format!(
                        "not UTF-8 text (byte {good} of the file); TOML files must be UTF-8"
                    ),
                })
            }
        }
    }

    /// Text that claims to come from `path` (relative paths in it resolve against `path`'s folder).
    pub fn new(text: String, path: &Path) -> Source {
        Source {
            origin: path.display().to_string(),
            path: path.to_path_buf(),
            index: SpanIndex::new(&text),
            text,
        }
    }

    /// The file's name as errors show it.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The file's path as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Deserializes the whole text; unknown keys, missing keys and wrong types become [`FileError::Parse`].
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, FileError> {
        toml::from_str(&self.text).map_err(|e| self.parse_error(&e))
    }

    /// A validation failure about `key`, located where the key (or its nearest parent) is written.
    pub fn invalid(&self, key: &KeyPath, message: impl Into<String>) -> FileError {
        FileError::Invalid {
            origin: self.origin.clone(),
            location: self.locate(key),
            key: key.to_string(),
            message: message.into(),
        }
    }

    /// A file named at `key` (a rig file, a board file) that failed to load with `source`.
    pub fn referenced(
        &self,
        key: &KeyPath,
        what: &'static str,
        path: &Path,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> FileError {
        FileError::Referenced {
            origin: self.origin.clone(),
            location: self.locate(key),
            key: key.to_string(),
            what,
            path: path.display().to_string(),
            source: Box::new(source),
        }
    }

    /// A path written in the file, resolved against the file's folder (absolute paths stay as they are).
    pub fn resolve(&self, written: &str) -> PathBuf {
        let dir = self.path.parent().unwrap_or(Path::new(""));
        dir.join(written)
    }

    /// Where `key` (or its nearest written parent) is written; no location when neither is.
    pub fn locate(&self, key: &KeyPath) -> Location {
        self.index
            .span_of(key)
            .map(|span| Location::of_offset(&self.text, span.start))
            .unwrap_or_default()
    }

    fn parse_error(&self, error: &toml::de::Error) -> FileError {
        let span = error.span().unwrap_or(0..0);
        let missing = missing_field(error.message());
        // A missing key's span is the table it belongs to; the root table's span can also be its only key's.
        let at = missing
            .as_ref()
            .and_then(|_| self.index.table_spanning(&span))
            .unwrap_or_else(|| self.index.path_at(span.start));
        // serde's span for the document root starts at 0 and is held by no key; it may stop short of the end
        // (trailing comments), so the end is not compared. A syntax error is never about the whole document,
        // even where its span is too: empty at the end of the text, or at 0 before the first key.
        let syntax = toml_edit::ImDocument::parse(self.text.as_str()).is_err();
        let whole = !syntax
            && (span.is_empty() || (span.start == 0 && (at.is_root() || !self.index.holds(&span))));
        let (location, path) = if syntax {
            // At the error itself, in the key whose `key = value` holds it (none when it is between keys).
            let holds = |p: &KeyPath| self.index.exact(p).is_some_and(|s| s.contains(&span.start));
            let path = if holds(&at) { at } else { KeyPath::root() };
            (Location::of_offset(&self.text, span.start), path)
        } else if whole {
            (Location::default(), KeyPath::root())
        } else {
            let path = self.refine(at, error.message(), &span);
            // Point at the error itself (a wrong value) when it lies inside the key's `key = value`; at the key
            // when the key is a table header or serde's span is wider than the key (inside a tagged enum).
            let start = match self.index.exact(&path) {
                Some(s)
                    if !self.index.is_table(&path)
                        && s.contains(&span.start)
                        && span.end <= s.end =>
                {
                    span.start
                }
                Some(s) => s.start,
                None => span.start,
            };
            (Location::of_offset(&self.text, start), path)
        };
        let key = match missing {
            Some(field) => path.key(&field).to_string(),
            None => path.to_string(),
        };
        FileError::Parse {
            origin: self.origin.clone(),
            location,
            key,
            message: error.message().trim().to_string(),
        }
    }
}

/// Reads `path` (an error says `cannot read {what}`) and deserializes it into `T`, usually a raw struct with
/// `deny_unknown_fields`; returns the source too, for validation errors and relative paths.
pub fn load<T: DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<(Source, T), FileError> {
    let source = Source::read_as(path, what)?;
    let value = source.parse()?;
    Ok((source, value))
}

impl Source {
    /// Serde errors inside internally tagged enums (steps) point at the whole table; the message still names
    /// the unknown field or the unknown value, which picks out the key within it.
    fn refine(&self, path: KeyPath, message: &str, span: &std::ops::Range<usize>) -> KeyPath {
        if let Some(field) = quoted_after(message, "unknown field `") {
            // Inside a tagged enum, serde's span is the whole array of tables, and the unknown key may be in any
            // of them or in an inline table within one (`image = { paht = "app.bin" }`).
            let expected = expected_fields(message);
            if let Some(key) = self.index.unknown_key(&path, &field, span, &expected) {
                return key;
            }
        }
        if let Some(value) = quoted_after(message, "unknown variant `") {
            let written = |span: &std::ops::Range<usize>| {
                let text = self.text.get(span.clone()).unwrap_or("").trim_end();
                text.ends_with(&format!("\"{value}\"")) || text.ends_with(&format!("'{value}'"))
            };
            let child = self.index.children(&path).find(|(_, span)| written(span));
            if let Some((child, _)) = child {
                return child.clone();
            }
        }
        path
    }
}

/// The fields serde lists after "expected" in an unknown-field message (``expected one of `a`, `b` ``).
fn expected_fields(message: &str) -> Vec<String> {
    let Some((_, list)) = message.split_once("expected") else {
        return Vec::new();
    };
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    rest.split('`').next().map(str::to_string)
}

/// serde names a missing field in its message (``missing field `name` ``) rather than in the span.
fn missing_field(message: &str) -> Option<String> {
    quoted_after(message, "missing field `")
}
