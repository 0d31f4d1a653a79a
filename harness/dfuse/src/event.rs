//! The event stream of a DfuSe session: every request with its reply and timing, every sleep, and the start and
//! end of each operation. Observers consume it; [`Trace`] records it and renders a deterministic text trace.

use std::fmt::{self, Write as _};
use std::time::Duration;

use crate::error::ErrorKind;
use crate::io::{Setup, TransferError};
use crate::request::{Command, Request};
use crate::status::StatusReply;

/// What the host was doing; used in events and in errors (`during`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// A single request sent on its own.
    Request(Request),
    /// Start-up recovery to dfuIDLE.
    Connect,
    /// DFU_ABORT then DFU_GETSTATUS expecting dfuIDLE.
    AbortToIdle,
    /// A DfuSe command and its polling.
    Command(Command),
    /// DfuSe Get Commands (DFU_UPLOAD wBlockNum 0).
    GetCommands,
    /// Reading memory.
    Upload {
        /// First address.
        address: u32,
        /// Bytes.
        len: usize,
    },
    /// Erasing and writing memory.
    Download {
        /// First address.
        address: u32,
        /// Bytes.
        len: usize,
    },
    /// One DFU_DNLOAD data block and its polling.
    Write {
        /// Address the block lands at.
        address: u32,
        /// wBlockNum.
        block: u16,
        /// Bytes.
        len: usize,
    },
    /// Read-back and compare.
    Verify {
        /// First address.
        address: u32,
        /// Bytes.
        len: usize,
    },
    /// Leaving DFU mode (zero-length DFU_DNLOAD).
    Leave,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request(r) => write!(f, "{r}"),
            Self::Connect => f.write_str("connect"),
            Self::AbortToIdle => f.write_str("abort to idle"),
            Self::Command(c) => write!(f, "{c}"),
            Self::GetCommands => f.write_str("get commands"),
            Self::Upload { address, len } => write!(f, "upload {len} bytes at {address:#010x}"),
            Self::Download { address, len } => write!(f, "download {len} bytes to {address:#010x}"),
            Self::Write {
                address,
                block,
                len,
            } => write!(f, "write block {block} ({len} bytes at {address:#010x})"),
            Self::Verify { address, len } => write!(f, "verify {len} bytes at {address:#010x}"),
            Self::Leave => f.write_str("leave"),
        }
    }
}

/// Why the host slept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SleepReason {
    /// Honouring `bwPollTimeout` from a DFU_GETSTATUS reply.
    #[doc(alias = "bwPollTimeout")]
    PollTimeout,
    /// Reusing the last poll timeout after a stalled DFU_GETSTATUS (dfu-util's STM32L4 workaround).
    StallRetry,
    /// The F405 mass-erase quirk: the device says 100 ms but needs up to 32 s.
    MassEraseQuirk,
}

impl SleepReason {
    /// Short stable name.
    pub fn name(self) -> &'static str {
        match self {
            Self::PollTimeout => "bwPollTimeout",
            Self::StallRetry => "stall retry",
            Self::MassEraseQuirk => "mass-erase quirk",
        }
    }
}

/// One control transfer: what was sent, what came back, when and how long it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferEvent {
    /// Which DFU request.
    pub request: Request,
    /// The exact SETUP packet.
    pub setup: Setup,
    /// Bytes in the OUT data stage (0 for IN requests).
    pub data_out_len: usize,
    /// The DfuSe command, when this is a DFU_DNLOAD with wBlockNum 0 carrying one.
    pub command: Option<Command>,
    /// IN data (empty for OUT requests), or the backend's error.
    pub reply: Result<Vec<u8>, TransferError>,
    /// Bytes the device accepted in the OUT data stage.
    pub data_out_accepted: usize,
    /// Clock time when the transfer started.
    pub started: Duration,
    /// How long it took.
    pub elapsed: Duration,
    /// The decoded reply of a DFU_GETSTATUS, when it decodes.
    pub status: Option<StatusReply>,
}

/// Something that happened in a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An operation started.
    Begin {
        /// Which.
        operation: Operation,
        /// Clock time.
        at: Duration,
    },
    /// A control transfer.
    Transfer(TransferEvent),
    /// The host waited.
    Sleep {
        /// How long.
        duration: Duration,
        /// Why.
        reason: SleepReason,
    },
    /// An operation ended.
    End {
        /// Which.
        operation: Operation,
        /// Success, or the kind of failure.
        outcome: Result<(), ErrorKind>,
        /// Time since its Begin.
        elapsed: Duration,
    },
}

/// A consumer of session events.
pub trait Observer {
    /// Called synchronously for every event, in order.
    fn event(&mut self, e: &Event);
}

/// Ignores every event.
#[derive(Clone, Copy, Debug, Default)]
pub struct NullObserver;

impl Observer for NullObserver {
    fn event(&mut self, _: &Event) {}
}

impl<O: Observer + ?Sized> Observer for &mut O {
    fn event(&mut self, e: &Event) {
        (**self).event(e)
    }
}

impl<O: Observer + ?Sized> Observer for Box<O> {
    fn event(&mut self, e: &Event) {
        (**self).event(e)
    }
}

/// Both observers, in order.
impl<A: Observer, B: Observer> Observer for (A, B) {
    fn event(&mut self, e: &Event) {
        self.0.event(e);
        self.1.event(e);
    }
}

/// Records every event; renders a compact text trace for people and snapshots.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The events, in order.
    pub events: Vec<Event>,
}

impl Observer for Trace {
    fn event(&mut self, e: &Event) {
        self.events.push(e.clone());
    }
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Self {
        Self::default()
    }

    /// The transfer events only.
    pub fn transfers(&self) -> impl Iterator<Item = &TransferEvent> {
        self.events.iter().filter_map(|e| match e {
            Event::Transfer(t) => Some(t),
            _ => None,
        })
    }

    /// Sum of all sleeps.
    pub fn slept(&self) -> Duration {
        let sleeps = self.events.iter().filter_map(|e| match e {
            Event::Sleep { duration, .. } => Some(*duration),
            _ => None,
        });
        sleeps.sum()
    }

    /// One line per event, indented by operation nesting; no clock times (deterministic).
    pub fn render(&self) -> String {
        self.render_with(false)
    }

    /// As [`Trace::render`], with start time and duration on transfers and operation ends when `times`.
    pub fn render_with(&self, times: bool) -> String {
        let mut out = String::new();
        let mut depth = 0usize;
        for e in &self.events {
            if matches!(e, Event::End { .. }) {
                depth = depth.saturating_sub(1);
            }
            let _ = writeln!(out, "{}{}", "  ".repeat(depth), line(e, times));
            if matches!(e, Event::Begin { .. }) {
                depth += 1;
            }
        }
        out
    }
}

/// One event as one line of text, as [`Trace::render_with`] shows it (for live printing).
pub fn render_event(e: &Event, times: bool) -> String {
    line(e, times)
}

fn line(e: &Event, times: bool) -> String {
    match e {
        Event::Begin { operation, .. } => format!("> {operation}"),
        Event::End {
            operation,
            outcome,
            elapsed,
        } => {
            let result = outcome.map_or_else(|k| k.name(), |()| "ok");
            let t = if times {
                format!(" [{}]", ms(*elapsed))
            } else {
                String::new()
            };
            format!("< {operation}: {result}{t}")
        }
        Event::Sleep { duration, reason } => format!("sleep {} ({})", ms(*duration), reason.name()),
        Event::Transfer(t) => transfer_line(t, times),
    }
}

fn transfer_line(t: &TransferEvent, times: bool) -> String {
    let mut s = String::new();
    if times {
        let _ = write!(s, "[{} +{}] ", ms(t.started), ms(t.elapsed));
    }
    let _ = write!(
        s,
        "{} wValue={} wLength={}",
        t.request, t.setup.value, t.setup.length
    );
    if let Some(c) = t.command {
        let _ = write!(s, " [{c}]");
    }
    let _ = write!(s, " -> {}", reply_summary(t));
    s
}

fn reply_summary(t: &TransferEvent) -> String {
    match (&t.reply, t.status) {
        (Err(e), _) => e.kind.name().to_string(),
        (Ok(_), Some(st)) => st.to_string(),
        (Ok(data), None) if t.request.is_in() => format!("{} bytes", data.len()),
        (Ok(_), None) if t.data_out_accepted != t.data_out_len => {
            format!("sent {}/{}", t.data_out_accepted, t.data_out_len)
        }
        (Ok(_), None) => "ok".to_string(),
    }
}

fn ms(d: Duration) -> String {
    let micros = d.as_micros();
    let (whole, frac) = (micros / 1000, micros % 1000);
    if frac == 0 {
        format!("{whole}ms")
    } else {
        format!("{whole}.{frac:03}ms")
    }
}
