//! Files people edit (rig and scenario files): reading TOML into raw serde structs and turning every failure
//! into a [`FileError`] that names the file, the line, the column and the dotted key. Owns text, spans and
//! relative paths; must not know what any rig or scenario field means.

mod error;
mod locate;
mod source;

pub use error::{FileError, Location};
pub use locate::KeyPath;
pub use source::Source;
