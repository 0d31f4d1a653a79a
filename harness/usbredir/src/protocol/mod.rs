//! The usbredir wire format (spice `usb-redirection-protocol`): packet headers, the packets the usb-host side
//! sends and receives, and their encoding. Pure code over `&[u8]`: no sockets, no board.
//!
//! Little endian, packed. Header: `u32 type, u32 length, id`, where `length` counts the type-specific header
//! plus data and `id` is a u32 until both hellos are exchanged, then a u64 if both sides advertised
//! `64bits_ids`. The layout of `ep_info` and `device_connect` also depends on capabilities both sides have,
//! so encoding and decoding take the negotiated [`Caps`].

mod codec;
mod packet;

pub use codec::{decode, decode_body, decode_header, encode};
pub use packet::*;

#[cfg(test)]
mod tests;
