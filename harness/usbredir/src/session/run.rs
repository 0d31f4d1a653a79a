//! One session's run loop: reads the client's packets, answers them, and tells the client when the board leaves
//! or joins the bus. The transfers themselves are in `transfer`, the rig commands in `power`. Owns no socket.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::time::Duration;

use dfuse::{Clock, SystemClock};
use vboard::descriptors::Descriptors;
use vboard::{board_seed, Board};

use super::{transfer, Connection, ConnectionCounts, SessionConfig, SessionError};
use crate::boards::SharedBoard;
use crate::pcap::PcapWriter;
use crate::protocol::{
    decode, encode, Caps, DecodeError, DeviceConnect, EpInfo, Interface, Packet, SPEED_FULL,
};
use crate::rig::RigSlot;
use std::sync::{Arc, Mutex, MutexGuard};

/// One connection's board and protocol state.
pub struct Session {
    /// The connection's number (from 0), for log lines.
    pub(super) number: u64,
    /// The board, shared with a probe connection tied to it (`crate::boards`), and the clock both run on.
    pub(super) board: Arc<SharedBoard>,
    /// The board's seed (the run seed mixed with its rig-file seed `number + 1`).
    pub(super) seed: u64,
    /// Power-ons through the rig so far; the n-th is reseeded as soak cycle n.
    pub(super) power_ons: u64,
    /// The last boot number logged.
    pub(super) boots_logged: u64,
    /// This session's rig channel and the commands waiting for it.
    pub(super) rig: Option<RigSlot>,
    pub(super) device: Descriptors,
    pub(super) no_response_wait: Duration,
    pub(super) poll: Duration,
    pub(super) hello_timeout: Duration,
    /// Negotiated capabilities; empty (32-bit ids) until the client's hello.
    pub(super) caps: Caps,
    pub(super) hello_done: bool,
    /// Whether the client was told the device is connected.
    pub(super) connected: bool,
    pub(super) boots_at_connect: u64,
    pub(super) configuration: u8,
    pub(super) inbuf: Vec<u8>,
    pub(super) pcap: Option<PcapWriter<BufWriter<File>>>,
    pub(super) capture_path: Option<PathBuf>,
    pub(super) stats: ConnectionCounts,
}

impl Session {
    /// A fresh board for connection number `connection`, powered on now, taking rig commands from `rig`
    /// (the listener registers it as the connection is accepted, so channels follow the connection order).
    pub fn new(
        config: &SessionConfig,
        connection: u64,
        rig: Option<RigSlot>,
    ) -> Result<Session, SessionError> {
        let clock = SystemClock::new();
        let seed = board_seed(config.seed, connection + 1);
        let mut board = Board::new(config.board.clone(), seed);
        board.power_on(clock.now());
        let device = Descriptors::new(board.config());
        let board = Arc::new(SharedBoard {
            board: Mutex::new(board),
            clock,
        });
        config.boards.register(connection, &board);
        let pcap = config
            .capture
            .as_ref()
            .map(transfer::open_capture)
            .transpose()?;
        Ok(Session {
            number: connection,
            seed,
            power_ons: 0,
            boots_logged: 0,
            rig,
            device,
            board,
            no_response_wait: config.no_response_wait,
            poll: config.poll,
            hello_timeout: config.hello_timeout,
            caps: Caps::default(),
            hello_done: false,
            connected: false,
            boots_at_connect: 0,
            configuration: 0,
            inbuf: Vec::new(),
            pcap,
            capture_path: config.capture.clone(),
            stats: ConnectionCounts::default(),
        })
    }

    pub fn stats(&self) -> &ConnectionCounts {
        &self.stats
    }

    /// The board (locked: a probe connection may share it).
    pub fn board(&self) -> MutexGuard<'_, Board> {
        self.b()
    }

    pub(super) fn b(&self) -> MutexGuard<'_, Board> {
        self.board.lock()
    }

    /// The board's seed: `vboard::board_seed(run seed, connection + 1)`.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The rig channel this session answers on, if the server has a rig.
    pub fn rig_channel(&self) -> Option<u16> {
        self.rig.as_ref().map(|r| r.channel)
    }

    /// Serve `conn` until the client closes it (`Ok`) or breaks the protocol (`Err`).
    pub fn run<C: Connection>(&mut self, conn: &mut C) -> Result<(), SessionError> {
        conn.set_read_timeout(Some(self.poll))?;
        let hello = Packet::Hello {
            version: format!("hil-vboard {}", env!("CARGO_PKG_VERSION")),
            caps: Caps::OURS,
        };
        self.send(conn, 0, &hello)?;
        let mut chunk = vec![0u8; 64 * 1024];
        let started = std::time::Instant::now();
        loop {
            if !self.hello_done && started.elapsed() > self.hello_timeout {
                return Err(SessionError::HelloTimeout(self.hello_timeout));
            }
            while let Some((id, packet)) = self.next_packet()? {
                self.handle(conn, id, packet)?;
            }
            self.rig_requests();
            self.track_bus(conn)?;
            match conn.read(&mut chunk) {
                Ok(0) => return self.closed(),
                Ok(n) => self.inbuf.extend_from_slice(&chunk[..n]),
                Err(e) if is_idle(&e) => {}
                Err(e) if is_gone(&e) => return self.closed(),
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn next_packet(&mut self) -> Result<Option<(u64, Packet)>, SessionError> {
        take_packet(&mut self.inbuf, self.caps, self.hello_done)
    }

    fn closed(&self) -> Result<(), SessionError> {
        match decode(&self.inbuf, self.caps) {
            _ if self.inbuf.is_empty() => Ok(()),
            Err(DecodeError::Truncated { got, need }) => Err(SessionError::Truncated { got, need }),
            Err(e) => Err(SessionError::Malformed(e)),
            Ok(_) => Ok(()),
        }
    }

    fn handle<C: Connection>(
        &mut self,
        conn: &mut C,
        id: u64,
        packet: Packet,
    ) -> Result<(), SessionError> {
        let reply = match packet {
            Packet::Hello { caps, .. } if !self.hello_done => {
                self.caps = Caps::OURS.negotiated(caps);
                self.hello_done = true;
                None
            }
            Packet::Reset => {
                self.b().bus_reset(self.board.clock.now());
                None
            }
            Packet::Control(c) => Some(Packet::Control(self.control(c))),
            Packet::SetConfiguration { configuration } => {
                Some(self.set_configuration(configuration))
            }
            Packet::GetConfiguration => Some(self.get_configuration()),
            Packet::SetAltSetting { interface, alt } => Some(self.set_alt(interface, alt)),
            Packet::GetAltSetting { interface } => Some(self.get_alt(interface)),
            Packet::CancelDataPacket => {
                // Transfers are answered before the next packet is read, so the id is answered or unknown.
                self.stats.cancels_ignored += 1;
                None
            }
            Packet::Bulk(b) => {
                // The board has only endpoint 0: a bulk transfer names an endpoint it does not have.
                self.stats.unserved += 1;
                Some(Packet::Bulk(crate::protocol::BulkPacket {
                    status: crate::protocol::Status::Inval,
                    length: 0,
                    data: Vec::new(),
                    ..b
                }))
            }
            Packet::Unserved { kind } => {
                self.stats.unserved += 1;
                eprintln!(
                    "hil: usbredir: ignoring packet type {kind} (the board has only endpoint 0)"
                );
                None
            }
            // Packets only a usb-host side sends, or a second hello: nothing to do.
            _ => None,
        };
        if let Some(reply) = reply {
            self.send(conn, id, &reply)?;
        }
        self.track_bus(conn)
    }

    /// Tell the client when the board left the bus (or rebooted unseen) and when it is back.
    fn track_bus<C: Connection>(&mut self, conn: &mut C) -> Result<(), SessionError> {
        self.log_boot();
        if !self.hello_done {
            return Ok(());
        }
        let attached = self.b().attached(self.board.clock.now());
        let rebooted = self.b().stats().boots != self.boots_at_connect;
        if self.connected && (!attached || rebooted) {
            self.connected = false;
            self.stats.disconnects += 1;
            self.send(conn, 0, &Packet::DeviceDisconnect)?;
        }
        if !self.connected && attached {
            self.connected = true;
            self.stats.connects += 1;
            let boots = self.b().stats().boots;
            self.boots_at_connect = boots;
            self.configuration = 0;
            for packet in self.plug_packets() {
                self.send(conn, 0, &packet)?;
            }
        }
        Ok(())
    }

    /// interface_info, ep_info, device_connect: what the hub learns when the device is plugged in.
    fn plug_packets(&self) -> [Packet; 3] {
        let d = &self.device.device;
        let max_packet0 = u16::from(d.get(7).copied().unwrap_or(0));
        [
            Packet::InterfaceInfo(interfaces(&self.device.configuration)),
            Packet::EpInfo(Box::new(EpInfo::control_only(max_packet0))),
            Packet::DeviceConnect(device_connect(d)),
        ]
    }

    fn send<C: Connection>(
        &mut self,
        conn: &mut C,
        id: u64,
        packet: &Packet,
    ) -> Result<(), SessionError> {
        send_packet(conn, id, packet, self.caps, self.hello_done)
    }
}

/// The next whole packet in `inbuf`, taken out of it; None until one has arrived. Before the hello only a hello
/// is allowed.
pub(crate) fn take_packet(
    inbuf: &mut Vec<u8>,
    caps: Caps,
    hello_done: bool,
) -> Result<Option<(u64, Packet)>, SessionError> {
    match decode(inbuf, caps) {
        Ok((header, packet, used)) => {
            inbuf.drain(..used);
            if !hello_done && !matches!(packet, Packet::Hello { .. }) {
                return Err(SessionError::NoHello { kind: header.kind });
            }
            Ok(Some((header.id, packet)))
        }
        Err(DecodeError::Truncated { .. }) => Ok(None),
        Err(e) => Err(SessionError::Malformed(e)),
    }
}

/// Writes one packet, laid out with the negotiated `caps` once the hello exchange is done (before it, with none).
pub(crate) fn send_packet<C: Connection>(
    conn: &mut C,
    id: u64,
    packet: &Packet,
    caps: Caps,
    hello_done: bool,
) -> Result<(), SessionError> {
    let caps = if hello_done { caps } else { Caps::default() };
    conn.write_all(&encode(id, packet, caps))?;
    Ok(conn.flush()?)
}

/// device_connect for a device descriptor: its class triple, VID:PID and bcdDevice, at full speed.
pub(crate) fn device_connect(d: &[u8]) -> DeviceConnect {
    let byte = |i: usize| d.get(i).copied().unwrap_or(0);
    let word = |i: usize| u16::from_le_bytes([byte(i), byte(i + 1)]);
    DeviceConnect {
        speed: SPEED_FULL,
        class: byte(4),
        subclass: byte(5),
        protocol: byte(6),
        vendor_id: word(8),
        product_id: word(10),
        device_version_bcd: word(12),
    }
}

/// The interfaces of a configuration descriptor (first alternate setting of each number).
pub(crate) fn interfaces(config: &[u8]) -> Vec<Interface> {
    let mut list: Vec<Interface> = Vec::new();
    let mut at = 0;
    while let Some(&len) = config.get(at) {
        let desc = &config[at..(at + usize::from(len)).min(config.len())];
        if desc.len() >= 8
            && desc[1] == vboard::descriptors::DT_INTERFACE
            && !list.iter().any(|i| i.number == desc[2])
        {
            list.push(Interface {
                number: desc[2],
                class: desc[5],
                subclass: desc[6],
                protocol: desc[7],
            });
        }
        at += usize::from(len.max(1));
    }
    list
}

/// A read that timed out or was interrupted: nothing arrived, the connection is fine.
pub(crate) fn is_idle(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

fn is_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}
