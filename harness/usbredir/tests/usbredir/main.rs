//! The usbredir server end to end, with a small usbredir client playing QEMU's part over a Unix socket (and
//! once over loopback TCP). Every read has a deadline: a broken server fails a test, it never hangs one.
//!
//! `server` runs the server under test, `client` plays QEMU; the tests are grouped by what they exercise.
//! `pcap_tshark` checks the captures with tshark. One binary for all of them, so a change relinks once.

mod client;
mod server;

mod board;
mod connections;
mod pcap_tshark;
mod probe;
mod rig;
