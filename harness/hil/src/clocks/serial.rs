//! The USB iSerialNumber the ROM should report, from the 96-bit UID by ST's formula (reference notes §3 [C]
//! CUBE `Get_SerialNum`, ROM equivalence [C3]), and its comparison with what the descriptor said.

use serde::Serialize;

/// `format!("{:08X}{:04X}", uid0 + uid2 (32-bit, wrapping), uid1 >> 16)`; None when the sum is 0 (ST's
/// code then leaves the string unset).
pub fn expected_serial(uid: [u32; 3]) -> Option<String> {
    let s0 = uid[0].wrapping_add(uid[2]);
    (s0 != 0).then(|| format!("{s0:08X}{:04X}", uid[1] >> 16))
}

/// Expected against reported serial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SerialCheck {
    pub expected: Option<String>,
    /// As the USB string descriptor reported it; None when it could not be read.
    pub reported: Option<String>,
    /// Some(true/false) when both are known.
    pub matches: Option<bool>,
}

impl SerialCheck {
    pub fn new(uid: [u32; 3], reported: Option<String>) -> SerialCheck {
        let expected = expected_serial(uid);
        let matches = match (&expected, &reported) {
            (Some(e), Some(r)) => Some(e == r),
            _ => None,
        };
        SerialCheck {
            expected,
            reported,
            matches,
        }
    }
}
