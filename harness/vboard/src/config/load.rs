//! Loading board files: text → serde → validation, with errors that point at file, line and key.

use std::path::Path;

use tomlfile::{KeyPath, Source};

use super::sections::BoardConfig;
use super::validate;
use super::ConfigError;

/// The built-in healthy board: the same text as `fixtures/boards/healthy-25mhz.toml`.
const HEALTHY_25MHZ: &str = include_str!("../../../../fixtures/boards/healthy-25mhz.toml");

impl BoardConfig {
    /// Reads and validates a board file.
    pub fn load(path: &Path) -> Result<BoardConfig, ConfigError> {
        BoardConfig::from_source(&Source::read_as(path, "board file")?)
    }

    /// Parses and validates board-file text; `origin` names it in errors (usually the path).
    pub fn from_toml_str(text: &str, origin: &str) -> Result<BoardConfig, ConfigError> {
        BoardConfig::from_source(&Source::new(text.to_string(), Path::new(origin)))
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
        self.check(&Source::new(String::new(), Path::new("(in memory)")))
    }

    fn from_source(src: &Source) -> Result<BoardConfig, ConfigError> {
        let config: BoardConfig = src.parse()?;
        config.check(src)?;
        Ok(config)
    }

    fn check(&self, src: &Source) -> Result<(), ConfigError> {
        validate::validate(self)
            .map_err(|(key, message)| src.invalid(&KeyPath::dotted(key), message))
    }
}
