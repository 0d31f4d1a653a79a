//! USB standard requests (USB 2.0 §9.4) on the default control pipe: descriptors, address, configuration,
//! alternate setting, status. Owns the device-level USB state; must not touch DFU state.

use crate::descriptors::{Descriptors, ALT_SETTINGS, DT_CONFIGURATION, DT_DEVICE, DT_STRING};
use crate::setup::*;

/// The request was refused with a STALL handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall;

/// USB device state the standard requests change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UsbState {
    pub address: u8,
    pub configuration: u8,
    pub alt_setting: u8,
}

/// Answers one standard request: the IN data (possibly empty), or a stall.
pub fn handle(
    setup: &Setup,
    desc: &Descriptors,
    usb: &mut UsbState,
    self_powered: bool,
) -> Result<Vec<u8>, Stall> {
    match (setup.request_type, setup.request) {
        (0x80, GET_DESCRIPTOR) => get_descriptor(setup, desc),
        (0x00, SET_ADDRESS) if setup.value <= 127 && setup.length == 0 => {
            usb.address = setup.value as u8;
            Ok(vec![])
        }
        (0x00, SET_CONFIGURATION) if setup.value <= 1 => {
            usb.configuration = setup.value as u8;
            usb.alt_setting = 0;
            Ok(vec![])
        }
        (0x80, GET_CONFIGURATION) => Ok(vec![usb.configuration]),
        (0x01, SET_INTERFACE) if setup.index == 0 && setup.value < u16::from(ALT_SETTINGS) => {
            usb.alt_setting = setup.value as u8;
            Ok(vec![])
        }
        (0x81, GET_INTERFACE) if setup.index == 0 => Ok(vec![usb.alt_setting]),
        (0x80, GET_STATUS) => Ok(vec![u8::from(self_powered), 0]),
        (0x81, GET_STATUS) if setup.index == 0 => Ok(vec![0, 0]),
        (0x82, GET_STATUS) if setup.index & 0x7F == 0 => Ok(vec![0, 0]),
        (0x02, CLEAR_FEATURE) if setup.value == 0 && setup.index & 0x7F == 0 => Ok(vec![]),
        _ => Err(Stall),
    }
}

fn get_descriptor(setup: &Setup, desc: &Descriptors) -> Result<Vec<u8>, Stall> {
    let [index, kind] = setup.value.to_le_bytes();
    let bytes = match kind {
        DT_DEVICE if index == 0 => desc.device.as_slice(),
        DT_CONFIGURATION if index == 0 => desc.configuration.as_slice(),
        DT_STRING => desc.string(index).ok_or(Stall)?,
        _ => return Err(Stall),
    };
    Ok(bytes.to_vec())
}
