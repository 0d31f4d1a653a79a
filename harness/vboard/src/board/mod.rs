//! The board: power, boots, the bootloader's USB control pipe and the glue between the DFU machine, the clock
//! model, the failure model and fault injection. Owns run-time state; the pieces it glues own the rules.

mod control;
mod leave;
mod power;
mod types;

pub use power::Board;
pub use types::{BootRecord, Completion, ResetCause, RunMode, UsbError, NO_RESPONSE_HOLD};
