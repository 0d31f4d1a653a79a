//! TOML files people edit (board, rig, scenario and target description files): reading them into raw serde
//! structs and turning every failure into one [`FileError`] that names the file, the line, the column and the
//! dotted key (`bad.toml:3:21: key `hsi.trim`: message`). Owns text, spans, key paths and relative paths;
//! must not know what any field of any file means — it knows nothing of boards, rigs, scenarios or targets.

mod error;
mod locate;
mod source;

pub use error::{FileError, Location};
pub use locate::KeyPath;
pub use source::{load, Source};
