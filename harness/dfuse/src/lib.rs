//! Host side of ST's DfuSe protocol (DFU 1.1 with ST's extensions, as spoken by the STM32 ROM bootloader).
//!
//! Sans-io: requests, replies, layouts and operation plans are values; all device traffic goes through the
//! [`DfuIo`] trait and all waiting through the injected [`Clock`]. This crate must not depend on any USB library.

pub mod descriptor;
pub mod error;
pub mod event;
mod host;
pub mod io;
pub mod layout;
mod ops;
pub mod plan;
mod poll;
pub mod request;
pub mod status;
mod transfer;

pub use error::{error_chain, Error, ErrorKind, ParseError, StuckReason};
pub use event::{
    render_event, Event, NullObserver, Observer, Operation, SleepReason, Trace, TransferEvent,
};
pub use host::{Dfuse, DEFAULT_TIMEOUT};
pub use io::{Clock, DfuIo, Setup, SystemClock, TransferError, TransferErrorKind, VirtualClock};
pub use layout::{Access, LayoutError, MemoryLayout, Region, Sector, SectorRun};
pub use ops::Left;
pub use plan::{AddressMode, Plan, PlanError, UploadPlan};
pub use poll::{PollPolicy, F405_MASS_ERASE_CLAIM, F405_MASS_ERASE_WAIT};
pub use request::{Command, Request};
pub use status::{parse_status, State, Status, StatusReply};
