//! One board during a soak: its rig control, its clock, its USB transport (open while the bootloader is
//! enumerated) and what the current cycle learnt about it; and how each kind of step is carried out on it.
//! Knows nothing of phases, retries or records.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dfuse::{Clock, Event, Observer, VirtualClock};

use super::exec_step::{self, ExecBoard, StepContext};
use super::failure::StepError;
use super::CycleFacts;
use crate::backend::{self, Backends, BoardDescription, ChipError, OpenedChip};
use crate::clocks::{self, ClockSnapshot, TargetDescription};
use crate::dfu::{self, FlashOptions};
use crate::image::Image;
use crate::probe::ProbeOptions;
use crate::rig::{BoardSpec, RigControl, VirtualFaults, VirtualRig};
use crate::scenario::{Action, ImageSource};
use crate::transport::{Transport, VirtualBoard};

/// SWD clock for rig probes (probe-rs default range; ST-LINK rounds it).
const PROBE_SPEED_KHZ: u32 = 1800;

/// Counts the DFU class requests a step sends.
#[derive(Default)]
pub(crate) struct RequestCounter(pub u32);

impl Observer for RequestCounter {
    fn event(&mut self, e: &Event) {
        if matches!(e, Event::Transfer(_)) {
            self.0 += 1;
        }
    }
}

/// A board under soak.
pub(crate) struct BoardRun {
    pub spec: BoardSpec,
    pub backends: Backends,
    pub control: Box<dyn RigControl>,
    /// A virtual rig's fault draws for this board (reseeded per cycle, asked before each clock read).
    pub faults: Option<VirtualFaults>,
    pub clock: Arc<dyn Clock>,
    pub transport: Option<Box<dyn Transport>>,
    pub facts: CycleFacts,
    pub requests: RequestCounter,
    pub target: Arc<TargetDescription>,
    pub images: Arc<Vec<(ImageSource, Image)>>,
    /// The run folder (exec steps' `{run_dir}`, and their `exec/` folder in it).
    pub run_dir: Arc<PathBuf>,
    /// Which step of which cycle runs now (an exec step's placeholders).
    pub step: StepContext,
    /// A passing step's detail for its steps.csv row (an exec step's exit code and time).
    pub note: Option<String>,
}

impl BoardRun {
    /// A virtual board in its own virtual time.
    pub fn new_virtual(
        spec: &BoardSpec,
        seed: u64,
        port: u8,
        shared: &Shared,
    ) -> Result<Self, StepError> {
        let clock = Arc::new(VirtualClock::new());
        let rig = VirtualRig::single(spec, clock.clone(), seed)?;
        let board = rig
            .board(&spec.name)
            .cloned()
            .ok_or_else(|| StepError::harness("virtual board missing"))?;
        let control = rig
            .control(&spec.name)
            .ok_or_else(|| StepError::harness("virtual control missing"))?;
        let backends = Backends::of_virtual(board, clock, port);
        let mut run = Self::with(spec, backends, Box::new(control), shared);
        run.faults = rig.faults(&spec.name).cloned();
        Ok(run)
    }

    /// A real board on a serial rig controller, in real time.
    pub fn new_real(spec: &BoardSpec, control: Box<dyn RigControl>, shared: &Shared) -> Self {
        let description = BoardDescription::Real {
            usb: spec.usb.clone(),
            probe: probe_options(spec),
        };
        let backends = backend::open(&description).expect("a real board opens nothing yet");
        Self::with(spec, backends, control, shared)
    }

    fn with(
        spec: &BoardSpec,
        backends: Backends,
        control: Box<dyn RigControl>,
        shared: &Shared,
    ) -> Self {
        Self {
            spec: spec.clone(),
            clock: backends.clock(),
            backends,
            control,
            faults: None,
            transport: None,
            facts: CycleFacts::default(),
            requests: RequestCounter::default(),
            target: shared.target.clone(),
            images: shared.images.clone(),
            run_dir: shared.run_dir.clone(),
            step: StepContext::default(),
            note: None,
        }
    }

    /// The virtual board, if this is one.
    pub fn virtual_board(&self) -> Option<&VirtualBoard> {
        self.backends.virtual_board()
    }

    /// Carry out one step.
    pub fn run(&mut self, action: &Action, timeout: Duration) -> Result<(), StepError> {
        match action {
            Action::PowerCycle { off } => self.power_cycle(*off),
            Action::Boot0 { high } => Ok(self.control.boot0(*high)?),
            Action::Reset => {
                self.transport = None;
                Ok(self.control.reset_pulse()?)
            }
            Action::WaitEnumeration => self.enumerate(timeout).map(|_| ()),
            Action::DfuConnect => self.dfu_connect(timeout),
            Action::ReadOptionBytes => self.read_option_bytes(timeout),
            Action::ReadClocks => self.read_clocks().map(|_| ()),
            Action::MeasureSysclk { window } => self.measure_sysclk(*window),
            Action::MeasureHsi { window } => self.measure_hsi(*window),
            Action::Flash {
                image,
                address: _,
                verify,
            } => self.flash(image, *verify, timeout),
            Action::Leave => self.leave(timeout),
            Action::Delay { time } => {
                self.clock.sleep(*time);
                Ok(())
            }
            Action::Exec(step) => self.exec(step, timeout),
        }
    }

    /// Runs an external tool against the board, its USB device released first so the tool can claim it.
    fn exec(
        &mut self,
        step: &crate::scenario::ExecStep,
        timeout: Duration,
    ) -> Result<(), StepError> {
        // Released first, so the tool can claim the device.
        self.transport = None;
        let board = ExecBoard {
            name: &self.spec.name,
            usb_serial: self.spec.usb.serial.as_deref(),
            usb_path: self.spec.usb.path.as_deref(),
        };
        self.note = Some(exec_step::run(
            step,
            &board,
            &self.step,
            &self.run_dir,
            timeout,
        )?);
        Ok(())
    }

    fn power_cycle(&mut self, off: Duration) -> Result<(), StepError> {
        self.transport = None;
        self.control.power(false)?;
        self.clock.sleep(off);
        Ok(self.control.power(true)?)
    }

    /// The open transport, enumerating the device first when needed.
    fn enumerate(&mut self, timeout: Duration) -> Result<&mut Box<dyn Transport>, StepError> {
        if self.transport.is_none() {
            let mut t = self.open_transport(timeout)?;
            self.facts.enumerated = true;
            let earlier = self.facts.halted_before_enumeration.unwrap_or(false);
            self.facts.halted_before_enumeration = Some(earlier || self.facts.halting_attach);
            // The records need the serial; the DFU steps read the alt-setting names they need themselves.
            self.facts.serial = t.serial();
            self.transport = Some(t);
        }
        Ok(self.transport.as_mut().expect("just opened"))
    }

    fn open_transport(&mut self, timeout: Duration) -> Result<Box<dyn Transport>, StepError> {
        Ok(self.backends.transport(timeout)?)
    }

    /// Run one DFU operation on the (enumerated) device, counting its requests into the step's.
    fn with_dfu<T>(
        &mut self,
        timeout: Duration,
        op: impl FnOnce(
            &mut dyn Transport,
            Arc<dyn Clock>,
            &mut RequestCounter,
        ) -> Result<T, dfu::OpError>,
    ) -> Result<T, StepError> {
        let clock = self.clock.clone();
        let mut counter = RequestCounter::default();
        let t = self.enumerate(timeout)?;
        let result = op(t.as_mut(), clock, &mut counter);
        self.requests.0 += counter.0;
        Ok(result?)
    }

    fn dfu_connect(&mut self, timeout: Duration) -> Result<(), StepError> {
        self.with_dfu(timeout, |t, clock, counter| {
            dfu::open(t, clock, 0, timeout, counter).map(drop)
        })
    }

    fn read_option_bytes(&mut self, timeout: Duration) -> Result<(), StepError> {
        let ob = self.with_dfu(timeout, |t, clock, counter| {
            dfu::read_option_bytes(t, clock, timeout, counter)
        })?;
        self.facts.option_bytes = Some(ob.data);
        Ok(())
    }

    fn flash(
        &mut self,
        source: &ImageSource,
        verify: bool,
        timeout: Duration,
    ) -> Result<(), StepError> {
        let images = self.images.clone();
        let image = images.iter().find(|(s, _)| s == source).map(|(_, i)| i);
        let image = image.ok_or_else(|| StepError::harness("flash image was not prepared"))?;
        let opts = FlashOptions {
            verify,
            timeout,
            ..FlashOptions::default()
        };
        self.with_dfu(timeout, |t, clock, counter| {
            dfu::flash(t, clock, image, opts, counter).map(drop)
        })
    }

    fn leave(&mut self, timeout: Duration) -> Result<(), StepError> {
        let result = self.with_dfu(timeout, |t, clock, counter| {
            let mut session = dfu::open(t, clock, 0, timeout, counter)?;
            let left = session.leave(None);
            left.map(drop).map_err(|source| dfu::OpError::Dfu {
                during: "leaving DFU",
                source,
            })
        });
        self.transport = None;
        result
    }

    /// The chip's memory and debug control: the virtual board's register file, or a probe-rs attach
    /// (`halting` for the intrusive HSI measurement).
    fn chip(&mut self, halting: bool) -> Result<OpenedChip, StepError> {
        let chip = self.backends.chip(halting);
        // probe-rs halts the core while it attaches a session (probe-rs issue 3135); an attach that failed on
        // the way may already have halted it. Only a board without a probe certainly was not.
        self.facts.halting_attach |= halting && !matches!(chip, Err(ChipError::NoProbe));
        chip.map_err(|e| match e {
            ChipError::NoProbe => StepError::harness(format!(
                "board {} has no probe in the rig file",
                self.spec.name
            )),
            ChipError::Probe(e) => e.into(),
        })
    }

    fn read_clocks(&mut self) -> Result<&ClockSnapshot, StepError> {
        if let Some(faults) = &self.faults {
            faults.probe_read()?;
        }
        let (snapshot, derived) = clocks::read_derived(
            self.chip(false)?.as_chip(),
            &self.target,
            f64::from(self.spec.hse_hz),
        )?;
        self.facts.derived = Some(derived);
        Ok(self.facts.snapshot.insert(snapshot))
    }

    fn measure_sysclk(&mut self, window: Duration) -> Result<(), StepError> {
        let snapshot = match self.facts.snapshot.clone() {
            Some(s) => s,
            None => self.read_clocks()?.clone(),
        };
        let mut chip = self.chip(false)?;
        let m = clocks::measure_sysclk(
            chip.as_chip(),
            self.clock.as_ref(),
            &self.target,
            &snapshot,
            window,
        )?;
        self.facts.sysclk = Some(m);
        Ok(())
    }

    /// Intrusive: resets the board twice; the bootloader comes back with a new HSE measurement.
    fn measure_hsi(&mut self, window: Duration) -> Result<(), StepError> {
        self.transport = None;
        let mut chip = self.chip(true)?;
        self.facts.hsi = Some(clocks::measure_hsi(
            chip.as_chip(),
            self.clock.as_ref(),
            &self.target,
            window,
        )?);
        Ok(())
    }
}

/// How the soak reaches a real board's chip: its rig file's probe at the rig's SWD clock.
fn probe_options(spec: &BoardSpec) -> Option<ProbeOptions> {
    let p = spec.probe.as_ref()?;
    Some(ProbeOptions {
        selector: crate::probe::probe_rs_selector(p),
        chip: spec.chip.clone(),
        speed_khz: PROBE_SPEED_KHZ,
        connect_under_reset: false,
        halting_session: false,
        access_port: 0,
    })
}

/// What every board worker shares: the register map, the prepared flash images and the run folder.
pub(crate) struct Shared {
    pub target: Arc<TargetDescription>,
    pub images: Arc<Vec<(ImageSource, Image)>>,
    pub run_dir: Arc<PathBuf>,
}
