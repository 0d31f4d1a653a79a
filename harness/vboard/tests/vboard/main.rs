//! The virtual board's tests in one binary (one link for every test file): descriptors, DFU states, memory,
//! the clock and link models, faults, leave, registers, debug resets, and inputs that must never panic.

mod clock_model;
mod common;
mod config_files;
mod debug_reset;
mod descriptors;
mod dfu_states;
mod faults;
mod leave;
mod link_model;
mod memory_ops;
mod no_panics;
mod option_bytes;
mod registers;
