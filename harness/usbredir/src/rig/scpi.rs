//! The rig socket as a SCPI bench supply: what `scpi = true` rig controllers speak (SCPI-99; the channel list
//! form `(@n)` of Keysight's E36300 series). One output per served board, its channel the board's rig channel.
//!
//! | command                        | reply                          |                                         |
//! |--------------------------------|--------------------------------|-----------------------------------------|
//! | `*IDN?`                        | `hil,virtual bench supply,0,V` | who it is                               |
//! | `OUTP[:STAT] ON|OFF,(@n)`      | none                           | the board's power; a power-on is a boot  |
//! | `MEAS[:SCAL]:CURR[:DC]? (@n)`  | `0.0480`                       | amperes the board draws ([supply])       |
//! | `SYST:ERR?`                    | `+0,"No error"` or the oldest  | the error queue, oldest first           |
//!
//! A command it does not know, a channel without a board, or a board that could not carry the command out
//! (busy) puts an entry in the queue and answers nothing, as a real instrument does. Lines that are not SCPI
//! (no `*` or `:` in the header, e.g. `PWR 1 ON`) are the line protocol's.

use std::collections::VecDeque;

use super::{RigBoards, RigCommand};

/// How many entries the queue keeps; a real instrument's holds 10 to 30, and on overflow replaces its newest
/// entry with -350 (SCPI-99 21.8.2).
const QUEUE: usize = 20;

/// One client's view of the supply: its error queue.
#[derive(Default)]
pub struct Supply {
    queue: VecDeque<String>,
}

impl Supply {
    /// `Some(reply)` when `line` is SCPI (the reply `None` for a command that answers nothing); `None` when it
    /// is the line protocol's.
    pub fn handle(&mut self, line: &str, boards: &RigBoards) -> Option<Option<String>> {
        let text = line.trim();
        let (header, args) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
        if !header.starts_with('*') && !header.contains(':') && !header.eq_ignore_ascii_case("OUTP")
        {
            return None;
        }
        let header = header.to_ascii_uppercase();
        let args = args.trim().to_ascii_uppercase();
        Some(match header.as_str() {
            "*IDN?" => Some(format!(
                "hil,virtual bench supply,0,{}",
                env!("CARGO_PKG_VERSION")
            )),
            "*CLS" => {
                self.queue.clear();
                None
            }
            "*RST" | "*OPC" => None,
            "*OPC?" => Some("1".into()),
            "SYST:ERR?" | "SYST:ERR:NEXT?" | ":SYST:ERR?" => Some(
                self.queue
                    .pop_front()
                    .unwrap_or_else(|| "+0,\"No error\"".into()),
            ),
            "OUTP" | "OUTP:STAT" | ":OUTP" | ":OUTP:STAT" => {
                match output_args(&args) {
                    Some((on, channel)) => {
                        let reply = boards.run(channel, RigCommand::Power(on));
                        if let Some(why) = reply.strip_prefix("ERR ") {
                            self.push(-300, &format!("Device-specific error;{why}"));
                        }
                    }
                    None => self.push(-109, &format!("Missing parameter;{text}")),
                }
                None
            }
            "MEAS:CURR?" | "MEAS:CURR:DC?" | "MEAS:SCAL:CURR?" | "MEAS:SCAL:CURR:DC?"
            | ":MEAS:CURR?" => match channel_list(&args) {
                Some(channel) => {
                    let reply = boards.run(channel, RigCommand::Current);
                    match reply.strip_prefix("ERR ") {
                        None => Some(reply),
                        Some(why) => {
                            self.push(-300, &format!("Device-specific error;{why}"));
                            None
                        }
                    }
                }
                None => {
                    self.push(-109, &format!("Missing parameter;{text}"));
                    None
                }
            },
            _ => {
                self.push(-113, &format!("Undefined header;{text}"));
                None
            }
        })
    }

    fn push(&mut self, code: i32, message: &str) {
        if self.queue.len() + 1 >= QUEUE {
            self.queue.truncate(QUEUE - 1);
            self.queue.push_back("-350,\"Queue overflow\"".into());
        } else {
            self.queue.push_back(format!("{code},\"{message}\""));
        }
    }
}

/// `ON,(@1)` or `OFF,(@1)` (also `1`/`0`).
fn output_args(args: &str) -> Option<(bool, u16)> {
    let (state, list) = args.split_once(',')?;
    let on = match state.trim() {
        "ON" | "1" => true,
        "OFF" | "0" => false,
        _ => return None,
    };
    Some((on, channel_list(list)?))
}

/// `(@3)`: one channel, counted from 1.
fn channel_list(args: &str) -> Option<u16> {
    let inner = args.trim().strip_prefix("(@")?.strip_suffix(')')?;
    inner.trim().parse().ok().filter(|c| *c > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scpi_lines_are_told_from_the_line_protocol() {
        let boards = RigBoards::new();
        let mut s = Supply::default();
        assert_eq!(s.handle("PWR 1 ON", &boards), None);
        assert_eq!(s.handle("TEMP 1?", &boards), None);
        assert!(s
            .handle("*IDN?", &boards)
            .unwrap()
            .unwrap()
            .starts_with("hil,virtual bench supply"));
    }

    #[test]
    fn errors_queue_and_are_read_oldest_first() {
        let boards = RigBoards::new();
        let mut s = Supply::default();
        assert_eq!(s.handle("VOLT:PROT 5", &boards), Some(None));
        // No board on channel 1: the output cannot switch.
        assert_eq!(s.handle("OUTP ON,(@1)", &boards), Some(None));
        assert_eq!(s.handle("OUTP ON", &boards), Some(None));
        let next = |s: &mut Supply| s.handle("SYST:ERR?", &boards).unwrap().unwrap();
        assert_eq!(next(&mut s), "-113,\"Undefined header;VOLT:PROT 5\"");
        assert!(next(&mut s).starts_with("-300,\"Device-specific error;no board on channel 1"));
        assert_eq!(next(&mut s), "-109,\"Missing parameter;OUTP ON\"");
        assert_eq!(next(&mut s), "+0,\"No error\"");
    }

    #[test]
    fn a_full_queue_ends_in_overflow() {
        let boards = RigBoards::new();
        let mut s = Supply::default();
        for _ in 0..50 {
            s.handle("BOGUS:CMD", &boards);
        }
        let entries: Vec<String> = (0..=QUEUE)
            .map(|_| s.handle("SYST:ERR?", &boards).unwrap().unwrap())
            .collect();
        assert_eq!(entries[QUEUE - 2], "-113,\"Undefined header;BOGUS:CMD\"");
        assert_eq!(entries[QUEUE - 1], "-350,\"Queue overflow\"");
        assert_eq!(entries[QUEUE], "+0,\"No error\"");
    }
}
