//! The board-file sections that plant board-side causes: `[faults]`, misbehaviour drawn at random. Every key
//! is optional and its default reproduces the healthy board exactly (no extra random draws).

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
