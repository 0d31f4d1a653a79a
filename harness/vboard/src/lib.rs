//! The virtual STM32F746 ROM bootloader board: takes raw USB setup packets and returns bytes or a stall, like
//! silicon, and owns the flash, option bytes, OTP, the clock model and the register file a SWD probe reads.
//!
//! It must not: use a USB library, read the wall clock (time is always passed in as virtual `now`), share code
//! with the host-side `dfuse` crate (the two are written independently from the reference notes so that a bug in
//! one is caught by the other), or panic on any input.
//!
//! Facts are tagged as in `shared/reference/stm32f7-bootloader.md`: **[C]** confirmed, **[C3]** third-party
//! confirmed, **[I]** inferred, **[U]** unconfirmed. Every [I]/[U] guess is a board-file parameter
//! ([`BoardConfig`]), documented where it is declared, so a capture from real hardware can correct it without code
//! changes.
//!
//! # Clock MODEL (see [`clock`])
//! At every boot (power-on, NRST pulse, software reset):
//! 1. HSI error this boot `e = hsi.factory_error_ppm + (hsi.trim − 16)·hsi.trim_step_ppm +
//!    hsi.temp_coefficient_ppm_per_c·(T − 25 °C) + N(0, hsi.jitter_ppm)` — factory calibration at 25 °C [C]
//!    (AN2606 "1 % tolerance band"); the trim step, temperature coefficient and jitter are guesses [U].
//! 2. The bootloader's measurement timer runs from HSI: `timer_clk = bootloader.measure_timer_hz · (1 + e)`
//!    (24 MHz per EFT [C3]; AN2606 says 60 MHz — conflict, parameter).
//! 3. `D_true = timer_clk · 248 / f_hse` (RTCPRE = 31, input-capture prescaler 8 → 248 HSE cycles [C3] EFT);
//!    `D` = floor or ceil of `D_true`, ceil with probability = fractional part (seeded) [I].
//! 4. `f = measure_timer_hz · 31 · 8 / D` and `M = ((f / 100000) + 5) / 10` in integer arithmetic [C3] EFT;
//!    M is clamped to the PLLM field range 2..=63 [I].
//! 5. `PLLN = 240, PLLP = /4, PLLQ = 5, PLLSRC = HSE` [I] (reference §2.2; parameters `bootloader.pll_*`).
//! 6. `SYSCLK = f_hse / M · N / P`, `USB clock = f_hse / M · N / Q`, USB error in ppm against 48 MHz.
//!    `f_hse` is the board's HSE with one fixed offset drawn within ±`hse.accuracy_ppm` at [`Board::new`].
//!
//! With a 25 MHz HSE and HSI +2.5 % this gives PLLM = 24, USB clock 50 MHz, +41 667 ppm.
//!
//! # USB failure MODEL (see [`link`]) — all constants are guesses [U] except the tolerance
//! Per packet, bit slip = `8 · (payload + 4) · |usb_error|`; one attempt fails with
//! `p = 1 − exp(−(slip / link.margin_bits)^link.shape)` (defaults 11.5 bits, shape 2); the host controller tries
//! a packet `link.attempts` times (default 3), so a packet is lost with `p^attempts`. The defaults are calibrated
//! to the seed report: at +41 667 ppm a board still enumerates thanks to the host's retries, while about 29 % of
//! single option-byte uploads, 15 % of serial-string reads and nearly every 2 KiB block fail. Within
//! `link.tolerance_ppm` (2500 ppm, USB 2.0 §7.1.11 [C]) nothing fails. A control transfer is a SETUP packet,
//! data packets of at most 64 bytes and a zero-length status packet. A lost SETUP or OUT data packet means the
//! device did not act; a lost IN data or status packet means it did act but the host sees a protocol error.
//! A planted lossy cable (`link.cable_loss_per_packet`, default 0) fails each attempt with that probability as
//! well, whatever the clock: one attempt fails with `1 − (1 − p)(1 − cable)`.
//!
//! # DFU behaviour
//! AN3156 [C]: DfuSe commands (Set Address Pointer, Erase, mass erase, Read Unprotect, Get Commands) and data
//! blocks run on the first DFU_GETSTATUS, which answers dfuDNBUSY with the operation time as bwPollTimeout; the
//! board is busy (requests wait, see [`Completion::done_at`]) until it is done and the second GETSTATUS reports
//! the result. Blocks address `(wBlockNum − 2) · wTransferSize + pointer` with the descriptor's wTransferSize
//! [I]. Transitions taken from ST's application DFU class are marked [I] in [`dfu`]. Host rule violations are
//! recorded, not enforced ([`Board::violations`]).
//!
//! # Planted board-side causes (board file; defaults reproduce the healthy board draw for draw)
//! `[option_bytes]` sets the option bytes at power-on (RDP, BOR_LEV, watchdog/reset bits, nWRP, BOOT_ADD0/1;
//! the single-bank F74x has no nDBANK/nDBOOT) and `[option_bytes.loaded]` a stale FLASH_OPTCR/OPTCR1; boot
//! selection follows BOOT_ADDx (only 0x0040 runs the ROM [C] AN2606). `[serial]` picks the iSerialNumber
//! formula (ST's or a variant seen on other ROMs, reference §3). `[faults]` draws the [`Fault`]s at random.
//! Random causes draw from ChaCha streams of their own, and only when their probability is above 0.
//!
//! # Not modelled
//! RDP level 2's boot and debug lock-out (level 2 acts as level 1), watchdogs and brown-out (their option bits
//! only show), DFU access to RAM and system memory (errTARGET), the ROM's USART/CAN/I2C/SPI interfaces,
//! SET_CONFIGURATION being required before class requests, DFU_DETACH (accepted and ignored [I]), and probe
//! writes other than DEMCR, DWT and RCC_CSR.RMVF.

// The fact tags [C], [C3], [I], [U] used throughout the docs read as intra-doc links to rustdoc.
#![allow(rustdoc::broken_intra_doc_links)]

pub mod board;
pub mod clock;
pub mod config;
pub mod descriptors;
pub mod dfu;
pub mod faults;
pub mod link;
pub mod memory;
pub mod registers;
pub mod seed;
pub mod serial;
pub mod setup;
pub mod standard;
pub mod stats;
pub mod swd;

pub use board::{Board, BootRecord, Completion, ResetCause, RunMode, UsbError, NO_RESPONSE_HOLD};
pub use clock::{Detection, PllConfig};
pub use config::{BoardConfig, ConfigError, HseKind, Reload, SerialFormula};
pub use dfu::{DfuState, DfuStatus};
pub use faults::Fault;
pub use registers::BusFault;
pub use seed::{board_seed, cycle_seed};
pub use stats::{Rule, Stats, Violation};
