//! The board file: one TOML file per virtual board, parsed with `deny_unknown_fields`, validated, and turned into a
//! [`BoardConfig`]. Owns parsing, validation and error locations; must not hold any run-time board state.

mod error;
mod load;
mod locate;
mod sections;
mod validate;

pub use error::{ConfigError, Location};
pub use sections::{
    BoardConfig, BootloaderConfig, DescriptorConfig, EnvironmentConfig, FlashTimingConfig,
    HseConfig, HseKind, HsiConfig, LinkConfig, MemoryConfig,
};
pub(crate) use validate::MAX_POLL_MS;
