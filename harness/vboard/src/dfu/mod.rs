//! The device side of DfuSe (AN3156) as the ROM runs it: the DFU state machine, the DfuSe commands and the
//! block-number addressing. Owns DFU state; must not know about bus timing, faults or the failure model.

mod answer;
mod exec;
mod machine;
mod state;

pub(crate) use answer::{After, Answer, Ctx};
pub(crate) use machine::Dfu;
pub use state::{DfuState, DfuStatus};

/// DfuSe command opcodes (DNLOAD wValue = 0) [C] AN3156.
pub const CMD_GET_COMMANDS: u8 = 0x00;
pub const CMD_SET_ADDRESS_POINTER: u8 = 0x21;
pub const CMD_ERASE: u8 = 0x41;
pub const CMD_READ_UNPROTECT: u8 = 0x92;
/// Address Pointer after every boot [C] AN3156.
pub const DEFAULT_POINTER: u32 = 0x0800_0000;
