//! Loading board files: text → serde → validation, with errors that point at file, line and key.

use std::path::Path;

use super::error::{ConfigError, Location};
use super::locate;
use super::sections::BoardConfig;
use super::validate;

/// The built-in healthy board: the same text as `fixtures/boards/healthy-25mhz.toml`.
const HEALTHY_25MHZ: &str = include_str!("../../../../fixtures/boards/healthy-25mhz.toml");

impl BoardConfig {
    /// Reads and validates a board file.
    pub fn load(path: &Path) -> Result<BoardConfig, ConfigError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            origin: origin.clone(),
            source,
        })?;
        BoardConfig::from_toml_str(&text, &origin)
    }

    /// Parses and validates board-file text; `origin` names it in errors (usually the path).
    pub fn from_toml_str(text: &str, origin: &str) -> Result<BoardConfig, ConfigError> {
        let config: BoardConfig =
            toml::from_str(text).map_err(|e| parse_error(text, origin, &e))?;
        config.check(text, origin)?;
        Ok(config)
    }

    /// The built-in healthy 25 MHz board (`fixtures/boards/healthy-25mhz.toml`).
    pub fn healthy_default() -> BoardConfig {
        // The text is compiled in and covered by a test; failing here is a build defect, not an input error.
        BoardConfig::from_toml_str(HEALTHY_25MHZ, "healthy-25mhz.toml (built in)")
            .expect("the built-in healthy board file is valid")
    }

    /// The board's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Re-checks ranges, e.g. after a test changed a field. Errors carry no line (there is no text).
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check("", "(in memory)")
    }

    fn check(&self, text: &str, origin: &str) -> Result<(), ConfigError> {
        validate::validate(self).map_err(|(key, message)| ConfigError::Invalid {
            origin: origin.to_string(),
            location: locate::find_key(text, key),
            key: key.to_string(),
            message,
        })
    }
}

fn parse_error(text: &str, origin: &str, error: &toml::de::Error) -> ConfigError {
    let span = error.span().unwrap_or(0..0);
    let whole_document = span.is_empty() || (span.start == 0 && span.end >= text.trim_end().len());
    let location = if whole_document {
        Location::default()
    } else {
        locate::position(text, span.start)
    };
    let section = if whole_document {
        String::new()
    } else {
        locate::key_at(text, span.start)
    };
    let key = match missing_field(error.message()) {
        Some(field) if section.is_empty() => field,
        Some(field) => format!("{section}.{field}"),
        None => section,
    };
    ConfigError::Parse {
        origin: origin.to_string(),
        location,
        key,
        message: error.message().trim().to_string(),
    }
}

/// serde names a missing field in its message (`missing field `name``) rather than in the span.
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next().map(str::to_string)
}
