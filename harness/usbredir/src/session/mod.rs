//! One usbredir connection = one fresh virtual board, on the real clock: reads the client's packets, turns
//! them into the board's control transfers, waits until the board completes them (so a guest sees real
//! erase and write times), answers, and tells the client when the board leaves or joins the bus.
//! Owns no socket: it runs over any [`Connection`] (`config`, with what a session is made from); the listener
//! lives in `serve`. The run loop is in `run`, the transfers themselves in `transfer`. With a rig
//! ([`SessionConfig::rig`]) the session also takes power, BOOT0 and NRST commands for its board (`power`).

mod config;
mod counts;
mod power;
mod run;
mod transfer;

pub use config::{
    Connection, SessionConfig, SessionError, HELLO_TIMEOUT, MAX_CONNECTIONS, NO_RESPONSE_WAIT, POLL,
};
pub use counts::ConnectionCounts;
pub use run::Session;
pub(crate) use run::{device_connect, interfaces, is_idle, send_packet, take_packet};
