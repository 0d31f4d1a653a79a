//! The board-file sections that plant board-side causes: `[serial]`, the serial-number formula the ROM uses, and
//! `[faults]`, misbehaviour drawn at random. Every key is optional and its default reproduces the healthy board
//! exactly (no extra random draws).

use serde::Deserialize;

/// `[faults]`: the fault injection of [`crate::Fault`] as probabilities, drawn from the board's seed (its own
/// stream, reseeded by [`crate::Board::reseed`], so other draws are unchanged). Each is 0..=1; 0 (the default)
/// never fires and draws nothing. These plant causes; they are not facts about the ROM.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultsConfig {
    /// Each transfer that reaches the device is stalled without being acted on.
    pub stall_per_transfer: f64,
    /// Each transfer gets no answer at all (the host times out); not acted on.
    pub no_response_per_transfer: f64,
    /// After each answered transfer the device leaves the bus until the next boot.
    pub disconnect_per_transfer: f64,
    /// After each answered transfer the device resets and re-attaches as a new boot (software reset).
    pub re_enumerate_per_transfer: f64,
    /// Each DFU_GETSTATUS answers a short payload (3 of 6 bytes); the device did act.
    pub corrupt_status_per_getstatus: f64,
    /// At each boot the ROM gets stuck: every DFU_GETSTATUS answers dfuDNBUSY with `stuck_busy_poll_ms` until
    /// the next boot; nothing pending executes.
    pub stuck_busy_per_boot: f64,
    /// bwPollTimeout of a stuck boot's replies, ms (0 allowed: dfu-util gives up after 100 such polls).
    pub stuck_busy_poll_ms: u32,
}

/// Which formula the ROM's iSerialNumber follows (reference §3). Only `st` is the F746's [C]/[C3]; the others
/// are what other ROMs or tools were seen to do, planted to make a board report a *wrong* serial.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SerialFormula {
    /// ST's: 8 hex digits of UID0 + UID2 (32-bit, wrapping), then the top 4 hex digits of UID1 [C] CUBE,
    /// [C3] the ROM (libopencm3 #760).
    #[default]
    St,
    /// micropython's byte-wise variant: bytes `id[11], id[10]+id[2], id[9], id[8]+id[0], id[7], id[6]` of the
    /// UID, each sum wrapping at 8 bits (no carries) [C3].
    Bytewise,
    /// The F3 ROM's: as `st` but the last 4 digits are UID2's top 16 bits [C3] libopencm3 #760.
    Uid2Msb,
    /// The F765 report: ST's string with byte `byte` (1..=6, counted left to right in the 12-digit string)
    /// increased by `add` (wrapping) [C3] micropython #15948 (+0x0A to the 4th byte; which byte counts as the
    /// 4th is [U]).
    Offset,
    /// A constant string `value` (the F723/F722 ROM reports "STM32FxSTM32") [C3].
    Constant,
    /// A new random 12-digit serial at every power-on, drawn from the board's seed (L496 ROM) [C3]; a pin or
    /// software reset keeps it [U].
    PerBoot,
}

/// `[serial]`: the formula behind the serial number the board reports. The host side keeps expecting ST's
/// formula ([`crate::Board::usb_serial_expected`]); only what the board reports changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SerialConfig {
    pub formula: SerialFormula,
    /// With `formula = "offset"`: which byte of the string (1..=6); default 4.
    pub byte: Option<u8>,
    /// With `formula = "offset"`: what is added to it; default 0x0A.
    pub add: Option<u8>,
    /// With `formula = "constant"`: the string; default "STM32FxSTM32".
    pub value: Option<String>,
}

impl SerialConfig {
    /// The offset formula's byte (1-based) and addend.
    pub fn offset(&self) -> (u8, u8) {
        (self.byte.unwrap_or(4), self.add.unwrap_or(0x0A))
    }

    /// The constant formula's string.
    pub fn constant(&self) -> &str {
        self.value.as_deref().unwrap_or("STM32FxSTM32")
    }
}
