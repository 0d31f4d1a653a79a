//! The `hil` binary as a user runs it, in one test binary (one link for every test file): clocks, dfu, list,
//! soak (kills, Ctrl-C, exit codes), report, vboard serve. The QEMU guest tests are a binary of their own
//! (`cargo test -p hil-cli --test guest`).

mod clocks;
#[path = "../common/mod.rs"]
mod common;
mod dfu_cli;
mod diagnosis;
mod false_naming;
mod kills;
mod report;
mod rig_cli;
mod safety;
mod soak_cli;
mod vboard_cli;
