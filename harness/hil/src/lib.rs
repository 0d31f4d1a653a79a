//! The harness library: transports (rusb, virtual), images, captures, DfuSe operations, the clock readers
//! (probe-rs, virtual), rig control, scenarios and the runner, which records through the `records` crate.
//! The `hil` binary is a thin layer over this; the report lives in the `report` crate.

pub mod backend;
pub mod clocks;
pub mod dfu;
pub mod image;
pub mod inputs;
pub mod probe;
pub mod rig;
pub mod runner;
pub mod scenario;
pub mod soak;
pub mod transport;
