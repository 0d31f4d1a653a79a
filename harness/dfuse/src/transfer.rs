//! The one place a control transfer happens: timed with the clock, reported to the observer, errors mapped
//! and attributed to the operation in progress. Also operation scoping and sleeping, which emit events too.

use std::time::Duration;

use crate::error::{Error, ParseError};
use crate::event::{Event, Observer, Operation, SleepReason, TransferEvent};
use crate::host::Dfuse;
use crate::io::{Clock, DfuIo};
use crate::plan::PlanError;
use crate::request::{Command, Request, BLOCK_COMMAND};
use crate::status::parse_status;

impl<I: DfuIo, C: Clock, O: Observer> Dfuse<I, C, O> {
    /// The one place a control transfer happens: timed with the clock, reported as an event, errors mapped.
    pub(crate) fn transfer(
        &mut self,
        request: Request,
        value: u16,
        out: &[u8],
        in_len: u16,
    ) -> Result<Vec<u8>, Error> {
        let out_len =
            u16::try_from(out.len()).map_err(|_| PlanError::BadTransferSize(out.len()))?;
        let length = if request.is_in() { in_len } else { out_len };
        let setup = request.setup(self.interface, value, length);
        let started = self.clock.now();
        let mut accepted = 0;
        let reply = if request.is_in() {
            self.io.control_in(setup, self.timeout)
        } else {
            let sent = self.io.control_out(setup, out, self.timeout);
            sent.map(|n| accepted = n).map(|()| Vec::new())
        };
        let elapsed = self.clock.now().saturating_sub(started);
        let status = match (&reply, request) {
            (Ok(data), Request::GetStatus) => parse_status(data).ok(),
            _ => None,
        };
        let command = (request == Request::Dnload && value == BLOCK_COMMAND)
            .then(|| Command::decode(out))
            .flatten();
        self.observer.event(&Event::Transfer(TransferEvent {
            request,
            setup,
            data_out_len: out.len(),
            command,
            reply: reply.clone(),
            data_out_accepted: accepted,
            started,
            elapsed,
            status,
        }));
        let data = reply.map_err(|source| Error::Transfer {
            request,
            during: self.during(request),
            source,
        })?;
        if accepted != out.len() {
            return Err(Error::ShortWrite {
                during: self.during(request),
                sent: accepted,
                expected: out.len(),
            });
        }
        Ok(data)
    }

    /// Run `f` as `op`: Begin and End events around it, `op` named in errors raised inside.
    pub(crate) fn scoped<T>(
        &mut self,
        op: Operation,
        f: impl FnOnce(&mut Self) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let at = self.clock.now();
        self.observer.event(&Event::Begin { operation: op, at });
        self.ops.push(op);
        let result = f(self);
        self.ops.pop();
        self.observer.event(&Event::End {
            operation: op,
            outcome: result.as_ref().map(drop).map_err(Error::kind),
            elapsed: self.clock.now().saturating_sub(at),
        });
        result
    }

    /// Sleep through the clock and report it; zero sleeps are skipped.
    pub(crate) fn sleep(&mut self, duration: Duration, reason: SleepReason) {
        if duration.is_zero() {
            return;
        }
        self.clock.sleep(duration);
        self.observer.event(&Event::Sleep { duration, reason });
    }

    /// The innermost operation, or the bare request when none is running.
    fn during(&self, request: Request) -> Operation {
        self.ops
            .last()
            .copied()
            .unwrap_or(Operation::Request(request))
    }

    /// The innermost operation (GETSTATUS when none: only polls raise errors outside a request).
    pub(crate) fn during_op(&self) -> Operation {
        self.during(Request::GetStatus)
    }

    pub(crate) fn parse_error(&self, request: Request, source: ParseError) -> Error {
        Error::Parse {
            request,
            during: self.during(request),
            source,
        }
    }
}
