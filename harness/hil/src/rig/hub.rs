//! Power through a USB hub's own port switching: the hub class requests SetPortFeature and ClearPortFeature
//! PORT_POWER (USB 2.0 §11.24.2.7 and .13; USB 3.2 §10.16.2) sent through rusb, as uhubctl sends them, and the
//! port status read back (GetPortStatus, §11.24.2.7) to check the port really switched. The hub is found by its
//! location in uhubctl's `-l` form: bus, then the port numbers from the root (`1-1.4`; a root hub is `1`).
//!
//! Only hubs that switch VBUS per port can power one board: the hub descriptor's wHubCharacteristics says
//! which (bits 1:0: 01 per port; 00 ganged, every port at once; 1x no switching), and a hub that cannot is
//! refused when the rig opens, naming what it reports.
//!
//! Own code rather than a crate: no maintained Rust crate does hub port power; the requests are three control
//! transfers on endpoint 0, which need no claimed interface (the kernel's hub driver keeps the hub).

use std::time::Duration;

use rusb::{Context, Device, DeviceHandle, UsbContext};

use super::error::RigError;
use super::RigControl;

/// USB hub class (bDeviceClass).
const HUB_CLASS: u8 = 0x09;
/// bmRequestType for port requests: class, recipient other (a port); host to device / device to hub.
const PORT_OUT: u8 = 0x23;
const PORT_IN: u8 = 0xA3;
/// bmRequestType for the hub descriptor: class, recipient device, device to host.
const HUB_IN: u8 = 0xA0;
const GET_STATUS: u8 = 0x00;
const CLEAR_FEATURE: u8 = 0x01;
const SET_FEATURE: u8 = 0x03;
const GET_DESCRIPTOR: u8 = 0x06;
/// Feature selector PORT_POWER.
const PORT_POWER: u16 = 8;
/// Hub descriptor types: USB 2.0 and SuperSpeed.
const HUB_DESCRIPTOR: u16 = 0x29;
const SS_HUB_DESCRIPTOR: u16 = 0x2A;
/// wPortStatus PORT_POWER: bit 8 on a USB 2.0 hub, bit 9 on a SuperSpeed one.
const PORT_STAT_POWER: u16 = 1 << 8;
const SS_PORT_STAT_POWER: u16 = 1 << 9;
/// wPortStatus PORT_CONNECTION.
const PORT_STAT_CONNECTION: u16 = 1 << 0;

/// How a hub switches its ports' VBUS (wHubCharacteristics bits 1:0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerSwitching {
    /// All ports at once.
    Ganged,
    /// Each port on its own: the only mode that powers one board.
    PerPort,
    /// Not at all (VBUS always on).
    None,
}

impl PowerSwitching {
    /// From wHubCharacteristics.
    pub fn from_characteristics(w: u16) -> PowerSwitching {
        match w & 0b11 {
            0b00 => PowerSwitching::Ganged,
            0b01 => PowerSwitching::PerPort,
            _ => PowerSwitching::None,
        }
    }
}

/// One port of a hub, whose power the rig switches.
pub struct HubPort {
    handle: DeviceHandle<Context>,
    /// The hub's location, `1-1`, for messages.
    location: String,
    port: u8,
    superspeed: bool,
    timeout: Duration,
}

/// A port's status as the hub reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortStatus {
    pub powered: bool,
    pub connected: bool,
    /// wPortStatus as read.
    pub raw: u16,
}

impl HubPort {
    /// Opens the hub at `location` and checks it switches port `port` on its own.
    pub fn open(location: &str, port: u8, timeout: Duration) -> Result<HubPort, RigError> {
        let err = |why: String| RigError::Hub {
            hub: location.to_string(),
            port,
            why,
        };
        let context = Context::new().map_err(|e| err(format!("libusb: {e}")))?;
        let devices = context
            .devices()
            .map_err(|e| err(format!("listing USB devices: {e}")))?;
        let mut hubs = Vec::new();
        let mut found = None;
        for device in devices.iter() {
            let Ok(d) = device.device_descriptor() else {
                continue;
            };
            if d.class_code() != HUB_CLASS {
                continue;
            }
            let at = hub_location(&device);
            if at == location {
                found = Some((device, d.usb_version().major() >= 3));
                break;
            }
            hubs.push(at);
        }
        let Some((device, superspeed)) = found else {
            hubs.sort();
            let hubs = if hubs.is_empty() {
                "none".to_string()
            } else {
                hubs.join(", ")
            };
            return Err(err(format!(
                "no hub at this location (hubs present: {hubs})"
            )));
        };
        let handle = device.open().map_err(|e| {
            err(format!(
                "cannot open the hub: {e} (needs write access to its usbfs node: run as root or add a udev rule)"
            ))
        })?;
        let hub = HubPort {
            handle,
            location: location.to_string(),
            port,
            superspeed,
            timeout,
        };
        let (switching, ports) = hub.characteristics().map_err(err)?;
        if u16::from(port) > u16::from(ports) || port == 0 {
            return Err(err(format!("the hub has ports 1 to {ports}")));
        }
        match switching {
            PowerSwitching::PerPort => Ok(hub),
            PowerSwitching::Ganged => Err(err(
                "the hub switches all its ports together (ganged power switching): switching this port would power \
                 off every board on the hub"
                    .into(),
            )),
            PowerSwitching::None => Err(err(
                "the hub cannot switch port power at all (wHubCharacteristics: no power switching)".into(),
            )),
        }
    }

    /// How the hub switches power, and how many ports it has, from its hub descriptor.
    fn characteristics(&self) -> Result<(PowerSwitching, u8), String> {
        let kind = if self.superspeed {
            SS_HUB_DESCRIPTOR
        } else {
            HUB_DESCRIPTOR
        };
        let mut buf = [0u8; 16];
        let n = self
            .handle
            .read_control(HUB_IN, GET_DESCRIPTOR, kind << 8, 0, &mut buf, self.timeout)
            .map_err(|e| format!("reading the hub descriptor: {e}"))?;
        if n < 5 {
            return Err(format!("the hub descriptor is {n} bytes, shorter than 5"));
        }
        let characteristics = u16::from_le_bytes([buf[3], buf[4]]);
        Ok((
            PowerSwitching::from_characteristics(characteristics),
            buf[2],
        ))
    }

    /// The port's status (GetPortStatus).
    pub fn status(&self) -> Result<PortStatus, RigError> {
        let mut buf = [0u8; 4];
        let n = self
            .handle
            .read_control(
                PORT_IN,
                GET_STATUS,
                0,
                u16::from(self.port),
                &mut buf,
                self.timeout,
            )
            .map_err(|e| self.error(format!("reading the port status: {e}")))?;
        if n < 4 {
            return Err(self.error(format!("the port status is {n} bytes, not 4")));
        }
        let raw = u16::from_le_bytes([buf[0], buf[1]]);
        let power = if self.superspeed {
            SS_PORT_STAT_POWER
        } else {
            PORT_STAT_POWER
        };
        Ok(PortStatus {
            powered: raw & power != 0,
            connected: raw & PORT_STAT_CONNECTION != 0,
            raw,
        })
    }

    /// Switches the port's VBUS and checks the hub reports it switched.
    pub fn switch(&self, on: bool) -> Result<(), RigError> {
        let request = if on { SET_FEATURE } else { CLEAR_FEATURE };
        self.handle
            .write_control(
                PORT_OUT,
                request,
                PORT_POWER,
                u16::from(self.port),
                &[],
                self.timeout,
            )
            .map_err(|e| {
                self.error(format!(
                    "{} PORT_POWER: {e}",
                    if on {
                        "SetPortFeature"
                    } else {
                        "ClearPortFeature"
                    }
                ))
            })?;
        let status = self.status()?;
        if status.powered != on {
            return Err(RigError::RelayStuck {
                channel: u16::from(self.port),
                on,
            });
        }
        Ok(())
    }

    pub(crate) fn error(&self, why: String) -> RigError {
        RigError::Hub {
            hub: self.location.clone(),
            port: self.port,
            why,
        }
    }
}

/// A device's location in uhubctl's form: `BUS` for a root hub, `BUS-P.P…` below it.
fn hub_location<T: UsbContext>(device: &Device<T>) -> String {
    let ports = device.port_numbers().unwrap_or_default();
    if ports.is_empty() {
        return device.bus_number().to_string();
    }
    let path: Vec<String> = ports.iter().map(u8::to_string).collect();
    format!("{}-{}", device.bus_number(), path.join("."))
}

/// A board powered from a hub port: power only; the rest is not the hub's to do.
pub struct HubControl {
    pub port: HubPort,
    /// This control switched the port off and has not switched it on since.
    pub switched_off: bool,
}

impl HubControl {
    pub fn new(port: HubPort) -> Self {
        Self {
            port,
            switched_off: false,
        }
    }
}

impl RigControl for HubControl {
    fn power(&mut self, on: bool) -> Result<(), RigError> {
        // On Linux a port can be powered again a moment after it was switched off, by a kernel driver surprised
        // that its device went (uhubctl's README warns of it): then the board was not off for the cycle's off
        // time, and the power cycle is not one.
        if on && self.switched_off && self.port.status()?.powered {
            return Err(self.port.error(
                "the port was powered again before hil switched it on, so the board was not off for the off time \
                 (on Linux a kernel driver of the device may power it back; unbind that driver, or switch with \
                 the uhubctl exec recipe and -r)"
                    .into(),
            ));
        }
        self.port.switch(on)?;
        self.switched_off = !on;
        Ok(())
    }
    fn boot0(&mut self, _high: bool) -> Result<(), RigError> {
        Err(RigError::NotConfigured {
            action: "drive BOOT0 (a hub port switches only VBUS)",
        })
    }
    fn reset_pulse(&mut self) -> Result<(), RigError> {
        Err(RigError::NotConfigured {
            action: "pulse NRST (a hub port switches only VBUS)",
        })
    }
    fn temperature(&mut self) -> Result<Option<f64>, RigError> {
        Ok(None)
    }
    fn set_temperature(&mut self, _celsius: f64) -> Result<(), RigError> {
        Err(RigError::NotConfigured {
            action: "set a chamber temperature",
        })
    }
    fn power_status(&mut self) -> Result<Option<String>, RigError> {
        let s = self.port.status()?;
        Ok(Some(format!(
            "hub {} port {}: wPortStatus 0x{:04x} (power {}, {})",
            self.port.location,
            self.port.port,
            s.raw,
            if s.powered { "on" } else { "off" },
            if s.connected {
                "a device connected"
            } else {
                "nothing connected"
            }
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_switching_modes_from_w_hub_characteristics() {
        // wHubCharacteristics of real hubs: per-port (0x0009 with overcurrent bits), ganged (0x00E0), none
        // (0x0002 and 0x0003).
        assert_eq!(
            PowerSwitching::from_characteristics(0x0009),
            PowerSwitching::PerPort
        );
        assert_eq!(
            PowerSwitching::from_characteristics(0x00E0),
            PowerSwitching::Ganged
        );
        assert_eq!(
            PowerSwitching::from_characteristics(0x0002),
            PowerSwitching::None
        );
        assert_eq!(
            PowerSwitching::from_characteristics(0x0003),
            PowerSwitching::None
        );
    }
}
