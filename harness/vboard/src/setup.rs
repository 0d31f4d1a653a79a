//! USB SETUP packets: the 8 raw bytes split into fields, and the request codes this board knows (USB 2.0 §9.3,
//! DFU 1.1 §3 / AN3156 Tables 2–3 [C]).

/// bmRequestType direction bit: device-to-host.
pub const DIR_IN: u8 = 0x80;
/// bmRequestType type field: standard.
pub const TYPE_STANDARD: u8 = 0x00;
/// bmRequestType type field: class.
pub const TYPE_CLASS: u8 = 0x20;
/// bmRequestType recipient: interface.
pub const RECIPIENT_INTERFACE: u8 = 0x01;

pub const GET_STATUS: u8 = 0x00;
pub const CLEAR_FEATURE: u8 = 0x01;
pub const SET_FEATURE: u8 = 0x03;
pub const SET_ADDRESS: u8 = 0x05;
pub const GET_DESCRIPTOR: u8 = 0x06;
pub const GET_CONFIGURATION: u8 = 0x08;
pub const SET_CONFIGURATION: u8 = 0x09;
pub const GET_INTERFACE: u8 = 0x0A;
pub const SET_INTERFACE: u8 = 0x0B;

pub const DFU_DETACH: u8 = 0x00;
pub const DFU_DNLOAD: u8 = 0x01;
pub const DFU_UPLOAD: u8 = 0x02;
pub const DFU_GETSTATUS: u8 = 0x03;
pub const DFU_CLRSTATUS: u8 = 0x04;
pub const DFU_GETSTATE: u8 = 0x05;
pub const DFU_ABORT: u8 = 0x06;

/// A decoded SETUP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setup {
    pub request_type: u8,
    pub request: u8,
    pub value: u16,
    pub index: u16,
    pub length: u16,
}

impl Setup {
    /// Splits the 8 SETUP bytes (little-endian words).
    pub fn parse(raw: [u8; 8]) -> Setup {
        Setup {
            request_type: raw[0],
            request: raw[1],
            value: u16::from_le_bytes([raw[2], raw[3]]),
            index: u16::from_le_bytes([raw[4], raw[5]]),
            length: u16::from_le_bytes([raw[6], raw[7]]),
        }
    }

    /// The 8 raw bytes.
    pub fn to_bytes(self) -> [u8; 8] {
        let [v0, v1] = self.value.to_le_bytes();
        let [i0, i1] = self.index.to_le_bytes();
        let [l0, l1] = self.length.to_le_bytes();
        [self.request_type, self.request, v0, v1, i0, i1, l0, l1]
    }

    /// Device-to-host (IN data stage).
    pub fn is_in(&self) -> bool {
        self.request_type & DIR_IN != 0
    }

    /// Standard, class or vendor (bits 6:5).
    pub fn kind(&self) -> u8 {
        self.request_type & 0x60
    }

    /// Class request to an interface (what DFU requests are).
    pub fn is_class_interface(&self) -> bool {
        self.kind() == TYPE_CLASS && self.request_type & 0x1F == RECIPIENT_INTERFACE
    }

    /// A stable name for statistics: the spec name of the request, or `OTHER`.
    pub fn name(&self) -> &'static str {
        match (self.kind(), self.request) {
            (TYPE_STANDARD, r) => standard_name(r),
            (TYPE_CLASS, r) => dfu_name(r),
            _ => "OTHER",
        }
    }
}

fn standard_name(request: u8) -> &'static str {
    match request {
        GET_STATUS => "GET_STATUS",
        CLEAR_FEATURE => "CLEAR_FEATURE",
        SET_FEATURE => "SET_FEATURE",
        SET_ADDRESS => "SET_ADDRESS",
        GET_DESCRIPTOR => "GET_DESCRIPTOR",
        GET_CONFIGURATION => "GET_CONFIGURATION",
        SET_CONFIGURATION => "SET_CONFIGURATION",
        GET_INTERFACE => "GET_INTERFACE",
        SET_INTERFACE => "SET_INTERFACE",
        _ => "OTHER",
    }
}

fn dfu_name(request: u8) -> &'static str {
    match request {
        DFU_DETACH => "DFU_DETACH",
        DFU_DNLOAD => "DFU_DNLOAD",
        DFU_UPLOAD => "DFU_UPLOAD",
        DFU_GETSTATUS => "DFU_GETSTATUS",
        DFU_CLRSTATUS => "DFU_CLRSTATUS",
        DFU_GETSTATE => "DFU_GETSTATE",
        DFU_ABORT => "DFU_ABORT",
        _ => "OTHER",
    }
}
