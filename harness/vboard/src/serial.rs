//! The iSerialNumber string the ROM reports, by the board file's `[serial]` formula (reference §3): ST's, and
//! the variants other ROMs were seen to use. Pure functions of the UID (and, for `per_boot`, one random draw
//! the board makes at power-on); must not know about descriptors or USB.

use crate::config::{SerialConfig, SerialFormula};

/// ST's serial-number formula [C] CUBE `Get_SerialNum`: 8 hex digits of UID0 + UID2 (32-bit, wrapping) then the
/// top 4 hex digits of UID1, uppercase. ([C3] the ROM uses the same: libopencm3 #760.)
pub fn serial_number(uid: [u32; 3]) -> String {
    format!("{:08X}{:04X}", uid[0].wrapping_add(uid[2]), uid[1] >> 16)
}

/// The serial a board with this `[serial]` section reports. `draw` is used by `per_boot` only (its low 48 bits
/// become the 12 digits).
pub fn reported(serial: &SerialConfig, uid: [u32; 3], draw: u64) -> String {
    match serial.formula {
        SerialFormula::St => serial_number(uid),
        SerialFormula::Bytewise => bytewise(uid),
        SerialFormula::Uid2Msb => {
            format!("{:08X}{:04X}", uid[0].wrapping_add(uid[2]), uid[2] >> 16)
        }
        SerialFormula::Offset => offset(uid, serial.offset()),
        SerialFormula::Constant => serial.constant().to_string(),
        SerialFormula::PerBoot => format!("{:012X}", draw & 0xFFFF_FFFF_FFFF),
    }
}

/// micropython's `id[11], id[10]+id[2], id[9], id[8]+id[0], id[7], id[6]` over the UID's bytes (UID0 first,
/// little-endian words), each sum wrapping at 8 bits.
fn bytewise(uid: [u32; 3]) -> String {
    let id: Vec<u8> = uid.iter().flat_map(|w| w.to_le_bytes()).collect();
    hex(&[
        id[11],
        id[10].wrapping_add(id[2]),
        id[9],
        id[8].wrapping_add(id[0]),
        id[7],
        id[6],
    ])
}

/// ST's string with byte `byte` (1-based, left to right) increased by `add`.
fn offset(uid: [u32; 3], (byte, add): (u8, u8)) -> String {
    let mut bytes = [0u8; 6];
    bytes[..4].copy_from_slice(&uid[0].wrapping_add(uid[2]).to_be_bytes());
    bytes[4..].copy_from_slice(&((uid[1] >> 16) as u16).to_be_bytes());
    if let Some(b) = bytes.get_mut(usize::from(byte).wrapping_sub(1)) {
        *b = b.wrapping_add(add);
    }
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
