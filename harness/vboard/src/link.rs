//! The USB failure MODEL and bus timing: the chance that a packet is lost when the device's USB clock is off
//! (or its cable is lossy), and how long a control transfer takes on the bus. Pure functions; the board draws
//! the random numbers.

use std::time::Duration;

use crate::config::LinkConfig;

/// Bytes a packet carries besides its payload: SYNC, PID and CRC16.
pub const PACKET_OVERHEAD_BYTES: usize = 4;
/// Full-speed bit rate.
pub const BIT_RATE_HZ: f64 = 12_000_000.0;
/// Largest data packet on endpoint 0.
pub const MAX_PACKET: usize = 64;

/// Which packet of a control transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet {
    Setup,
    DataOut { index: usize, len: usize },
    DataIn { index: usize, len: usize },
    Status,
}

impl Packet {
    /// Payload bytes.
    pub fn payload(&self) -> usize {
        match *self {
            Packet::Setup => 8,
            Packet::DataOut { len, .. } | Packet::DataIn { len, .. } => len,
            Packet::Status => 0,
        }
    }
}

impl std::fmt::Display for Packet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Packet::Setup => write!(f, "SETUP packet"),
            Packet::DataOut { index, len } => write!(f, "OUT data packet {index} ({len} bytes)"),
            Packet::DataIn { index, len } => write!(f, "IN data packet {index} ({len} bytes)"),
            Packet::Status => write!(f, "status packet"),
        }
    }
}

/// Bits on the wire for a packet with `payload` bytes.
pub fn packet_bits(payload: usize) -> f64 {
    (8 * (payload + PACKET_OVERHEAD_BYTES)) as f64
}

/// Probability that one attempt of a packet fails: `1 − exp(−(slip / margin)^shape)`, 0 within tolerance.
pub fn attempt_failure(link: &LinkConfig, payload: usize, usb_error_ppm: f64) -> f64 {
    let error = usb_error_ppm.abs();
    if !error.is_finite() {
        return 1.0;
    }
    if error <= link.tolerance_ppm {
        return 0.0;
    }
    let slip = packet_bits(payload) * error * 1e-6;
    let ratio = (slip / link.margin_bits).powf(link.shape);
    1.0 - (-ratio).exp()
}

/// Probability that one attempt fails from the clock error or the cable:
/// `1 − (1 − p_clock)(1 − link.cable_loss_per_packet)`; exactly the clock's figure when the cable is lossless.
pub fn attempt_failure_with_cable(link: &LinkConfig, payload: usize, usb_error_ppm: f64) -> f64 {
    let clock = attempt_failure(link, payload, usb_error_ppm);
    let cable = link.cable_loss_per_packet;
    if cable > 0.0 {
        1.0 - (1.0 - clock) * (1.0 - cable)
    } else {
        clock
    }
}

/// Probability that a packet is lost after all host attempts.
pub fn packet_loss(link: &LinkConfig, payload: usize, usb_error_ppm: f64) -> f64 {
    attempt_failure_with_cable(link, payload, usb_error_ppm).powi(link.attempts.min(100) as i32)
}

/// Data-stage packet sizes for `len` bytes: full packets, the remainder, and a zero-length packet when an IN
/// reply ends on a packet boundary short of what the host asked for (`requested`).
pub fn data_packets(len: usize, requested: usize) -> Vec<usize> {
    let mut sizes: Vec<usize> = (0..len / MAX_PACKET).map(|_| MAX_PACKET).collect();
    if !len.is_multiple_of(MAX_PACKET) {
        sizes.push(len % MAX_PACKET);
    } else if len < requested {
        sizes.push(0);
    }
    sizes
}

/// Time on the bus for a control transfer with the given data packets, including the fixed overhead.
pub fn transfer_time(link: &LinkConfig, data_packets: &[usize]) -> Duration {
    let bits: f64 =
        packet_bits(8) + data_packets.iter().map(|&n| packet_bits(n)).sum::<f64>() + packet_bits(0);
    seconds(bits / BIT_RATE_HZ + link.transfer_overhead_us * 1e-6)
}

/// A duration from seconds; negative or NaN give zero, too large gives [`Duration::MAX`].
pub fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value.max(0.0)).unwrap_or(Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_symptom_numbers() {
        let link = LinkConfig::default();
        let err = 41_667.0;
        // The calibration documented on `LinkConfig::margin_bits`, per packet after the host's 3 attempts.
        assert!(packet_loss(&link, 6, err) < 1e-3, "GETSTATUS data");
        assert!(packet_loss(&link, 8, err) < 2e-3, "SETUP");
        let ob = packet_loss(&link, 32, err);
        assert!((0.2..0.4).contains(&ob), "option bytes {ob}");
        let serial = packet_loss(&link, 26, err);
        assert!((0.1..0.2).contains(&serial), "serial string {serial}");
        assert!(
            packet_loss(&link, 54, err) > 0.75,
            "configuration descriptor"
        );
        let block_survives = (1.0 - packet_loss(&link, 64, err)).powi(32);
        assert!(block_survives < 1e-3, "2 KiB block {block_survives}");
        assert_eq!(packet_loss(&link, 64, 2500.0), 0.0);
        assert_eq!(packet_loss(&link, 64, -2400.0), 0.0);
    }

    #[test]
    fn cable_loss_combines_with_the_clock_per_attempt() {
        let cable = LinkConfig {
            cable_loss_per_packet: 0.1,
            ..LinkConfig::default()
        };
        assert!((packet_loss(&cable, 64, 0.0) - 1e-3).abs() < 1e-12);
        let clock = attempt_failure(&cable, 32, 41_667.0);
        let both = 1.0 - (1.0 - clock) * 0.9;
        assert!((packet_loss(&cable, 32, 41_667.0) - both.powi(3)).abs() < 1e-12);
        let lossless = LinkConfig::default();
        for err in [0.0, 3000.0, 41_667.0] {
            assert_eq!(
                attempt_failure_with_cable(&lossless, 26, err),
                attempt_failure(&lossless, 26, err)
            );
        }
    }

    #[test]
    fn data_packet_split() {
        assert_eq!(data_packets(0, 0), Vec::<usize>::new());
        assert_eq!(data_packets(0, 6), vec![0]);
        assert_eq!(data_packets(6, 6), vec![6]);
        assert_eq!(data_packets(64, 64), vec![64]);
        assert_eq!(data_packets(64, 100), vec![64, 0]);
        assert_eq!(data_packets(130, 130), vec![64, 64, 2]);
    }
}
