//! The I/O seam: the one trait through which the DfuSe host touches a device, the injected clock, and the
//! transfer errors a backend maps its own failures into. Nothing here knows about any USB library.

use std::fmt;
use std::time::Duration;

/// bmRequestType direction bit: device-to-host.
pub const DIR_IN: u8 = 0x80;

/// An 8-byte USB SETUP packet, as it goes on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Setup {
    /// bmRequestType
    pub request_type: u8,
    /// bRequest
    pub request: u8,
    /// wValue
    pub value: u16,
    /// wIndex
    pub index: u16,
    /// wLength
    pub length: u16,
}

impl Setup {
    /// The packet's eight bytes, little endian, as sent on the bus.
    pub fn to_bytes(&self) -> [u8; 8] {
        let [v0, v1] = self.value.to_le_bytes();
        let [i0, i1] = self.index.to_le_bytes();
        let [l0, l1] = self.length.to_le_bytes();
        [self.request_type, self.request, v0, v1, i0, i1, l0, l1]
    }

    /// Parse the eight bytes of a SETUP packet.
    pub fn from_bytes(b: [u8; 8]) -> Self {
        Self {
            request_type: b[0],
            request: b[1],
            value: u16::from_le_bytes([b[2], b[3]]),
            index: u16::from_le_bytes([b[4], b[5]]),
            length: u16::from_le_bytes([b[6], b[7]]),
        }
    }

    /// True when the data stage goes device-to-host.
    pub fn is_in(&self) -> bool {
        self.request_type & DIR_IN != 0
    }
}

/// Coarse classes of transfer failure that callers branch on and records store.
/// The names are stable: they end up in CSV files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransferErrorKind {
    /// The device did not complete the transfer within the timeout.
    Timeout,
    /// The device answered with a STALL handshake (LIBUSB_ERROR_PIPE).
    Stall,
    /// The device is gone from the bus.
    Disconnected,
    /// A bus-level error: CRC, bit-stuffing, babble (EPROTO / LIBUSB_ERROR_IO).
    Io,
    /// The host may not open the device (permissions, driver).
    Access,
    /// Another program holds the device or interface.
    Busy,
    /// Anything else the backend reported.
    Other,
}

impl TransferErrorKind {
    /// Stable lower-case name, used in records.
    pub fn name(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Stall => "stall",
            Self::Disconnected => "disconnected",
            Self::Io => "io",
            Self::Access => "access",
            Self::Busy => "busy",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for TransferErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A failed control transfer, as reported by a backend.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct TransferError {
    /// What class of failure this is.
    pub kind: TransferErrorKind,
    /// The backend's own words, for people.
    pub detail: String,
}

impl TransferError {
    /// A transfer error of `kind` with a human-readable detail.
    pub fn new(kind: TransferErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
        }
    }
}

/// Control transfers on endpoint 0: all the DfuSe host needs from a device.
///
/// Implemented by the rusb backend, by the virtual board adapter, and by test doubles.
pub trait DfuIo {
    /// A control transfer with a device-to-host data stage of at most `setup.length` bytes.
    /// Returns the bytes actually received.
    fn control_in(&mut self, setup: Setup, timeout: Duration) -> Result<Vec<u8>, TransferError>;

    /// A control transfer with a host-to-device data stage (`data.len() == setup.length`).
    /// Returns the number of bytes the device accepted.
    fn control_out(
        &mut self,
        setup: Setup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, TransferError>;
}

impl<T: DfuIo + ?Sized> DfuIo for &mut T {
    fn control_in(&mut self, setup: Setup, timeout: Duration) -> Result<Vec<u8>, TransferError> {
        (**self).control_in(setup, timeout)
    }
    fn control_out(
        &mut self,
        setup: Setup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, TransferError> {
        (**self).control_out(setup, data, timeout)
    }
}

impl<T: DfuIo + ?Sized> DfuIo for Box<T> {
    fn control_in(&mut self, setup: Setup, timeout: Duration) -> Result<Vec<u8>, TransferError> {
        (**self).control_in(setup, timeout)
    }
    fn control_out(
        &mut self,
        setup: Setup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, TransferError> {
        (**self).control_out(setup, data, timeout)
    }
}

/// Time, injected: real for real rigs, virtual for the virtual board (a thousand cycles in seconds).
///
/// Takes `&self` so one clock can be shared (through `Arc`) between the host, the transport and the runner.
pub trait Clock: Send + Sync {
    /// Monotonic time since an arbitrary origin.
    fn now(&self) -> Duration;
    /// Wait for `d` (a virtual clock just advances).
    fn sleep(&self, d: Duration);
}

/// The machine's monotonic clock.
#[derive(Debug)]
pub struct SystemClock {
    origin: std::time::Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Self {
            origin: std::time::Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d)
    }
}

/// Virtual time: `sleep` advances it instantly. Shared via `Arc<VirtualClock>`.
#[derive(Debug, Default)]
pub struct VirtualClock {
    nanos: std::sync::atomic::AtomicU64,
}

impl VirtualClock {
    /// A virtual clock at t = 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Move time forward to `t` if it is later than now (never backwards).
    pub fn advance_to(&self, t: Duration) {
        let t = u64::try_from(t.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_max(t, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(std::sync::atomic::Ordering::SeqCst))
    }
    fn sleep(&self, d: Duration) {
        let d = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(d, std::sync::atomic::Ordering::SeqCst);
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Duration {
        (**self).now()
    }
    fn sleep(&self, d: Duration) {
        (**self).sleep(d)
    }
}
