//! The hil library's integration tests in one binary (one link for every test file): clock decoding and
//! reads, DfuSe operations on the virtual board, scenario and rig files, the serial and virtual rigs, soaks,
//! and soaks on virtual rigs that fail.

mod clocks_decode;
mod clocks_files;
mod clocks_probe;
mod clocks_virtual;
mod common;
mod dfu_virtual;
mod exec_rig;
mod exec_step;
mod file_errors;
mod fuzz_files;
mod fuzz_run_folder;
mod mutate;
mod rig_faults;
mod scpi_rig;
mod serial_rig;
mod shipped_files;
mod soak;
mod virtual_rig;
