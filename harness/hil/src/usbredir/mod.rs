//! The usb-host side of usbredir for the virtual board: QEMU's `usb-redir` device (or any usbredir client)
//! connects, and the board appears on the guest's USB bus like silicon. Owns the wire format
//! ([`protocol`], pure code), one connection's conversation with one board ([`session`]) and the listener
//! ([`serve`]). Must not use a C library or touch real USB.

pub mod protocol;
pub mod rig;
pub mod serve;
pub mod session;

pub use rig::{serve_rig, RigBoards};
pub use serve::{serve, ListenAddr, Listener, ServeError};
pub use session::{Connection, Session, SessionConfig, SessionError, Stats};
