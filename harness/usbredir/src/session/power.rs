//! A session's rig side: the commands of `hil vboard serve --rig` carried out on this connection's board, and
//! one log line per bootloader boot with what its clocks did.

use std::sync::mpsc::TryRecvError;
use std::time::{Duration, Instant};

use dfuse::Clock;
use vboard::{cycle_seed, ResetCause};

use super::Session;
use crate::rig::{RigCommand, RigRequest};

impl Session {
    /// Carry out every rig command waiting for this board.
    pub(super) fn rig_requests(&mut self) {
        loop {
            let request = match &self.rig {
                Some(rig) => match rig.requests.try_recv() {
                    Ok(r) => r,
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
                },
                None => return,
            };
            let RigRequest {
                command,
                reply,
                deadline,
            } = request;
            if Instant::now() > deadline {
                continue; // its client is told ERR: carrying it out now would surprise it
            }
            let line = self.rig_command(command);
            self.stats.rig_commands += 1;
            self.log_boot();
            let _ = reply.send(line);
        }
    }

    fn rig_command(&mut self, command: RigCommand) -> String {
        let channel = self.rig.as_ref().map_or(0, |r| r.channel);
        let now = self.board.clock.now();
        match command {
            RigCommand::Power(true) => {
                if self.b().mode() == vboard::RunMode::Off {
                    // The n-th power-on draws like cycle n of an in-process soak's first phase, so a soak driven
                    // from a guest sees the boots an in-process soak with the same seed sees.
                    self.power_ons += 1;
                    self.b().reseed(cycle_seed(self.seed, 0, self.power_ons, 1));
                    self.b().power_on(now);
                }
                format!("OK PWR {channel} ON")
            }
            RigCommand::Power(false) => {
                self.b().power_off(now);
                format!("OK PWR {channel} OFF")
            }
            RigCommand::Boot0(high) => {
                self.b().set_boot0(high);
                format!("OK BOOT0 {channel} {}", u8::from(high))
            }
            RigCommand::Reset { ms } => {
                // Held in reset for the pulse (at most rig::MAX_PULSE_MS): the board answers nothing meanwhile.
                self.board.clock.sleep(Duration::from_millis(u64::from(ms)));
                let now = self.board.clock.now();
                self.b().reset_pin(now);
                format!("OK RST {channel}")
            }
            RigCommand::Temperature => {
                format!("TEMP {channel} {:.1}", self.b().temperature())
            }
            RigCommand::Transfers => format!("XFERS {channel} {}", self.stats.control_transfers),
            RigCommand::Current => format!("{:.4}", self.b().supply_current_ma() / 1e3),
            RigCommand::Clocks => match self.b().boot() {
                Some(b) => format!(
                    "CLOCKS {channel} PLLM {} HSE {} USB {:.0} PPM {:.0}",
                    b.pll.m, b.measured_hse_hz, b.usb_clock_hz, b.usb_error_ppm
                ),
                None => format!("ERR the board on channel {channel} is not in the bootloader"),
            },
        }
    }

    /// One stderr line for each bootloader boot not logged yet: what the ROM measured and what USB got.
    pub(super) fn log_boot(&mut self) {
        let Some(boot) = self.b().boot().cloned() else {
            return;
        };
        if boot.number <= self.boots_logged {
            return;
        }
        self.boots_logged = boot.number;
        let cause = match boot.cause {
            ResetCause::PowerOn if self.power_ons > 0 => format!("power-on {}", self.power_ons),
            ResetCause::PowerOn => "power-on".to_string(),
            ResetCause::Pin => "NRST".to_string(),
            ResetCause::Software => "software reset".to_string(),
        };
        let verdict = if boot.hse_detected_correctly() {
            "ok"
        } else {
            "MISDETECTED"
        };
        eprintln!(
            "hil: usbredir connection {}: boot {} ({cause}, {:.1} °C): HSI {:+.2} %, HSE measured {:.2} MHz -> \
             PLLM {} for a {:.0} MHz HSE ({verdict}), USB clock {:.3} MHz ({:+.0} ppm)",
            self.number,
            boot.number,
            boot.temperature_c,
            boot.hsi_error_ppm / 1e4,
            f64::from(boot.measured_hse_hz) / 1e6,
            boot.pll.m,
            boot.hse_hz / 1e6,
            boot.usb_clock_hz / 1e6,
            boot.usb_error_ppm,
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::thread;
    use std::time::Duration;

    use vboard::{board_seed, Board, BoardConfig};

    use super::*;
    use crate::{RigBoards, SessionConfig};

    fn drifting() -> BoardConfig {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/boards/drifting-25mhz.toml");
        BoardConfig::load(&path).expect("the drifting board file loads")
    }

    /// Sends `lines` from another thread (the rig listener's side) while this one plays the session loop.
    fn drive(session: &mut Session, boards: &RigBoards, lines: &[&str]) -> Vec<String> {
        let lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        let boards = boards.clone();
        let rig = thread::spawn(move || lines.iter().map(|l| boards.execute(l)).collect());
        while !rig.is_finished() {
            session.rig_requests();
            thread::sleep(Duration::from_millis(1));
        }
        rig.join().unwrap()
    }

    #[test]
    fn the_nth_power_on_boots_like_cycle_n_of_an_in_process_soak() {
        let boards = RigBoards::new();
        let mut config = SessionConfig::new(drifting(), 7);
        config.rig = Some(boards.clone());
        let mut session = Session::new(&config, 0, Some(boards.register())).unwrap();
        assert_eq!(session.rig_channel(), Some(1));

        // What the soak runner does to a virtual board: built with the mixed seed, powered on, then reseeded
        // at the start of every cycle before its power cycle.
        let seed = board_seed(7, 1);
        let mut in_process = Board::new(drifting(), seed);
        in_process.power_on(Duration::ZERO);
        let mut misdetected = 0;
        for cycle in 1..=12 {
            let replies = drive(&mut session, &boards, &["PWR 1 OFF", "PWR 1 ON"]);
            assert_eq!(replies, ["OK PWR 1 OFF", "OK PWR 1 ON"]);
            in_process.reseed(cycle_seed(seed, 0, cycle, 1));
            in_process.power_off(Duration::from_secs(cycle));
            in_process.power_on(Duration::from_secs(cycle) + Duration::from_millis(200));
            let served = session.board().boot().cloned().unwrap();
            let soaked = in_process.boot().unwrap();
            assert_eq!(served.hsi_error_ppm, soaked.hsi_error_ppm, "cycle {cycle}");
            assert_eq!(
                served.measured_hse_hz, soaked.measured_hse_hz,
                "cycle {cycle}"
            );
            misdetected += u32::from(!served.hse_detected_correctly());
        }
        assert!(
            (1..12).contains(&misdetected),
            "the drifting board misdetects some boots, not all: {misdetected} of 12"
        );
        // Powering on a board that is on is not a new boot and does not count as a cycle.
        let boots = session.board().stats().boots;
        drive(&mut session, &boards, &["PWR 1 ON"]);
        assert_eq!(session.board().stats().boots, boots);
        assert_eq!(session.power_ons, 12);
    }
}
