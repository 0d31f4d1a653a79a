//! One control transfer end to end: wait while the ROM is busy, fault injection, SETUP/OUT packet loss, acting on
//! the request, IN/status packet loss, bus time, and the after-effects (busy time, leave, resets).

use std::time::Duration;

use rand::Rng;

use super::power::Board;
use super::types::{Completion, UsbError, NO_RESPONSE_HOLD};
use crate::dfu::{After, Answer, Ctx, DfuStatus};
use crate::faults::Before;
use crate::link::{self, Packet};
use crate::setup::{Setup, DFU_GETSTATUS};
use crate::standard::{self, Stall};
use crate::stats::Rule;

impl Board {
    /// One whole control transfer. `data_out` must hold wLength bytes for OUT requests and be empty for IN.
    pub fn control(&mut self, now: Duration, setup: [u8; 8], data_out: &[u8]) -> Completion {
        self.touch(now);
        let start = now.max(self.busy_until);
        if !self.attached(start) {
            self.stats.disconnected += 1;
            return Completion {
                result: Err(UsbError::Disconnected),
                done_at: now,
            };
        }
        if self.core.halted() || self.nrst_low {
            // The core is halted by a debugger, or the chip is held in reset: the ROM does not run, so nothing
            // answers (the USB peripheral NAKs until the host gives up).
            self.stats.no_responses += 1;
            return Completion {
                result: Err(UsbError::NoResponse),
                done_at: start.saturating_add(NO_RESPONSE_HOLD),
            };
        }
        let setup = Setup::parse(setup);
        self.stats.count_request(setup.name());
        if let Some(done) = self.check_request(now, start, &setup, data_out) {
            return done;
        }
        let out_packets = if setup.is_in() {
            vec![]
        } else {
            link::data_packets(data_out.len(), data_out.len())
        };
        let outgoing: Vec<Packet> = std::iter::once(Packet::Setup)
            .chain(
                out_packets
                    .iter()
                    .enumerate()
                    .map(|(index, &len)| Packet::DataOut { index, len }),
            )
            .collect();
        if let Some(lost) = self.lose_packet(&outgoing) {
            return self.protocol_error(start, &out_packets, lost);
        }
        let answer = self.act(start, &setup, data_out);
        self.finish(start, &setup, data_out.len(), out_packets, answer)
    }

    /// Request-level checks before anything is sent: wrong data length, early polls, stall/no-response faults.
    fn check_request(
        &mut self,
        now: Duration,
        start: Duration,
        setup: &Setup,
        data: &[u8],
    ) -> Option<Completion> {
        let expected = if setup.is_in() {
            0
        } else {
            usize::from(setup.length)
        };
        if data.len() != expected {
            let detail = format!(
                "{} with {} data bytes, wLength {}",
                setup.name(),
                data.len(),
                setup.length
            );
            self.violation(now, Rule::LengthMismatch, detail.clone());
            self.stats.protocol_errors += 1;
            return Some(Completion {
                result: Err(UsbError::Protocol { detail }),
                done_at: now,
            });
        }
        if setup.is_class_interface() && now < self.poll_not_before {
            let early = self.poll_not_before - now;
            self.violation(
                now,
                Rule::PolledEarly,
                format!("{} {early:?} before bwPollTimeout elapsed", setup.name()),
            );
        }
        match self.faults.before_transfer() {
            Before::Proceed => None,
            Before::Stall => {
                self.stats.stalls += 1;
                let done_at = start.saturating_add(link::transfer_time(&self.config.link, &[]));
                Some(Completion {
                    result: Err(UsbError::Stall),
                    done_at,
                })
            }
            Before::NoResponse => {
                self.stats.no_responses += 1;
                Some(Completion {
                    result: Err(UsbError::NoResponse),
                    done_at: start.saturating_add(NO_RESPONSE_HOLD),
                })
            }
        }
    }

    /// Acts on the request: standard requests, or DFU class requests to the DFU interface.
    fn act(&mut self, start: Duration, setup: &Setup, data: &[u8]) -> Answer {
        let self_powered = self.config.descriptors.config_attributes & 0x40 != 0;
        let stuck = self.faults.stuck_busy();
        let Board {
            rom: Some(rom),
            config,
            memory,
            violations,
            descriptors,
            faults,
            ..
        } = self
        else {
            return Answer {
                reply: Err(Stall),
                busy_ms: 0,
                after: After::Nothing,
            };
        };
        if setup.kind() == crate::setup::TYPE_STANDARD {
            let reply = standard::handle(setup, descriptors, &mut rom.usb, self_powered);
            return Answer {
                reply,
                busy_ms: 0,
                after: After::Nothing,
            };
        }
        if !setup.is_class_interface() {
            return Answer {
                reply: Err(Stall),
                busy_ms: 0,
                after: After::Nothing,
            };
        }
        if let (Some(poll), DFU_GETSTATUS) = (stuck, setup.request) {
            let payload = vec![
                DfuStatus::Ok as u8,
                poll as u8,
                (poll >> 8) as u8,
                (poll >> 16) as u8,
                4,
                0,
            ];
            return Answer {
                reply: Ok(payload),
                busy_ms: 0,
                after: After::Nothing,
            };
        }
        let mut ctx = Ctx {
            config,
            memory,
            violations,
            now: start,
        };
        let mut answer = rom.dfu.request(setup, data, &mut ctx);
        if setup.request == DFU_GETSTATUS && faults.corrupt_status() {
            if let Ok(reply) = &mut answer.reply {
                reply.truncate(3);
            }
        }
        answer
    }

    /// Sends the reply over the (possibly lossy) link, applies timing and after-effects.
    fn finish(
        &mut self,
        start: Duration,
        setup: &Setup,
        out_len: usize,
        out: Vec<usize>,
        answer: Answer,
    ) -> Completion {
        let requested = usize::from(setup.length);
        let result = match answer.reply {
            Err(Stall) => {
                self.stats.stalls += 1;
                Err(UsbError::Stall)
            }
            Ok(mut data) => {
                data.truncate(if setup.is_in() { requested } else { 0 });
                Ok(data)
            }
        };
        let in_packets = match &result {
            Ok(data) if setup.is_in() => link::data_packets(data.len(), requested),
            _ => vec![],
        };
        let all: Vec<usize> = out.iter().chain(&in_packets).copied().collect();
        let done_at = start.saturating_add(link::transfer_time(&self.config.link, &all));
        let incoming: Vec<Packet> = (in_packets.iter().enumerate())
            .map(|(index, &len)| Packet::DataIn { index, len })
            .chain(std::iter::once(Packet::Status))
            .collect();
        let lost = if result.is_ok() {
            self.lose_packet(&incoming)
        } else {
            None
        };
        self.apply(done_at, &answer.after, answer.busy_ms);
        let result = match (result, lost) {
            (Ok(_), Some(packet)) => {
                self.stats.protocol_errors += 1;
                Err(UsbError::Protocol {
                    detail: format!("{packet} lost after the device acted"),
                })
            }
            (Ok(data), None) => {
                self.stats.bytes_in += data.len() as u64;
                self.stats.bytes_out += out_len as u64;
                Ok(data)
            }
            (err, _) => err,
        };
        Completion { result, done_at }
    }

    /// Busy time, leave, resets, and the bus-level faults.
    fn apply(&mut self, done_at: Duration, after: &After, busy_ms: u32) {
        if busy_ms > 0 {
            self.busy_until = done_at.saturating_add(Duration::from_millis(u64::from(busy_ms)));
            self.poll_not_before = self.busy_until;
        }
        match *after {
            After::Nothing => {}
            After::Manifest => self.leave(done_at),
            After::Reset(ms) => {
                self.software_reset(done_at.saturating_add(Duration::from_millis(u64::from(ms))))
            }
        }
        let faults = self.faults.after_transfer();
        if faults.disconnect {
            self.on_bus = false;
        }
        if faults.re_enumerate {
            self.software_reset(done_at);
        }
    }

    /// Draws loss for each packet in order; the first lost one, if any.
    fn lose_packet(&mut self, packets: &[Packet]) -> Option<Packet> {
        let usb_error = self.boot.as_ref().map_or(0.0, |b| b.usb_error_ppm);
        // Runs of packets share a size (64-byte data packets): compute each run's probability once.
        let mut last: Option<(usize, f64)> = None;
        for &packet in packets {
            let payload = packet.payload();
            let p = match last {
                Some((size, p)) if size == payload => p,
                _ => link::packet_loss(&self.config.link, payload, usb_error),
            };
            last = Some((payload, p));
            if p > 0.0 && self.link_rng.gen::<f64>() < p {
                self.stats.packets_lost += 1;
                return Some(packet);
            }
        }
        None
    }

    fn protocol_error(&mut self, start: Duration, out: &[usize], lost: Packet) -> Completion {
        self.stats.protocol_errors += 1;
        let done_at = start.saturating_add(link::transfer_time(&self.config.link, out));
        let detail = format!("{lost} lost; the device did not act");
        Completion {
            result: Err(UsbError::Protocol { detail }),
            done_at,
        }
    }

    fn violation(&mut self, at: Duration, rule: Rule, detail: String) {
        self.violations
            .push(crate::stats::Violation { at, rule, detail });
    }
}
