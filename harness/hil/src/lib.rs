//! The harness library: transports (rusb, virtual), images, captures and DfuSe operations; later the clock
//! readers, rig control, runner, records and report. The `hil` binary is a thin layer over this.

pub mod clocks;
pub mod dfu;
pub mod image;
pub mod probe;
pub mod records;
pub mod report;
pub mod rig;
pub mod runner;
pub mod scenario;
pub mod soak;
pub mod target;
pub mod toml_file;
pub mod transport;
