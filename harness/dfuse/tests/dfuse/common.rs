//! A simulated STM32F7 DfuSe ROM for tests: a small state machine written from the reference notes (AN3156),
//! with knobs for misbehaviour. It records protocol violations (early polls, writes to unerased flash, requests
//! in the wrong state) instead of trusting the host.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use dfuse::{Clock, DfuIo, Setup, TransferError, TransferErrorKind, VirtualClock};

pub const FLASH_BASE: u32 = 0x0800_0000;
pub const FLASH_SIZE: usize = 1 << 20;
pub const OB_BASE: u32 = 0x1FFF_0000;
pub const OB_SIZE: usize = 32;
pub const F7_LAYOUT: &str = "@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg";
pub const F7_OB_LAYOUT: &str = "@Option Bytes  /0x1FFF0000/01*032 e";

/// F74x sector table, written out by hand (not derived from the layout parser under test).
const SECTORS: [(u32, u32); 8] = [
    (0x0800_0000, 32 << 10),
    (0x0800_8000, 32 << 10),
    (0x0801_0000, 32 << 10),
    (0x0801_8000, 32 << 10),
    (0x0802_0000, 128 << 10),
    (0x0804_0000, 256 << 10),
    (0x0808_0000, 256 << 10),
    (0x080C_0000, 256 << 10),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum St {
    Idle = 2,
    DnloadSync = 3,
    Dnbusy = 4,
    DnloadIdle = 5,
    ManifestSync = 6,
    Manifest = 7,
    UploadIdle = 9,
    Error = 10,
}

#[derive(Clone, Debug)]
enum Pending {
    SetAddress(u32),
    Erase(u32),
    MassErase,
    Unprotect,
    Write(u32, Vec<u8>),
}

pub struct SimDevice {
    pub clock: Arc<VirtualClock>,
    pub state: St,
    pub status: u8,
    pub pointer: u32,
    /// The wBlockNum multiplier (the descriptor's wTransferSize).
    pub xfer: usize,
    pub flash: Vec<u8>,
    pub option_bytes: [u8; OB_SIZE],
    /// bwPollTimeout of every reply, ms.
    pub poll_ms: u32,
    /// GETSTATUS replies that say dfuDNBUSY before a command/write completes (AN3156: 1).
    pub busy_polls: u32,
    /// Never leave dfuDNBUSY.
    pub stuck_busy: bool,
    /// Stall this many GETSTATUS while busy (after the first), like some STM32L4.
    pub stall_polls: u32,
    /// Vanish right after answering dfuMANIFEST (true) or already at that GETSTATUS (false).
    pub answer_manifest: bool,
    /// Upload returns this address's byte inverted.
    pub corrupt_read: Option<u32>,
    pending: Option<Pending>,
    busy_left: u32,
    ready_at: Duration,
    pub gone: bool,
    pub log: Vec<Setup>,
    pub violations: Vec<String>,
    pub short_blocks_above_2: u32,
}

impl SimDevice {
    pub fn new(clock: Arc<VirtualClock>) -> Self {
        Self {
            clock,
            state: St::Idle,
            status: 0,
            pointer: FLASH_BASE,
            xfer: 2048,
            flash: vec![0xFF; FLASH_SIZE],
            option_bytes: [
                0xFF, 0xAA, 0x00, 0x55, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xFF, 0xFF,
                0xFF, 0xFF, 0x80, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x40, 0x00, 0xBF, 0xFF,
                0xFF, 0xFF, 0xFF, 0xFF,
            ],
            poll_ms: 5,
            busy_polls: 1,
            stuck_busy: false,
            stall_polls: 0,
            answer_manifest: true,
            corrupt_read: None,
            pending: None,
            busy_left: 0,
            ready_at: Duration::ZERO,
            gone: false,
            log: Vec::new(),
            violations: Vec::new(),
            short_blocks_above_2: 0,
        }
    }

    pub fn count(&self, request: u8) -> usize {
        self.log.iter().filter(|s| s.request == request).count()
    }

    fn fail(&mut self, status: u8, why: &str) -> TransferError {
        self.violations.push(why.to_string());
        self.state = St::Error;
        self.status = status;
        TransferError::new(TransferErrorKind::Stall, why)
    }

    fn status_reply(&mut self) -> Vec<u8> {
        let now = self.clock.now();
        if now < self.ready_at {
            self.violations
                .push(format!("polled at {now:?}, before {:?}", self.ready_at));
        }
        self.ready_at = now + Duration::from_millis(u64::from(self.poll_ms));
        let t = self.poll_ms.to_le_bytes();
        vec![self.status, t[0], t[1], t[2], self.state as u8, 0]
    }

    fn get_status(&mut self) -> Result<Vec<u8>, TransferError> {
        match self.state {
            St::DnloadSync => {
                self.state = St::Dnbusy;
                self.busy_left = self.busy_polls.saturating_sub(1);
                if matches!(self.pending, Some(Pending::Unprotect)) {
                    let reply = self.status_reply();
                    self.gone = true;
                    return Ok(reply);
                }
            }
            St::Dnbusy if self.stall_polls > 0 => {
                self.stall_polls -= 1;
                return Err(TransferError::new(TransferErrorKind::Stall, "busy"));
            }
            St::Dnbusy if self.stuck_busy || self.busy_left > 0 => {
                self.busy_left = self.busy_left.saturating_sub(1);
            }
            St::Dnbusy => self.execute(),
            St::ManifestSync => {
                if !self.answer_manifest {
                    self.gone = true;
                    return Err(TransferError::new(TransferErrorKind::Io, "reset"));
                }
                self.state = St::Manifest;
                let reply = self.status_reply();
                self.gone = true;
                return Ok(reply);
            }
            _ => {}
        }
        Ok(self.status_reply())
    }

    fn execute(&mut self) {
        let ok = match self.pending.take() {
            Some(Pending::SetAddress(a)) => self.set_pointer(a),
            Some(Pending::Erase(a)) => self.erase(a),
            Some(Pending::MassErase) => {
                self.flash.fill(0xFF);
                true
            }
            Some(Pending::Write(a, data)) => self.write(a, &data),
            Some(Pending::Unprotect) | None => true,
        };
        (self.state, self.status) = if ok {
            (St::DnloadIdle, 0)
        } else {
            (St::Error, 1)
        };
    }

    fn set_pointer(&mut self, a: u32) -> bool {
        let valid = flash_offset(a).is_some() || (OB_BASE..OB_BASE + OB_SIZE as u32).contains(&a);
        if valid {
            self.pointer = a;
        }
        valid
    }

    fn erase(&mut self, a: u32) -> bool {
        let Some(&(start, size)) = SECTORS.iter().find(|(s, n)| (*s..s + n).contains(&a)) else {
            return false;
        };
        let off = (start - FLASH_BASE) as usize;
        self.flash[off..off + size as usize].fill(0xFF);
        true
    }

    fn write(&mut self, a: u32, data: &[u8]) -> bool {
        if a == OB_BASE && data.len() == OB_SIZE {
            self.option_bytes.copy_from_slice(data);
            return true;
        }
        let Some(off) = flash_offset(a).filter(|o| o + data.len() <= FLASH_SIZE) else {
            return false;
        };
        for (i, &b) in data.iter().enumerate() {
            if self.flash[off + i] != 0xFF {
                self.violations
                    .push(format!("write to unerased byte {:#010x}", a as usize + i));
            }
            self.flash[off + i] &= b;
        }
        true
    }

    fn block_address(&mut self, setup: &Setup) -> u32 {
        if setup.value > 2 && usize::from(setup.length) != self.xfer {
            self.short_blocks_above_2 += 1;
        }
        self.pointer
            .wrapping_add((u32::from(setup.value) - 2) * self.xfer as u32)
    }

    fn dnload(&mut self, setup: &Setup, data: &[u8]) -> Result<usize, TransferError> {
        if !matches!(self.state, St::Idle | St::DnloadIdle) {
            return Err(self.fail(0x0F, "DNLOAD outside dfuIDLE/dfuDNLOAD-IDLE"));
        }
        self.pending = Some(match (setup.value, data) {
            (_, []) => {
                self.state = St::ManifestSync;
                return Ok(0);
            }
            (0, [0x21, a @ ..]) if a.len() == 4 => Pending::SetAddress(le32(a)),
            (0, [0x41, a @ ..]) if a.len() == 4 => Pending::Erase(le32(a)),
            (0, [0x41]) => Pending::MassErase,
            (0, [0x92]) => Pending::Unprotect,
            (0 | 1, _) => return Err(self.fail(0x0F, "bad command")),
            _ => Pending::Write(self.block_address(setup), data.to_vec()),
        });
        self.state = St::DnloadSync;
        Ok(data.len())
    }

    fn upload(&mut self, setup: &Setup) -> Result<Vec<u8>, TransferError> {
        if !matches!(self.state, St::Idle | St::UploadIdle) {
            return Err(self.fail(0x0F, "UPLOAD outside dfuIDLE/dfuUPLOAD-IDLE"));
        }
        let len = usize::from(setup.length);
        let data = match setup.value {
            0 => [0x00, 0x21, 0x41, 0x92].into_iter().take(len).collect(),
            1 => return Err(self.fail(0x0F, "UPLOAD block 1")),
            _ => {
                let a = self.block_address(setup);
                self.read(a, len)
                    .ok_or_else(|| self.fail(0x01, "read outside memory"))?
            }
        };
        self.state = St::UploadIdle;
        Ok(data)
    }

    fn read(&self, a: u32, len: usize) -> Option<Vec<u8>> {
        let mut data = if a == OB_BASE && len == OB_SIZE {
            self.option_bytes.to_vec()
        } else {
            let off = flash_offset(a).filter(|o| o + len <= FLASH_SIZE)?;
            self.flash[off..off + len].to_vec()
        };
        if let Some(bad) = self.corrupt_read {
            if let Some(b) = bad.checked_sub(a).and_then(|i| data.get_mut(i as usize)) {
                *b = !*b;
            }
        }
        Some(data)
    }
}

fn flash_offset(a: u32) -> Option<usize> {
    let off = a.checked_sub(FLASH_BASE)? as usize;
    (off < FLASH_SIZE).then_some(off)
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn gone() -> TransferError {
    TransferError::new(TransferErrorKind::Disconnected, "no such device")
}

impl DfuIo for SimDevice {
    fn control_in(&mut self, setup: Setup, _: Duration) -> Result<Vec<u8>, TransferError> {
        self.log.push(setup);
        if self.gone {
            return Err(gone());
        }
        match setup.request {
            3 => self.get_status(),
            5 => Ok(vec![self.state as u8]),
            2 => self.upload(&setup),
            _ => Err(self.fail(0x0F, "unknown IN request")),
        }
    }

    fn control_out(
        &mut self,
        setup: Setup,
        data: &[u8],
        _: Duration,
    ) -> Result<usize, TransferError> {
        self.log.push(setup);
        if self.gone {
            return Err(gone());
        }
        match setup.request {
            1 => self.dnload(&setup, data),
            4 => {
                let was_error = self.state == St::Error;
                (self.state, self.status) = if was_error {
                    (St::Idle, 0)
                } else {
                    (St::Error, 0x0E)
                };
                Ok(0)
            }
            6 if self.state != St::Error => {
                (self.state, self.status, self.pending) = (St::Idle, 0, None);
                Ok(0)
            }
            6 => Ok(0),
            0 => Ok(0),
            _ => Err(self.fail(0x0F, "unknown OUT request")),
        }
    }
}

/// A host wired to a fresh simulated F7 on a shared virtual clock, recording a trace.
pub fn host() -> dfuse::Dfuse<SimDevice, Arc<VirtualClock>, dfuse::Trace> {
    host_with(|_| {})
}

/// As [`host`], with the device adjusted first.
pub fn host_with(
    adjust: impl FnOnce(&mut SimDevice),
) -> dfuse::Dfuse<SimDevice, Arc<VirtualClock>, dfuse::Trace> {
    let clock = Arc::new(VirtualClock::new());
    let mut dev = SimDevice::new(clock.clone());
    adjust(&mut dev);
    let xfer = u16::try_from(dev.xfer).unwrap();
    dfuse::Dfuse::new(dev, clock, 0, xfer).with_observer(dfuse::Trace::new())
}

/// Deterministic test data.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// A device that answers from a script: each step names the bRequest it expects and what to answer.
/// An unexpected request fails the test (this is test code; the host under test must never panic).
pub struct Scripted {
    steps: std::collections::VecDeque<(u8, Result<Vec<u8>, TransferErrorKind>)>,
    pub log: Vec<Setup>,
    /// Answer every further GETSTATUS with this once the script is used up.
    pub forever: Option<Vec<u8>>,
}

impl Scripted {
    pub fn new(steps: Vec<(u8, Result<Vec<u8>, TransferErrorKind>)>) -> Self {
        Self {
            steps: steps.into(),
            log: Vec::new(),
            forever: None,
        }
    }

    pub fn remaining(&self) -> usize {
        self.steps.len()
    }

    fn next(&mut self, setup: Setup) -> Result<Vec<u8>, TransferError> {
        self.log.push(setup);
        let step = match (self.steps.pop_front(), &self.forever) {
            (Some(step), _) => step,
            (None, Some(reply)) => (3, Ok(reply.clone())),
            (None, None) => panic!("script exhausted at {setup:?}"),
        };
        assert_eq!(setup.request, step.0, "unexpected request {setup:?}");
        step.1.map_err(|kind| TransferError::new(kind, "scripted"))
    }
}

impl DfuIo for Scripted {
    fn control_in(&mut self, setup: Setup, _: Duration) -> Result<Vec<u8>, TransferError> {
        self.next(setup)
    }

    fn control_out(
        &mut self,
        setup: Setup,
        data: &[u8],
        _: Duration,
    ) -> Result<usize, TransferError> {
        self.next(setup).map(|_| data.len())
    }
}

/// GETSTATUS reply bytes.
pub fn status(status: u8, state: u8, poll_ms: u32) -> Vec<u8> {
    let t = poll_ms.to_le_bytes();
    vec![status, t[0], t[1], t[2], state, 0]
}

/// A host over a script, on a virtual clock, recording a trace.
pub fn scripted(
    steps: Vec<(u8, Result<Vec<u8>, TransferErrorKind>)>,
) -> dfuse::Dfuse<Scripted, Arc<VirtualClock>, dfuse::Trace> {
    let clock = Arc::new(VirtualClock::new());
    dfuse::Dfuse::new(Scripted::new(steps), clock, 0, 2048).with_observer(dfuse::Trace::new())
}

pub const GETSTATUS: u8 = 3;
pub const CLRSTATUS: u8 = 4;
pub const ABORT: u8 = 6;
pub const DNLOAD: u8 = 1;
pub const UPLOAD: u8 = 2;
