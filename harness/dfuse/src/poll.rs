//! Bounded DFU_GETSTATUS polling: the one loop every DfuSe command, write and leave goes through. It sleeps
//! `bwPollTimeout` (through the injected clock) after each reply and gives up with `Error::Stuck` instead of hanging.

use std::time::Duration;

use crate::error::{Error, StuckReason};
use crate::event::{Observer, SleepReason};
use crate::host::Dfuse;
use crate::io::{Clock, DfuIo, TransferErrorKind};
use crate::status::{State, StatusReply};

/// What dfu-util sleeps instead of the 100 ms an STM32F405 claims for a mass erase ("up to 32 s").
pub const F405_MASS_ERASE_WAIT: Duration = Duration::from_millis(35_000);
/// The bwPollTimeout by which the F405 mass-erase quirk recognises itself.
pub const F405_MASS_ERASE_CLAIM: Duration = Duration::from_millis(100);

/// Bounds on every poll loop, so that a device that never finishes ends in `Error::Stuck`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollPolicy {
    /// Consecutive replies with `bwPollTimeout` = 0 before giving up (dfu-util: 100, "Device stuck").
    #[doc(alias = "bwPollTimeout")]
    pub max_zero_timeout_polls: u32,
    /// Longest time one command, write or leave may keep the device busy, sleeps included; a device asking
    /// to be left alone for longer than what remains is given up on at once.
    pub max_busy: Duration,
    /// Most DFU_GETSTATUS requests in one loop.
    pub max_polls: u32,
    /// Stalled DFU_GETSTATUS tolerated in one command, reusing the last poll timeout (dfu-util: 3, for STM32L4).
    pub max_stalls: u32,
    /// Rounds of start-up recovery (GETSTATUS, then CLRSTATUS or ABORT) before giving up.
    pub connect_rounds: u32,
    /// dfu-util's STM32F405 workaround: a mass erase whose first poll says 100 ms waits 35 s instead.
    pub f405_mass_erase_quirk: bool,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            max_zero_timeout_polls: 100,
            max_busy: Duration::from_secs(60),
            max_polls: 100_000,
            max_stalls: 3,
            connect_rounds: 5,
            f405_mass_erase_quirk: false,
        }
    }
}

/// How one poll loop behaves.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollRules {
    /// The first reply must be dfuDNBUSY (DfuSe commands, AN3156 §5).
    pub first_must_be_busy: bool,
    /// Absorb up to `max_stalls` stalled polls once a non-zero poll timeout was seen.
    pub tolerate_stalls: bool,
    /// Apply the F405 mass-erase quirk to the first reply.
    pub mass_erase: bool,
    /// Return after the first reply (Read Unprotect: the device resets).
    pub single: bool,
    /// Keep polling while the device reports one of these.
    pub busy: &'static [State],
}

/// Counters of one poll loop.
pub(crate) struct Budget {
    pub start: Duration,
    pub polls: u32,
    pub zero_run: u32,
    pub stalls: u32,
}

impl Budget {
    pub(crate) fn new(now: Duration) -> Self {
        Self {
            start: now,
            polls: 0,
            zero_run: 0,
            stalls: 0,
        }
    }
}

impl<I: DfuIo, C: Clock, O: Observer> Dfuse<I, C, O> {
    /// Poll DFU_GETSTATUS per `rules` until the device leaves the busy states; returns the last reply.
    pub(crate) fn poll_until_done(&mut self, rules: &PollRules) -> Result<StatusReply, Error> {
        let mut budget = Budget::new(self.clock().now());
        let mut last: Option<StatusReply> = None;
        loop {
            let (reply, mut reason) = self.poll_once(&mut budget, rules, last)?;
            let mut wait = reply.poll_timeout;
            if budget.polls == 1 {
                self.check_first(rules, &reply)?;
                if rules.mass_erase && self.quirk_applies(wait) {
                    (wait, reason) = (F405_MASS_ERASE_WAIT, SleepReason::MassEraseQuirk);
                }
            }
            let done = rules.single || !rules.busy.contains(&reply.state);
            if !done {
                self.count_zero(&mut budget, reply.poll_timeout)?;
            }
            self.wait(&budget, wait, reason)?;
            if done {
                return Ok(reply);
            }
            last = Some(StatusReply {
                poll_timeout: wait,
                ..reply
            });
        }
    }

    /// One DFU_GETSTATUS, or a stall absorbed as "still busy, same timeout".
    fn poll_once(
        &mut self,
        budget: &mut Budget,
        rules: &PollRules,
        last: Option<StatusReply>,
    ) -> Result<(StatusReply, SleepReason), Error> {
        if budget.polls >= self.poll_policy().max_polls {
            return Err(self.stuck(budget, StuckReason::TooManyPolls));
        }
        budget.polls += 1;
        let err = match self.get_status() {
            Ok(reply) => return Ok((reply, SleepReason::PollTimeout)),
            Err(e) => e,
        };
        let stalled = err.transfer_kind() == Some(TransferErrorKind::Stall);
        match last {
            Some(prev)
                if rules.tolerate_stalls
                    && stalled
                    && !prev.poll_timeout.is_zero()
                    && budget.stalls < self.poll_policy().max_stalls =>
            {
                budget.stalls += 1;
                let busy = StatusReply {
                    state: State::DfuDnbusy,
                    ..prev
                };
                Ok((busy, SleepReason::StallRetry))
            }
            _ => Err(err),
        }
    }

    fn quirk_applies(&self, wait: Duration) -> bool {
        self.poll_policy().f405_mass_erase_quirk && wait == F405_MASS_ERASE_CLAIM
    }

    fn check_first(&self, rules: &PollRules, reply: &StatusReply) -> Result<(), Error> {
        if !rules.first_must_be_busy || reply.state == State::DfuDnbusy {
            return Ok(());
        }
        Err(self.unexpected_or_device_error(reply, &[State::DfuDnbusy]))
    }

    fn count_zero(&mut self, budget: &mut Budget, poll_timeout: Duration) -> Result<(), Error> {
        if !poll_timeout.is_zero() {
            budget.zero_run = 0;
            return Ok(());
        }
        budget.zero_run += 1;
        if budget.zero_run >= self.poll_policy().max_zero_timeout_polls {
            return Err(self.stuck(budget, StuckReason::ZeroPollTimeouts));
        }
        Ok(())
    }

    /// Sleep `d` unless that would take the loop past `max_busy`.
    pub(crate) fn wait(
        &mut self,
        budget: &Budget,
        d: Duration,
        reason: SleepReason,
    ) -> Result<(), Error> {
        let spent = self.clock().now().saturating_sub(budget.start);
        if spent.saturating_add(d) > self.poll_policy().max_busy {
            return Err(self.stuck(budget, StuckReason::BusyTooLong));
        }
        self.sleep(d, reason);
        Ok(())
    }

    /// Sleep a poll timeout outside any loop, still bounded by `max_busy`.
    pub(crate) fn wait_once(&mut self, d: Duration) -> Result<(), Error> {
        let budget = Budget::new(self.clock().now());
        self.wait(&budget, d, SleepReason::PollTimeout)
    }

    pub(crate) fn stuck(&self, budget: &Budget, reason: StuckReason) -> Error {
        Error::Stuck {
            during: self.during_op(),
            reason,
            polls: budget.polls,
            elapsed: self.clock().now().saturating_sub(budget.start),
        }
    }

    /// dfuERROR or a non-OK status is the device's error; anything else outside `expected` is ours to report.
    pub(crate) fn unexpected_or_device_error(
        &self,
        reply: &StatusReply,
        expected: &'static [State],
    ) -> Error {
        if reply.state == State::DfuError || !reply.is_ok() {
            Error::DeviceError {
                during: self.during_op(),
                status: reply.status,
                state: reply.state,
            }
        } else {
            Error::UnexpectedState {
                during: self.during_op(),
                expected,
                got: *reply,
            }
        }
    }

    /// Ok when the reply is OK and in one of `expected`.
    pub(crate) fn expect_state(
        &self,
        reply: StatusReply,
        expected: &'static [State],
    ) -> Result<StatusReply, Error> {
        if reply.is_ok() && expected.contains(&reply.state) {
            Ok(reply)
        } else {
            Err(self.unexpected_or_device_error(&reply, expected))
        }
    }
}
