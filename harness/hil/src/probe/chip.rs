//! [`ProbeChip`]: a chip attached through a debug probe, on the access-port path or in a probe-rs session,
//! as a `probe_rs::MemoryInterface` and a [`DebugControl`].

use std::time::Duration;

use probe_rs::architecture::arm::sequences::DefaultArmSequence;
use probe_rs::architecture::arm::{ArmDebugInterface, FullyQualifiedApAddress};
use probe_rs::config::{DebugSequence, Target};
use probe_rs::probe::list::Lister;
use probe_rs::probe::{DebugProbeSelector, Probe, WireProtocol};
use probe_rs::{Core, Error, MemoryInterface, Permissions, Session};

use super::find_chip;
use crate::clocks::{Classify, ClockError, Culprit, DebugControl, ReadPath};

/// How long probe-rs may take to halt the core at reset.
const HALT_TIMEOUT: Duration = Duration::from_millis(500);
/// Two Thumb `b .` instructions: the spin loop the HSI measurement runs at reset clocks.
const SPIN_LOOP: u32 = 0xE7FE_E7FE;

/// How to reach the chip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOptions {
    pub selector: DebugProbeSelector,
    /// probe-rs target name, e.g. "STM32F746ZGTx".
    pub chip: String,
    pub speed_khz: u32,
    pub connect_under_reset: bool,
    /// Open a probe-rs session (halts the core briefly) even without connect-under-reset: needed for the
    /// HSI measurement.
    pub halting_session: bool,
    /// Memory access port index for the access-port path.
    pub access_port: u8,
}

fn failed<E: Classify>(during: impl Into<String>) -> impl FnOnce(E) -> ClockError {
    let during = during.into();
    move |e| ClockError::Probe {
        during,
        culprit: e.culprit(),
        source: Box::new(e),
    }
}

enum Inner {
    AccessPort {
        interface: Box<dyn ArmDebugInterface>,
        ap: FullyQualifiedApAddress,
    },
    Session(Box<Session>),
}

/// An attached chip.
pub struct ProbeChip {
    inner: Inner,
    speed_khz: u32,
}

impl ProbeChip {
    /// Finds the probe by selector and attaches to the chip.
    pub fn open(opts: &ProbeOptions) -> Result<ProbeChip, ClockError> {
        let target = find_chip(&opts.chip)?;
        let lister = Lister::new();
        let probe = lister.open(opts.selector.clone()).map_err(|e| {
            let present: Vec<String> = lister
                .list_all()
                .iter()
                .map(|p| {
                    format!(
                        "{} ({:04x}:{:04x})",
                        p.identifier, p.vendor_id, p.product_id
                    )
                })
                .collect();
            let present = if present.is_empty() {
                "none".to_string()
            } else {
                present.join(", ")
            };
            failed(format!(
                "opening debug probe {} (probes present: {present})",
                opts.selector
            ))(e)
        })?;
        Self::attach(probe, target, opts)
    }

    /// Attaches an opened probe to `target` over SWD.
    pub fn attach(
        mut probe: Probe,
        target: Target,
        opts: &ProbeOptions,
    ) -> Result<Self, ClockError> {
        let name = probe.get_name();
        probe
            .select_protocol(WireProtocol::Swd)
            .map_err(failed(format!("selecting SWD on {name}")))?;
        let speed_khz = probe
            .set_speed(opts.speed_khz)
            .map_err(failed(format!("setting {} kHz on {name}", opts.speed_khz)))?;
        let inner = if opts.connect_under_reset || opts.halting_session {
            Inner::Session(Box::new(Self::session(probe, target, opts)?))
        } else {
            Self::access_port(probe, &target, opts.access_port)?
        };
        Ok(ProbeChip { inner, speed_khz })
    }

    fn session(probe: Probe, target: Target, opts: &ProbeOptions) -> Result<Session, ClockError> {
        let permissions = Permissions::default();
        if !opts.connect_under_reset {
            return probe
                .attach(target, permissions)
                .map_err(failed("attaching a probe-rs session"));
        }
        let mut session = probe
            .attach_under_reset(target, permissions)
            .map_err(failed("attaching under reset"))?;
        // probe-rs leaves the core halted at the reset vector; let the ROM bootloader start.
        session
            .core(0)
            .and_then(|mut core| core.run())
            .map_err(failed("releasing the core after connect-under-reset"))?;
        Ok(session)
    }

    fn access_port(mut probe: Probe, target: &Target, ap: u8) -> Result<Inner, ClockError> {
        probe
            .attach_to_unspecified()
            .map_err(failed("attaching to the debug port"))?;
        let sequence = match &target.debug_sequence {
            DebugSequence::Arm(sequence) => sequence.clone(),
            _ => DefaultArmSequence::create(),
        };
        let interface = probe
            .try_into_arm_debug_interface(sequence)
            .map_err(|(_, e)| failed("opening the ARM debug interface")(e))?;
        Ok(Inner::AccessPort {
            interface,
            ap: FullyQualifiedApAddress::v1_with_default_dp(ap),
        })
    }

    /// Which path the reads take.
    pub fn path(&self) -> ReadPath {
        match self.inner {
            Inner::AccessPort { .. } => ReadPath::AccessPort,
            Inner::Session(_) => ReadPath::HaltingSession,
        }
    }

    /// SWD clock the probe accepted, kHz.
    pub fn speed_khz(&self) -> u32 {
        self.speed_khz
    }

    fn core(&mut self, purpose: &str) -> Result<Core<'_>, ClockError> {
        match &mut self.inner {
            Inner::Session(session) => session.core(0).map_err(failed("opening core 0")),
            Inner::AccessPort { .. } => Err(ClockError::Measurement {
                culprit: Culprit::Harness,
                message: format!("{purpose} needs a probe-rs session (halting attach)"),
            }),
        }
    }
}

/// Runs `$call` on the chip's memory: the access port's memory interface, or core 0 of the session.
macro_rules! on_memory {
    ($self:ident, $m:ident => $call:expr) => {
        match &mut $self.inner {
            Inner::AccessPort { interface, ap } => {
                let mut $m = interface.memory_interface(ap)?;
                $call.map_err(Error::from)
            }
            Inner::Session(session) => {
                let mut $m = session.core(0)?;
                $call
            }
        }
    };
}

impl MemoryInterface for ProbeChip {
    fn supports_native_64bit_access(&mut self) -> bool {
        false
    }
    fn read_64(&mut self, address: u64, data: &mut [u64]) -> Result<(), Error> {
        on_memory!(self, m => m.read_64(address, data))
    }
    fn read_32(&mut self, address: u64, data: &mut [u32]) -> Result<(), Error> {
        on_memory!(self, m => m.read_32(address, data))
    }
    fn read_16(&mut self, address: u64, data: &mut [u16]) -> Result<(), Error> {
        on_memory!(self, m => m.read_16(address, data))
    }
    fn read_8(&mut self, address: u64, data: &mut [u8]) -> Result<(), Error> {
        on_memory!(self, m => m.read_8(address, data))
    }
    fn write_64(&mut self, address: u64, data: &[u64]) -> Result<(), Error> {
        on_memory!(self, m => m.write_64(address, data))
    }
    fn write_32(&mut self, address: u64, data: &[u32]) -> Result<(), Error> {
        on_memory!(self, m => m.write_32(address, data))
    }
    fn write_16(&mut self, address: u64, data: &[u16]) -> Result<(), Error> {
        on_memory!(self, m => m.write_16(address, data))
    }
    fn write_8(&mut self, address: u64, data: &[u8]) -> Result<(), Error> {
        on_memory!(self, m => m.write_8(address, data))
    }
    fn supports_8bit_transfers(&self) -> Result<bool, Error> {
        Ok(true)
    }
    fn flush(&mut self) -> Result<(), Error> {
        on_memory!(self, m => m.flush())
    }
}

impl DebugControl for ProbeChip {
    fn reset_to_spin_loop(&mut self, scratch_ram: u32) -> Result<(), ClockError> {
        let mut core = self.core("the HSI measurement")?;
        core.reset_and_halt(HALT_TIMEOUT)
            .map_err(failed("halting the core at reset"))?;
        core.write_word_32(u64::from(scratch_ram), SPIN_LOOP)
            .map_err(failed("writing the spin loop to SRAM"))?;
        let pc = core.program_counter();
        core.write_core_reg(pc, scratch_ram)
            .map_err(failed("pointing PC at the spin loop"))?;
        core.run().map_err(failed("running the spin loop"))
    }

    fn reset_to_bootloader(&mut self) -> Result<(), ClockError> {
        let mut core = self.core("resetting into the bootloader")?;
        core.reset()
            .map_err(failed("resetting into the bootloader"))
    }
}
