//! The virtual board's register file behind `probe_rs::MemoryInterface`, so the clock reader runs unchanged
//! against it; plus [`DebugControl`] for the intrusive HSI measurement. Each access costs a fixed virtual
//! read latency (the board samples in its middle), so measurements carry an uncertainty as with a real probe.
//! Bus faults become `probe_rs::Error::Other` (classified as the board's), unsupported widths
//! `NotImplemented` (the harness's).

use std::sync::Arc;
use std::time::Duration;

use dfuse::{Clock, VirtualClock};
use probe_rs::{Error, MemoryInterface};
use vboard::{BusFault, RunMode};

use super::{ClockError, Culprit, DebugControl};
use crate::transport::VirtualBoard;

/// Time one virtual SWD access takes: a guess for a probe on USB full speed (one round trip per access) [U].
pub const VIRTUAL_READ_LATENCY: Duration = Duration::from_micros(250);

/// SWD access to a virtual board in virtual time.
pub struct VirtualMemory {
    board: VirtualBoard,
    clock: Arc<VirtualClock>,
    latency: Duration,
}

fn bus(fault: BusFault) -> Error {
    Error::Other(format!("virtual board bus fault: {fault}"))
}

fn address32(address: u64) -> Result<u32, Error> {
    u32::try_from(address).map_err(|_| bus(BusFault::Unmapped { addr: u32::MAX }))
}

impl VirtualMemory {
    /// Access `board` on `clock` with [`VIRTUAL_READ_LATENCY`] per access.
    pub fn new(board: VirtualBoard, clock: Arc<VirtualClock>) -> Self {
        Self::with_latency(board, clock, VIRTUAL_READ_LATENCY)
    }

    pub fn with_latency(board: VirtualBoard, clock: Arc<VirtualClock>, latency: Duration) -> Self {
        Self {
            board,
            clock,
            latency,
        }
    }

    fn access<T>(
        &mut self,
        f: impl FnOnce(&mut vboard::Board, Duration) -> Result<T, BusFault>,
    ) -> Result<T, Error> {
        self.clock.sleep(self.latency / 2);
        let result = f(&mut self.board.lock(), self.clock.now());
        self.clock.sleep(self.latency - self.latency / 2);
        result.map_err(bus)
    }

    fn word(&mut self, address: u64) -> Result<u32, Error> {
        let addr = address32(address)?;
        self.access(|b, now| b.read_u32(now, addr))
    }

    /// The `bytes`-wide value at `address`, out of the word that holds it (the board has 32-bit access only).
    fn part(&mut self, address: u64, bytes: u64) -> Result<u32, Error> {
        if !address.is_multiple_of(bytes) {
            return Err(bus(BusFault::Unaligned {
                addr: address32(address)?,
            }));
        }
        let word = self.word(address & !3)?;
        Ok(word >> (8 * (address & 3)))
    }

    fn reset(&mut self, f: impl FnOnce(&mut vboard::Board, Duration)) -> Result<(), ClockError> {
        let mut board = self.board.lock();
        if board.mode() == RunMode::Off {
            return Err(ClockError::Measurement {
                culprit: Culprit::Board,
                message: "cannot reset the virtual board: it is powered off".into(),
            });
        }
        f(&mut board, self.clock.now());
        Ok(())
    }
}

impl MemoryInterface for VirtualMemory {
    fn supports_native_64bit_access(&mut self) -> bool {
        false
    }

    fn read_64(&mut self, address: u64, data: &mut [u64]) -> Result<(), Error> {
        for (i, d) in data.iter_mut().enumerate() {
            let at = address + 8 * i as u64;
            *d = u64::from(self.part(at, 4)?) | u64::from(self.part(at + 4, 4)?) << 32;
        }
        Ok(())
    }

    fn read_32(&mut self, address: u64, data: &mut [u32]) -> Result<(), Error> {
        for (i, d) in data.iter_mut().enumerate() {
            *d = self.part(address + 4 * i as u64, 4)?;
        }
        Ok(())
    }

    fn read_16(&mut self, address: u64, data: &mut [u16]) -> Result<(), Error> {
        for (i, d) in data.iter_mut().enumerate() {
            *d = self.part(address + 2 * i as u64, 2)? as u16;
        }
        Ok(())
    }

    fn read_8(&mut self, address: u64, data: &mut [u8]) -> Result<(), Error> {
        for (i, d) in data.iter_mut().enumerate() {
            *d = self.part(address + i as u64, 1)? as u8;
        }
        Ok(())
    }

    fn write_32(&mut self, address: u64, data: &[u32]) -> Result<(), Error> {
        for (i, &value) in data.iter().enumerate() {
            let addr = address32(address + 4 * i as u64)?;
            self.access(|b, now| b.write_u32(now, addr, value))?;
        }
        Ok(())
    }

    fn write_64(&mut self, _address: u64, _data: &[u64]) -> Result<(), Error> {
        Err(Error::NotImplemented("64-bit writes to the virtual board"))
    }

    fn write_16(&mut self, _address: u64, _data: &[u16]) -> Result<(), Error> {
        Err(Error::NotImplemented("16-bit writes to the virtual board"))
    }

    fn write_8(&mut self, _address: u64, _data: &[u8]) -> Result<(), Error> {
        Err(Error::NotImplemented("8-bit writes to the virtual board"))
    }

    fn supports_8bit_transfers(&self) -> Result<bool, Error> {
        Ok(true)
    }

    fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

impl DebugControl for VirtualMemory {
    fn reset_to_spin_loop(&mut self, scratch_ram: u32) -> Result<(), ClockError> {
        self.reset(|b, now| b.reset_halt_run_from(now, scratch_ram))
    }

    fn reset_to_bootloader(&mut self) -> Result<(), ClockError> {
        self.reset(|b, now| b.reset_pin(now))
    }
}
