//! The probe-rs backend of the clock reader: open a debug probe by selector (`VID:PID[:SERIAL]`), check the
//! chip name against probe-rs's built-in targets, attach over SWD at a given speed, and expose the chip as a
//! `probe_rs::MemoryInterface` (plus [`crate::clocks::DebugControl`] for the HSI measurement). The only module that names
//! probe-rs's probe and session types.
//!
//! Two access paths. [`crate::clocks::ReadPath::AccessPort`] (the default) reads through the memory access port with no
//! core session, so the core is never halted. [`crate::clocks::ReadPath::HaltingSession`] opens a probe-rs `Session`,
//! which halts the core briefly while attaching (probe-rs issue 3135; the ROM bootloader may notice); it is
//! used only for connect-under-reset and for the intrusive HSI measurement, which needs core control
//! (probe-rs's reset-and-halt: vector catch plus a system reset request, so RCC_CSR shows SFTRSTF).
//! Errors are classified at this edge: probe and USB failures are infrastructure ([`crate::clocks::Culprit::Probe`]).

mod chip;
mod classify;
mod select;

pub use chip::{ProbeChip, ProbeOptions};
pub use select::{find_chip, parse_selector, probe_rs_selector, DEFAULT_CHIP};
