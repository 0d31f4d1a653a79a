//! The board's state, power and reset handling, and what happens at each boot (AN2606 pattern 8 boot selection,
//! HSE measurement, attach delay). Every draw comes from ChaCha streams seeded by [`Board::new`].

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::types::{BootRecord, ResetCause, RunMode};
use crate::clock;
use crate::config::{BoardConfig, SerialFormula};
use crate::descriptors::{serial_number, Descriptors};
use crate::dfu::Dfu;
use crate::faults::{Fault, Faults};
use crate::memory::{Memory, OptionBytes};
use crate::registers::{CoreDebug, Dwt};
use crate::standard::UsbState;
use crate::stats::{Stats, Violation};

/// BOOT_ADDx value that selects system memory (the ROM bootloader) [C] AN2606 Table 2.
pub const BOOT_ADD_SYSTEM_MEMORY: u16 = 0x0040;
/// RCC_CSR reset flags [C] CMSIS bit positions.
pub(crate) const PINRSTF: u32 = 1 << 26;
pub(crate) const PORRSTF: u32 = 1 << 27;
pub(crate) const BORRSTF: u32 = 1 << 25;
pub(crate) const SFTRSTF: u32 = 1 << 28;

/// ChaCha stream numbers of the board's draws: 0 part tolerances, 1 clock, 2 link; the planted causes draw
/// from their own streams so that a board file without them draws exactly what it always did.
const FAULT_STREAM: u64 = 3;
const SERIAL_STREAM: u64 = 4;

/// State of one bootloader run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rom {
    pub usb: UsbState,
    pub dfu: Dfu,
}

/// A virtual STM32F746 with its ROM bootloader. See the crate docs for the models.
#[derive(Debug, Clone)]
pub struct Board {
    pub(crate) config: BoardConfig,
    pub(crate) descriptors: Descriptors,
    pub(crate) memory: Memory,
    /// True HSE frequency, Hz (nominal + the fixed offset drawn at construction).
    pub(crate) hse_hz: f64,
    pub(crate) temperature_c: f64,
    pub(crate) boot0: bool,
    pub(crate) mode: RunMode,
    pub(crate) boot: Option<BootRecord>,
    pub(crate) rom: Option<Rom>,
    pub(crate) on_bus: bool,
    pub(crate) attach_at: Duration,
    pub(crate) busy_until: Duration,
    pub(crate) poll_not_before: Duration,
    pub(crate) csr_flags: u32,
    pub(crate) dwt: Dwt,
    pub(crate) core: CoreDebug,
    pub(crate) nrst_low: bool,
    pub(crate) faults: Faults,
    pub(crate) stats: Stats,
    pub(crate) violations: Vec<Violation>,
    pub(crate) last_now: Duration,
    clock_rng: ChaCha8Rng,
    pub(crate) link_rng: ChaCha8Rng,
    serial_rng: ChaCha8Rng,
}

impl Board {
    /// A board that is powered off with BOOT0 high (bootloader entry), at the board file's temperature.
    pub fn new(config: BoardConfig, seed: u64) -> Board {
        let mut part_rng = stream(seed, 0);
        let accuracy = config.hse.accuracy_ppm.abs();
        let offset_ppm = if accuracy > 0.0 {
            part_rng.gen_range(-accuracy..=accuracy)
        } else {
            0.0
        };
        Board {
            descriptors: Descriptors::new(&config),
            memory: Memory::new(
                OptionBytes::from_config(&config.option_bytes, config.memory.option_reserved),
                config.memory.device_feature,
            ),
            hse_hz: f64::from(config.hse.frequency_hz) * (1.0 + offset_ppm * 1e-6),
            temperature_c: config.environment.temperature_c,
            boot0: true,
            mode: RunMode::Off,
            boot: None,
            rom: None,
            on_bus: false,
            attach_at: Duration::ZERO,
            busy_until: Duration::ZERO,
            poll_not_before: Duration::ZERO,
            csr_flags: 0,
            dwt: Dwt::default(),
            core: CoreDebug::new(
                config.debug.cpuid,
                config.debug.halt_pc,
                config.debug.halt_sp,
            ),
            nrst_low: false,
            faults: Faults::new(config.faults.clone(), stream(seed, FAULT_STREAM)),
            stats: Stats::default(),
            violations: Vec::new(),
            last_now: Duration::ZERO,
            clock_rng: stream(seed, 1),
            link_rng: stream(seed, 2),
            serial_rng: stream(seed, SERIAL_STREAM),
            config,
        }
    }

    /// Restart the random draws (HSI jitter, HSE-measurement rounding, lost packets, planted faults) from
    /// `seed`, keeping the board's part tolerances, memory and state. A soak reseeds every board at the start
    /// of every cycle from (run seed, board, phase, cycle), so a resumed run records what an uninterrupted one
    /// would have.
    pub fn reseed(&mut self, seed: u64) {
        self.clock_rng = stream(seed, 1);
        self.link_rng = stream(seed, 2);
        self.faults.reseed(stream(seed, FAULT_STREAM));
        self.serial_rng = stream(seed, SERIAL_STREAM);
    }

    /// Power on: a new boot with reset flags POR (PORRSTF | PINRSTF | BORRSTF). No effect if already on. A
    /// `per_boot` serial is drawn anew.
    pub fn power_on(&mut self, now: Duration) {
        self.touch(now);
        if self.mode == RunMode::Off {
            if self.config.serial.formula == SerialFormula::PerBoot {
                let draw = self.serial_rng.gen();
                let serial =
                    crate::serial::reported(&self.config.serial, self.config.memory.uid, draw);
                self.descriptors.set_serial(&serial);
            }
            self.dwt = Dwt::default();
            self.stats.power_ons += 1;
            let d = &self.config.debug;
            self.core = CoreDebug::new(d.cpuid, d.halt_pc, d.halt_sp);
            self.csr_flags = PORRSTF | PINRSTF | BORRSTF;
            self.start(now, ResetCause::PowerOn);
        }
    }

    /// Power off: everything volatile is lost; flash, option bytes and OTP stay.
    pub fn power_off(&mut self, now: Duration) {
        self.touch(now);
        self.mode = RunMode::Off;
        self.boot = None;
        self.rom = None;
        self.on_bus = false;
        self.busy_until = Duration::ZERO;
    }

    /// An NRST pulse: a new boot with PINRSTF added. No effect while off.
    pub fn reset_pin(&mut self, now: Duration) {
        self.touch(now);
        if self.mode != RunMode::Off {
            self.csr_flags |= PINRSTF;
            self.start(now, ResetCause::Pin);
        }
    }

    /// Drive NRST from outside (a debug probe): held low, the chip is in reset and the bootloader answers nothing
    /// (the debug port and the core's debug registers stay reachable, as probe-rs's connect-under-reset needs);
    /// released, it boots (a pin reset). No effect while off.
    pub fn set_nrst(&mut self, now: Duration, low: bool) {
        self.touch(now);
        let was = std::mem::replace(&mut self.nrst_low, low);
        if was && !low {
            self.reset_pin(now);
        }
    }

    /// Whether NRST is held low.
    pub fn nrst_low(&self) -> bool {
        self.nrst_low
    }

    /// The BOOT0 pin level; it is sampled at the next boot.
    pub fn set_boot0(&mut self, high: bool) {
        self.boot0 = high;
    }

    /// Die temperature; it changes the HSI error of the next boot.
    pub fn set_temperature(&mut self, celsius: f64) {
        if celsius.is_finite() {
            self.temperature_c = celsius;
        }
    }

    pub fn temperature(&self) -> f64 {
        self.temperature_c
    }

    /// D+ pull-up on: the bootloader is running, has finished start-up and has not left the bus.
    pub fn attached(&self, now: Duration) -> bool {
        self.mode == RunMode::Bootloader && self.on_bus && now >= self.attach_at
    }

    /// What the chip runs.
    pub fn mode(&self) -> RunMode {
        self.mode
    }

    /// Whether a debugger holds the core halted: the bootloader does not run, so it does not answer USB.
    pub fn core_halted(&self) -> bool {
        self.core.halted()
    }

    /// The current the board draws now, mA (the board file's `[supply]`): 0 while off.
    pub fn supply_current_ma(&self) -> f64 {
        let s = &self.config.supply;
        match self.mode {
            RunMode::Off => 0.0,
            _ if self.nrst_low || self.core.halted() => s.reset_ma,
            RunMode::Bootloader => s.bootloader_ma,
            RunMode::Application { .. } => s.application_ma,
        }
    }

    /// How often and when a debugger halted the core (intrusiveness, as data).
    pub fn halts(&self) -> crate::registers::core::Halts {
        self.core.halts
    }

    /// The debug identification values of the board file's `[debug]` section, for its SWD port.
    pub fn swd_identity(&self) -> crate::swd::SwdIdentity {
        let d = &self.config.debug;
        crate::swd::SwdIdentity {
            dpidr: d.dpidr,
            ap_idr: d.ap_idr,
            ap_base: d.ap_base,
            targetid: d.targetid,
            planted_ap_ack: match d.ap_ack {
                crate::config::PlantedAck::Ok => None,
                crate::config::PlantedAck::Wait => Some(crate::swd::Ack::Wait),
                crate::config::PlantedAck::Fault => Some(crate::swd::Ack::Fault),
            },
        }
    }

    /// Ground truth of the current bootloader boot; None while off or when the chip booted user code directly.
    /// After a leave jump it still describes the bootloader run that configured the clocks.
    pub fn boot(&self) -> Option<&BootRecord> {
        self.boot.as_ref()
    }

    /// Arms a fault (see [`Fault`]). `DisconnectAfter(0)` and `ReEnumerate(0)` act at once.
    pub fn inject(&mut self, fault: Fault) {
        match fault {
            Fault::DisconnectAfter(0) => self.on_bus = false,
            Fault::ReEnumerate(0) => self.software_reset(self.last_now),
            other => self.faults.inject(other),
        }
    }

    /// Disarms every fault.
    pub fn clear_faults(&mut self) {
        self.faults.clear();
    }

    /// A USB bus reset: the device returns to address 0, unconfigured, alternate setting 0 (DFU state kept).
    pub fn bus_reset(&mut self, now: Duration) {
        self.touch(now);
        if let Some(rom) = &mut self.rom {
            rom.usb = UsbState::default();
        }
    }

    /// The iSerialNumber the ROM should report, from the UID (ST formula): what the host expects.
    pub fn usb_serial_expected(&self) -> String {
        serial_number(self.config.memory.uid)
    }

    /// The iSerialNumber this board reports now (by its `[serial]` formula; equal to
    /// [`Board::usb_serial_expected`] unless the board file plants another formula).
    pub fn usb_serial(&self) -> String {
        self.descriptors.serial()
    }

    pub fn config(&self) -> &BoardConfig {
        &self.config
    }

    /// Main flash, index 0 = 0x08000000.
    pub fn flash(&self) -> &[u8] {
        self.memory.flash.bytes()
    }

    /// Writes flash contents directly, as a probe would (test set-up). False if outside flash.
    pub fn load_flash(&mut self, addr: u32, data: &[u8]) -> bool {
        self.memory.flash.load(addr, data)
    }

    pub fn option_bytes(&self) -> [u8; 32] {
        self.memory.option_bytes.bytes()
    }

    pub fn stats(&self) -> &crate::stats::Stats {
        &self.stats
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    pub(crate) fn touch(&mut self, now: Duration) {
        self.last_now = self.last_now.max(now);
    }

    /// A system reset by the chip itself (SFTRSTF; the internal reset also pulls NRST, so PINRSTF [I]).
    pub(crate) fn software_reset(&mut self, at: Duration) {
        if self.mode != RunMode::Off {
            self.csr_flags |= SFTRSTF | PINRSTF;
            self.start(at, ResetCause::Software);
        }
    }

    /// One boot at `at`: pattern 8 boot selection from the option bytes (BOOT_ADD1 with BOOT0 high, BOOT_ADD0
    /// with it low; only 0x0040, system memory, runs the ROM bootloader [C] AN2606), then (for system memory)
    /// the HSE measurement. Any other address runs user code there, off USB [I].
    pub(crate) fn start(&mut self, at: Duration, cause: ResetCause) {
        self.core.on_reset(at, self.dwt.demcr);
        self.count_boot();
        self.faults.on_boot();
        (self.busy_until, self.poll_not_before) = (Duration::ZERO, Duration::ZERO);
        self.on_bus = true;
        let ob = &self.memory.option_bytes;
        let boot_add = if self.boot0 {
            ob.boot_add1()
        } else {
            ob.boot_add0()
        };
        if boot_add == BOOT_ADD_SYSTEM_MEMORY {
            self.start_bootloader(at, cause);
        } else {
            (self.boot, self.rom) = (None, None);
            self.mode = RunMode::Application {
                vector_table: u32::from(boot_add) << 14,
            };
        }
        self.dwt.set_halted(at, self.core.halted());
        self.dwt.rebase(at, self.sysclk_hz());
    }

    /// Counts a boot; every boot after the first is a reset that reloads the option-byte registers.
    pub(crate) fn count_boot(&mut self) {
        if self.stats.boots > 0 {
            self.memory.option_bytes.on_reset();
        }
        self.stats.boots += 1;
    }

    fn start_bootloader(&mut self, at: Duration, cause: ResetCause) {
        let jitter: f64 = self.clock_rng.sample(StandardNormal);
        let uniform: f64 = self.clock_rng.gen();
        let hsi_ppm = clock::hsi_error_ppm(
            &self.config,
            self.temperature_c,
            jitter * self.config.hsi.jitter_ppm,
        );
        let detection = clock::detect(&self.config, self.hse_hz, hsi_ppm, uniform);
        let delay_ms = self.config.bootloader.attach_delay_ms + self.config.hse.startup_ms;
        self.attach_at = at.saturating_add(crate::link::seconds(delay_ms / 1000.0));
        let mut record = BootRecord::new(self.stats.boots, cause, at, hsi_ppm, &detection);
        (record.attach_at, record.temperature_c, record.hse_hz) =
            (self.attach_at, self.temperature_c, self.hse_hz);
        self.boot = Some(record);
        self.rom = Some(Rom::default());
        self.mode = RunMode::Bootloader;
    }

    /// Actual SYSCLK now: the PLL set by the bootloader, or HSI after a direct user boot, 0 when off.
    pub(crate) fn sysclk_hz(&self) -> f64 {
        match (self.mode, &self.boot) {
            (RunMode::Off, _) => 0.0,
            (_, Some(boot)) => boot.sysclk_hz,
            (_, None) => clock::HSI_HZ * (1.0 + self.hsi_error_now() * 1e-6),
        }
    }

    /// HSI error without jitter at the current temperature, ppm (for direct user boots).
    pub(crate) fn hsi_error_now(&self) -> f64 {
        clock::hsi_error_ppm(&self.config, self.temperature_c, 0.0)
    }
}

fn stream(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}
