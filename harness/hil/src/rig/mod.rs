//! Rig control: the rig file (boards on the bench, rig controllers, chamber), the [`RigControl`] seam the runner
//! uses to power, strap, reset and heat a board, and its backends — a serial line protocol (only `serial.rs`
//! names serialport) and virtual boards. Rig failures are infrastructure failures, never board failures.

mod error;
pub mod exec;
pub mod hub;
mod load;
mod load_ports;
mod load_virtual;
pub mod protocol;
mod raw;
mod serial;
mod serial_rig;
mod spec;
mod virtual_chamber;
mod virtual_faults;
mod virtual_rig;

pub use error::{RigError, RigErrorKind};
pub use serial_rig::{SerialControl, SerialRig};
pub use spec::{
    BoardSpec, ChamberSpec, Command, CommandLine, ControllerSpec, FaultRates, HseKind, LineEnding,
    PortSpec, PowerSwitch, ProbeSelector, Rig, VirtualWiring, Wiring,
};
pub use virtual_faults::{CommandFault, ProbeDropout, VirtualFaults};
pub use virtual_rig::{VirtualControl, VirtualRig, REPLY_TIMEOUT, RESET_PULSE, SWITCH_TIME};

/// What the runner can do to one board's surroundings. Every method is a rig action: an error here is a rig
/// (infrastructure) failure, never a failure of the board under test.
pub trait RigControl: Send {
    /// Switch the board's supply on or off.
    fn power(&mut self, on: bool) -> Result<(), RigError>;
    /// Drive the BOOT0 strap high (system memory, the ROM bootloader) or low.
    fn boot0(&mut self, high: bool) -> Result<(), RigError>;
    /// Pulse NRST.
    fn reset_pulse(&mut self) -> Result<(), RigError>;
    /// The board's (or the bench's) temperature in °C, `None` when the rig cannot measure it.
    fn temperature(&mut self) -> Result<Option<f64>, RigError>;
    /// Set the chamber to `celsius` (shared by every board on the rig).
    fn set_temperature(&mut self, celsius: f64) -> Result<(), RigError>;
    /// The supply current the board draws now, in amperes; `None` when the rig cannot measure it.
    fn supply_current(&mut self) -> Result<Option<f64>, RigError> {
        Ok(None)
    }
    /// What the switch itself reports about the board's power, for a person checking the wiring (a hub port's
    /// status); `None` when it reports nothing.
    fn power_status(&mut self) -> Result<Option<String>, RigError> {
        Ok(None)
    }
}

impl<T: RigControl + ?Sized> RigControl for Box<T> {
    fn power(&mut self, on: bool) -> Result<(), RigError> {
        (**self).power(on)
    }
    fn boot0(&mut self, high: bool) -> Result<(), RigError> {
        (**self).boot0(high)
    }
    fn reset_pulse(&mut self) -> Result<(), RigError> {
        (**self).reset_pulse()
    }
    fn temperature(&mut self) -> Result<Option<f64>, RigError> {
        (**self).temperature()
    }
    fn set_temperature(&mut self, celsius: f64) -> Result<(), RigError> {
        (**self).set_temperature(celsius)
    }
    fn supply_current(&mut self) -> Result<Option<f64>, RigError> {
        (**self).supply_current()
    }
    fn power_status(&mut self) -> Result<Option<String>, RigError> {
        (**self).power_status()
    }
}
