//! One usbredir connection serving the virtual CMSIS-DAP v2 probe (`vprobe`) wired to a served board: the
//! probe's own USB device (its descriptors on the control pipe, DAP commands on bulk OUT, responses on bulk IN),
//! its SWD port and NRST acting on the same board as that board's DFU connection, on the same clock. A bulk IN
//! that arrives before there is a response waits for the next command's.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dfuse::Clock;
use vboard::swd::DebugPort;
use vprobe::usb::{ProbeDevice, EP_IN, EP_OUT, MAX_PACKET};
use vprobe::{BoardTarget, ProbeInfo};

use crate::boards::SharedBoard;
use crate::protocol::{BulkPacket, Caps, ControlPacket, EpInfo, Packet, Status, EP_TYPE_BULK};
use crate::session::{
    device_connect, interfaces, is_idle, send_packet, take_packet, Connection, SessionError,
};

/// A probe connection's state.
pub struct ProbeSession {
    board: Arc<SharedBoard>,
    device: ProbeDevice,
    port: DebugPort,
    reset_held: bool,
    power_ons: u64,
    caps: Caps,
    hello_done: bool,
    inbuf: Vec<u8>,
    /// Bulk INs waiting for a response, oldest first: packet id and the most bytes each takes.
    waiting_in: std::collections::VecDeque<(u64, u32)>,
    poll: Duration,
    hello_timeout: Duration,
    /// DAP command packets executed.
    pub commands: u64,
}

impl ProbeSession {
    /// The probe of `board`, identified by `serial`.
    pub fn new(
        board: Arc<SharedBoard>,
        serial: &str,
        poll: Duration,
        hello_timeout: Duration,
    ) -> Self {
        let port = DebugPort::new(board.lock().swd_identity());
        let target_name = "STM32F746ZGTx".to_string();
        Self {
            device: ProbeDevice::new(ProbeInfo {
                vendor: "hil".into(),
                product: "hil virtual CMSIS-DAP".into(),
                serial: serial.into(),
                firmware_version: env!("CARGO_PKG_VERSION").into(),
                target_vendor: "STMicroelectronics".into(),
                target_name,
                packet_size: MAX_PACKET,
            }),
            board,
            port,
            reset_held: false,
            power_ons: 0,
            caps: Caps::default(),
            hello_done: false,
            inbuf: Vec::new(),
            waiting_in: std::collections::VecDeque::new(),
            poll,
            hello_timeout,
            commands: 0,
        }
    }

    /// SWD transfers the probe made on the board so far.
    pub fn transfers(&self) -> u64 {
        self.device.dap.transfers
    }

    /// Serve `conn` until the client closes it (`Ok`) or breaks the protocol (`Err`).
    pub fn run<C: Connection>(&mut self, conn: &mut C) -> Result<(), SessionError> {
        conn.set_read_timeout(Some(self.poll))?;
        let hello = Packet::Hello {
            version: format!("hil-vprobe {}", env!("CARGO_PKG_VERSION")),
            caps: Caps::OURS,
        };
        self.send(conn, 0, &hello)?;
        let mut chunk = vec![0u8; 64 * 1024];
        let started = Instant::now();
        loop {
            if !self.hello_done && started.elapsed() > self.hello_timeout {
                return Err(SessionError::HelloTimeout(self.hello_timeout));
            }
            while let Some((id, packet)) = take_packet(&mut self.inbuf, self.caps, self.hello_done)?
            {
                self.handle(conn, id, packet)?;
            }
            match conn.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => self.inbuf.extend_from_slice(&chunk[..n]),
                Err(e) if is_idle(&e) => {}
                Err(_) => return Ok(()),
            }
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
                for p in self.plug_packets() {
                    self.send(conn, 0, &p)?;
                }
                None
            }
            Packet::Control(c) => Some(Packet::Control(self.control(c))),
            Packet::SetConfiguration { configuration } => {
                let setup = [0x00, 0x09, configuration, 0, 0, 0, 0, 0];
                let status = status_of(self.device.control(setup).is_ok());
                Some(Packet::ConfigurationStatus {
                    status,
                    configuration,
                })
            }
            Packet::GetConfiguration => {
                let got = self.device.control([0x80, 0x08, 0, 0, 0, 0, 1, 0]);
                let configuration = got
                    .as_ref()
                    .ok()
                    .and_then(|d| d.first().copied())
                    .unwrap_or(0);
                Some(Packet::ConfigurationStatus {
                    status: status_of(got.is_ok()),
                    configuration,
                })
            }
            Packet::SetAltSetting { interface, alt } => Some(Packet::AltSettingStatus {
                status: status_of(interface == 0 && alt == 0),
                interface,
                alt,
            }),
            Packet::GetAltSetting { interface } => Some(Packet::AltSettingStatus {
                status: status_of(interface == 0),
                interface,
                alt: 0,
            }),
            Packet::Bulk(b) if b.endpoint == EP_OUT => {
                let length = b.data.len() as u32;
                self.command(&b.data);
                self.send(
                    conn,
                    id,
                    &Packet::Bulk(BulkPacket {
                        status: Status::Success,
                        length,
                        data: vec![],
                        ..b
                    }),
                )?;
                while let Some(&(in_id, max)) = self.waiting_in.front() {
                    let Some(data) = self.device.bulk_in(max as usize) else {
                        break;
                    };
                    self.waiting_in.pop_front();
                    self.send(conn, in_id, &bulk_in(data))?;
                }
                None
            }
            Packet::Bulk(b) if b.endpoint == EP_IN => {
                match self.device.bulk_in(b.length as usize) {
                    Some(data) => Some(bulk_in(data)),
                    None => {
                        self.waiting_in.push_back((id, b.length));
                        None
                    }
                }
            }
            Packet::Bulk(b) => Some(Packet::Bulk(BulkPacket {
                status: Status::Inval,
                length: 0,
                data: vec![],
                ..b
            })),
            Packet::CancelDataPacket => {
                // The only transfers that can be outstanding are waiting bulk INs.
                if let Some(at) = self.waiting_in.iter().position(|&(w, _)| w == id) {
                    self.waiting_in.remove(at);
                    Some(Packet::Bulk(BulkPacket {
                        endpoint: EP_IN,
                        status: Status::Cancelled,
                        length: 0,
                        stream_id: 0,
                        data: vec![],
                    }))
                } else {
                    None
                }
            }
            _ => None,
        };
        if let Some(reply) = reply {
            self.send(conn, id, &reply)?;
        }
        Ok(())
    }

    /// One DAP command packet, on the board at the shared clock's now.
    fn command(&mut self, packet: &[u8]) {
        let now = self.board.clock.now();
        let mut board = self.board.lock();
        let mut target = BoardTarget {
            board: &mut board,
            port: &mut self.port,
            now,
            reset_held: &mut self.reset_held,
            power_ons: &mut self.power_ons,
        };
        self.device.bulk_out(&mut target, packet);
        self.commands += 1;
    }

    fn control(&mut self, c: ControlPacket) -> ControlPacket {
        let (status, data) = match self.device.control(c.setup()) {
            Ok(data) => (Status::Success, data),
            Err(_) => (Status::Stall, vec![]),
        };
        ControlPacket {
            status,
            length: data.len() as u16,
            data,
            ..c
        }
    }

    /// interface_info, ep_info (control, bulk OUT 1, bulk IN 0x81), device_connect.
    fn plug_packets(&self) -> [Packet; 3] {
        let mut ep = EpInfo::control_only(64);
        for (slot, _) in [(1usize, EP_OUT), (17usize, EP_IN)] {
            ep.kind[slot] = EP_TYPE_BULK;
            ep.max_packet_size[slot] = MAX_PACKET;
        }
        [
            Packet::InterfaceInfo(interfaces(&self.device.configuration_descriptor())),
            Packet::EpInfo(Box::new(ep)),
            Packet::DeviceConnect(device_connect(&self.device.device_descriptor())),
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

fn status_of(ok: bool) -> Status {
    if ok {
        Status::Success
    } else {
        Status::Stall
    }
}

fn bulk_in(data: Vec<u8>) -> Packet {
    Packet::Bulk(BulkPacket {
        endpoint: EP_IN,
        status: Status::Success,
        length: data.len() as u32,
        stream_id: 0,
        data,
    })
}
