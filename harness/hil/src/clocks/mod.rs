//! Clock forensics: read an STM32's clock, flash-interface, option-byte and identity registers over SWD while
//! the ROM bootloader runs, decode them, derive what a hardware engineer reasons with (the HSE the bootloader
//! believed, SYSCLK, the USB clock error), and measure SYSCLK and HSI against the host's clock.
//!
//! The seam is `probe_rs::MemoryInterface`: [`read_snapshot`] and the measurements are generic over it, so the
//! same code reads a real chip through [`crate::probe`] and the virtual board through [`VirtualMemory`].
//! Register addresses come from a target description file ([`TargetDescription`], `fixtures/targets/`).
//! Decoding and deriving are pure. This module must not name a probe driver or open devices itself.

// The fact tags [C], [C3], [I], [U] used throughout the docs read as intra-doc links to rustdoc.
#![allow(rustdoc::broken_intra_doc_links)]

mod decode;
mod derive;
mod error;
mod measure;
mod options;
mod read;
mod readout;
mod render;
mod serial;
mod target;
mod virtual_mem;

pub use decode::{
    ClockSource, FlashInterface, Identity, Pll, PllSource, Rcc, ResetFlags, UsbClockSource,
};
pub use derive::{derive, Derived};
pub use error::{Classify, ClockError, Culprit};
pub use measure::{
    measure_hsi, measure_sysclk, DebugControl, FrequencyMeasurement, HsiMeasurement,
    SysclkMeasurement, MAX_WINDOW,
};
pub use options::{OptionBytesCheck, OptionBytesRegs};
pub use read::{read_snapshot, ClockSnapshot, RawRegisters, TargetFacts};
pub use readout::{
    collect, read_derived, AttachRecord, ClocksReport, CollectOptions, Collected, ReadPath, UsbSide,
};
pub use records::HseVerdict as Verdict;
pub use render::render_text;
pub use serial::{expected_serial, SerialCheck};
pub use target::{Area, MemoryMap, TargetDescription};
pub use virtual_mem::{VirtualMemory, VIRTUAL_READ_LATENCY};
