//! The probe as a USB device: a CMSIS-DAP v2 interface (vendor class 0xFF/0x00/0x00, an interface string with
//! "CMSIS-DAP" in it, a bulk OUT and a bulk IN endpoint), which is how probe-rs (`is_cmsis_dap`: class 0xFF,
//! subclass 0, the string) and OpenOCD (`cmsis_dap_usb_open`: "CMSIS-DAP" in the product or interface string,
//! endpoint 0 bulk OUT, endpoint 1 bulk IN) recognise one — docs/probe-facts.md and CMSIS-DAP v2.1 "Firmware".
//! Standard requests on the control pipe; each command packet on bulk OUT is executed at once and its response
//! waits for the next bulk IN. Sans-io, like the rest of the crate.

use std::collections::VecDeque;

use vboard::descriptors::string_descriptor;
use vboard::setup::{
    Setup, CLEAR_FEATURE, GET_CONFIGURATION, GET_DESCRIPTOR, GET_INTERFACE, GET_STATUS,
    SET_ADDRESS, SET_CONFIGURATION, SET_INTERFACE,
};

use crate::{Dap, ProbeInfo, Target};

/// The probe's own USB identity: pid.codes' test VID:PID, not any vendor's [C] pid.codes 1209:0001.
pub const VID: u16 = 0x1209;
pub const PID: u16 = 0x0001;
/// Bulk endpoints: OUT 1, IN 0x81, full speed.
pub const EP_OUT: u8 = 0x01;
pub const EP_IN: u8 = 0x81;
pub const MAX_PACKET: u16 = 64;
/// The interface string probe-rs and OpenOCD look for.
pub const INTERFACE_STRING: &str = "CMSIS-DAP v2 Interface";

const DT_DEVICE: u8 = 1;
const DT_CONFIGURATION: u8 = 2;
const DT_STRING: u8 = 3;
const DT_INTERFACE: u8 = 4;
const DT_ENDPOINT: u8 = 5;

/// The request was refused with a STALL handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stall;

/// A CMSIS-DAP v2 probe on USB.
pub struct ProbeDevice {
    pub dap: Dap,
    strings: Vec<Vec<u8>>,
    configuration: u8,
    /// Responses waiting for a bulk IN, oldest first (the host reads each before it sends the next command, but
    /// nothing is lost if it does not).
    responses: VecDeque<Vec<u8>>,
}

impl ProbeDevice {
    pub fn new(info: ProbeInfo) -> Self {
        let strings = [
            "",
            info.vendor.as_str(),
            info.product.as_str(),
            info.serial.as_str(),
            INTERFACE_STRING,
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i == 0 {
                vec![4, DT_STRING, 0x09, 0x04] // LANGID en-US
            } else {
                string_descriptor(s)
            }
        })
        .collect();
        Self {
            dap: Dap::new(ProbeInfo {
                packet_size: MAX_PACKET,
                ..info
            }),
            strings,
            configuration: 0,
            responses: VecDeque::new(),
        }
    }

    pub fn device_descriptor(&self) -> Vec<u8> {
        let [vl, vh] = VID.to_le_bytes();
        let [pl, ph] = PID.to_le_bytes();
        vec![
            18, DT_DEVICE, 0x00, 0x02, // bcdUSB 2.00
            0x00, 0x00, 0x00, // class in the interface
            64,   // bMaxPacketSize0
            vl, vh, pl, ph, 0x00, 0x01, // bcdDevice 1.00
            1, 2, 3, // manufacturer, product, serial
            1, // one configuration
        ]
    }

    pub fn configuration_descriptor(&self) -> Vec<u8> {
        let [ml, mh] = MAX_PACKET.to_le_bytes();
        let mut d = vec![
            9,
            DT_CONFIGURATION,
            0,
            0,
            1,
            1,
            0,
            0x80,
            50, // bus powered, 100 mA
            9,
            DT_INTERFACE,
            0,
            0,
            2,
            0xFF,
            0x00,
            0x00,
            4, // vendor class, iInterface 4
            7,
            DT_ENDPOINT,
            EP_OUT,
            0x02,
            ml,
            mh,
            0, // bulk OUT
            7,
            DT_ENDPOINT,
            EP_IN,
            0x02,
            ml,
            mh,
            0, // bulk IN
        ];
        let total = d.len() as u16;
        d[2..4].copy_from_slice(&total.to_le_bytes());
        d
    }

    /// A control transfer on endpoint 0: the IN data (possibly empty), or a stall.
    pub fn control(&mut self, setup: [u8; 8]) -> Result<Vec<u8>, Stall> {
        let s = Setup::parse(setup);
        let reply = match (s.request_type, s.request) {
            (0x80, GET_DESCRIPTOR) => {
                let [index, kind] = s.value.to_le_bytes();
                match kind {
                    DT_DEVICE if index == 0 => self.device_descriptor(),
                    DT_CONFIGURATION if index == 0 => self.configuration_descriptor(),
                    DT_STRING => self.strings.get(usize::from(index)).cloned().ok_or(Stall)?,
                    _ => return Err(Stall),
                }
            }
            (0x00, SET_ADDRESS) if s.value <= 127 => vec![],
            (0x00, SET_CONFIGURATION) if s.value <= 1 => {
                self.configuration = s.value as u8;
                self.responses.clear();
                vec![]
            }
            (0x80, GET_CONFIGURATION) => vec![self.configuration],
            (0x01, SET_INTERFACE) if s.index == 0 && s.value == 0 => vec![],
            (0x81, GET_INTERFACE) if s.index == 0 => vec![0],
            (0x80, GET_STATUS) => vec![0, 0],
            (0x81, GET_STATUS) if s.index == 0 => vec![0, 0],
            (0x82, GET_STATUS) => vec![0, 0],
            (0x02, CLEAR_FEATURE) => vec![], // ENDPOINT_HALT: nothing is halted here
            _ => return Err(Stall),
        };
        Ok(reply.into_iter().take(usize::from(s.length)).collect())
    }

    /// A command packet on bulk OUT: executed now, its response queued for bulk IN.
    pub fn bulk_out(&mut self, target: &mut dyn Target, packet: &[u8]) {
        let response = self.dap.process(target, packet);
        // DAP_TransferAbort has no response.
        if !response.is_empty() {
            self.responses.push_back(response);
        }
    }

    /// A bulk IN of at most `max` bytes: the oldest waiting response, or None (the host's request waits).
    pub fn bulk_in(&mut self, max: usize) -> Option<Vec<u8>> {
        let mut r = self.responses.pop_front()?;
        r.truncate(max);
        Some(r)
    }
}
