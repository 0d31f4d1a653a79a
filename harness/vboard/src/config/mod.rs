//! The board file: one TOML file per virtual board, parsed with `deny_unknown_fields`, validated, and turned into a
//! [`BoardConfig`]. Owns parsing and validation (error locations are the `tomlfile` crate's); must not hold any run-time board state.

mod causes;
mod load;
mod sections;
mod validate;

/// A board file that cannot be used: the harness's one TOML file error, which names the file, the line, the
/// column and the dotted key (`boards/bad.toml:8:8: key `hsi.trim`: invalid type: ...`).
pub type ConfigError = tomlfile::FileError;
pub use causes::{
    FaultsConfig, LoadedOptionBytes, OptionBytesConfig, Reload, SerialConfig, SerialFormula,
};
pub use sections::{
    BoardConfig, BootloaderConfig, DebugConfig, DescriptorConfig, EnvironmentConfig,
    FlashTimingConfig, HseConfig, HseKind, HsiConfig, LinkConfig, MemoryConfig, PlantedAck,
    SupplyConfig,
};
pub(crate) use validate::MAX_POLL_MS;
