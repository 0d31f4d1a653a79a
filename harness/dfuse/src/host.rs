//! The DfuSe host session: owns the I/O seam, the clock and the observer; the basic DFU requests (each sent
//! through the single transfer helper in `transfer.rs`) and dfu-util's start-up recovery.

use std::time::Duration;

use crate::descriptor::FunctionalDescriptor;
use crate::error::{Error, StuckReason};
use crate::event::{NullObserver, Observer, Operation, SleepReason};
use crate::io::{Clock, DfuIo};
use crate::plan::PlanError;
use crate::poll::{Budget, PollPolicy};
use crate::request::Request;
use crate::status::{parse_state, parse_status, State, StatusReply, GETSTATE_LEN, GETSTATUS_LEN};

/// Timeout of every control transfer unless changed: dfu-util's 5000 ms.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(5000);

/// A DfuSe session with one DFU interface of one device.
pub struct Dfuse<I, C, O = NullObserver> {
    pub(crate) io: I,
    pub(crate) clock: C,
    pub(crate) observer: O,
    pub(crate) interface: u8,
    pub(crate) transfer_size: u16,
    pub(crate) timeout: Duration,
    pub(crate) poll: PollPolicy,
    pub(crate) ops: Vec<Operation>,
}

impl<I: DfuIo, C: Clock> Dfuse<I, C, NullObserver> {
    /// A session on `interface` with blocks of `transfer_size` bytes (the descriptor's wTransferSize).
    pub fn new(io: I, clock: C, interface: u8, transfer_size: u16) -> Self {
        Self {
            io,
            clock,
            observer: NullObserver,
            interface,
            transfer_size,
            timeout: DEFAULT_TIMEOUT,
            poll: PollPolicy::default(),
            ops: Vec::new(),
        }
    }

    /// A session sized from the DFU functional descriptor; refuses plain DFU (bcdDFUVersion ≠ 0x011A).
    pub fn from_descriptor(
        io: I,
        clock: C,
        interface: u8,
        functional: &FunctionalDescriptor,
    ) -> Result<Self, Error> {
        if !functional.is_dfuse() {
            return Err(Error::NotDfuse {
                version: functional.dfu_version,
            });
        }
        if functional.transfer_size == 0 {
            return Err(PlanError::BadTransferSize(0).into());
        }
        Ok(Self::new(io, clock, interface, functional.transfer_size))
    }
}

impl<I: DfuIo, C: Clock, O: Observer> Dfuse<I, C, O> {
    /// The same session, reporting to `observer`.
    pub fn with_observer<P: Observer>(self, observer: P) -> Dfuse<I, C, P> {
        Dfuse {
            io: self.io,
            clock: self.clock,
            observer,
            interface: self.interface,
            transfer_size: self.transfer_size,
            timeout: self.timeout,
            poll: self.poll,
            ops: self.ops,
        }
    }

    /// Use `timeout` for every control transfer.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Use these poll bounds.
    pub fn with_poll_policy(mut self, poll: PollPolicy) -> Self {
        self.poll = poll;
        self
    }

    /// Override the block size (dfu-util `-t`). Contiguous addressing needs the device's wTransferSize.
    pub fn with_transfer_size(mut self, transfer_size: u16) -> Self {
        self.transfer_size = transfer_size;
        self
    }

    /// The I/O seam.
    pub fn io(&self) -> &I {
        &self.io
    }

    /// The I/O seam, mutably (tests inspect their double through this).
    pub fn io_mut(&mut self) -> &mut I {
        &mut self.io
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// The observer.
    pub fn observer(&self) -> &O {
        &self.observer
    }

    /// The observer, mutably.
    pub fn observer_mut(&mut self) -> &mut O {
        &mut self.observer
    }

    /// Take the parts back.
    pub fn into_parts(self) -> (I, C, O) {
        (self.io, self.clock, self.observer)
    }

    /// wIndex of every request.
    pub fn interface(&self) -> u8 {
        self.interface
    }

    /// Block size of uploads and downloads.
    #[doc(alias = "wTransferSize")]
    pub fn transfer_size(&self) -> u16 {
        self.transfer_size
    }

    /// Per-transfer timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Poll bounds.
    pub fn poll_policy(&self) -> &PollPolicy {
        &self.poll
    }

    /// DFU_GETSTATUS, decoded. Does not sleep.
    #[doc(alias = "DFU_GETSTATUS")]
    pub fn get_status(&mut self) -> Result<StatusReply, Error> {
        let data = self.transfer(Request::GetStatus, 0, &[], GETSTATUS_LEN as u16)?;
        parse_status(&data).map_err(|e| self.parse_error(Request::GetStatus, e))
    }

    /// DFU_CLRSTATUS.
    #[doc(alias = "DFU_CLRSTATUS")]
    pub fn clear_status(&mut self) -> Result<(), Error> {
        self.transfer(Request::ClrStatus, 0, &[], 0).map(drop)
    }

    /// DFU_GETSTATE, decoded.
    #[doc(alias = "DFU_GETSTATE")]
    pub fn get_state(&mut self) -> Result<State, Error> {
        let data = self.transfer(Request::GetState, 0, &[], GETSTATE_LEN as u16)?;
        parse_state(&data).map_err(|e| self.parse_error(Request::GetState, e))
    }

    /// DFU_ABORT.
    #[doc(alias = "DFU_ABORT")]
    pub fn abort(&mut self) -> Result<(), Error> {
        self.transfer(Request::Abort, 0, &[], 0).map(drop)
    }

    /// DFU_DETACH with wTimeout (dfu-util `-R` sends 1000). Meaningless to the ROM bootloader.
    #[doc(alias = "DFU_DETACH")]
    pub fn detach(&mut self, timeout_ms: u16) -> Result<(), Error> {
        self.transfer(Request::Detach, timeout_ms, &[], 0).map(drop)
    }

    /// A raw DFU_DNLOAD of `data` as `block` (no polling). Block 0 carries DfuSe commands.
    #[doc(alias = "DFU_DNLOAD")]
    pub fn dnload(&mut self, block: u16, data: &[u8]) -> Result<(), Error> {
        self.transfer(Request::Dnload, block, data, 0).map(drop)
    }

    /// A raw DFU_UPLOAD of at most `len` bytes of `block`. Block 0 is Get Commands.
    #[doc(alias = "DFU_UPLOAD")]
    pub fn upload_block(&mut self, block: u16, len: u16) -> Result<Vec<u8>, Error> {
        self.transfer(Request::Upload, block, &[], len)
    }

    /// dfu-util's start-up recovery, bounded by `connect_rounds`: DFU_GETSTATUS and sleep bwPollTimeout;
    /// dfuERROR → DFU_CLRSTATUS and again; dfuDNLOAD-IDLE/dfuUPLOAD-IDLE → DFU_ABORT and again; dfuDNBUSY →
    /// again; dfuIDLE with a non-OK status → DFU_CLRSTATUS, DFU_GETSTATUS must then be OK. Returns the dfuIDLE reply.
    pub fn connect(&mut self) -> Result<StatusReply, Error> {
        self.scoped(Operation::Connect, Self::recover)
    }

    fn recover(&mut self) -> Result<StatusReply, Error> {
        let mut budget = Budget::new(self.clock.now());
        for _ in 0..self.poll.connect_rounds {
            budget.polls += 1;
            let reply = self.get_status()?;
            self.wait(&budget, reply.poll_timeout, SleepReason::PollTimeout)?;
            match reply.state {
                State::DfuError => self.clear_status()?,
                State::DfuDnloadIdle | State::DfuUploadIdle => self.abort()?,
                State::DfuDnbusy | State::DfuDnloadSync => {}
                State::DfuIdle if reply.is_ok() => return Ok(reply),
                State::DfuIdle => return self.clear_and_recheck(),
                _ => return Err(self.unexpected_or_device_error(&reply, &[State::DfuIdle])),
            }
        }
        Err(self.stuck(&budget, StuckReason::NoRecovery))
    }

    fn clear_and_recheck(&mut self) -> Result<StatusReply, Error> {
        self.clear_status()?;
        let reply = self.get_status()?;
        self.wait_once(reply.poll_timeout)?;
        self.expect_state(reply, &[State::DfuIdle])
    }

    /// DFU_ABORT, then DFU_GETSTATUS must report dfuIDLE; sleeps its bwPollTimeout (dfu-util `dfu_abort_to_idle`).
    pub fn abort_to_idle(&mut self) -> Result<StatusReply, Error> {
        self.scoped(Operation::AbortToIdle, |s| {
            s.abort()?;
            let reply = s.get_status()?;
            if reply.state != State::DfuIdle {
                return Err(s.unexpected_or_device_error(&reply, &[State::DfuIdle]));
            }
            s.wait_once(reply.poll_timeout)?;
            Ok(reply)
        })
    }
}
