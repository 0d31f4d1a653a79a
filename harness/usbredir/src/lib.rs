//! The usb-host side of usbredir for the virtual board: QEMU's `usb-redir` device (or any usbredir client)
//! connects, and the board appears on the guest's USB bus like silicon. Owns the wire format
//! ([`protocol`], pure code), one connection's conversation with one board ([`session`]), the listener
//! ([`serve`]), the rig controller that powers, straps and resets served boards ([`rig`]) and the usbmon pcap
//! writer both the sessions and the `hil` harness capture with ([`pcap`]).
//!
//! Must not use a C library or touch real USB, and must not depend on the `hil` harness (nor rusb, probe-rs or
//! serialport): a board's seeds come from `vboard`, DfuSe types from `dfuse`.

pub mod boards;
pub mod pcap;
pub mod probe;
pub mod protocol;
pub mod rig;
pub mod serve;
pub mod session;

pub use rig::{serve_rig, RigBoards};
pub use serve::{serve, serve_probes, ListenAddr, Listener, ServeError};
pub use session::{
    Connection, ConnectionCounts, Session, SessionConfig, SessionError, HELLO_TIMEOUT,
    MAX_CONNECTIONS,
};
