//! QEMU's side of usbredir, as far as the tests need it: hello, the plug packets, control transfers and the
//! DFU requests that read the option bytes. Every read has a deadline; a malformed packet fails the test.

use std::io::{Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use usbredir::protocol::{
    decode, encode, Caps, ControlPacket, DecodeError, DeviceConnect, Packet, Status,
};

use crate::server::DEADLINE;

/// What QEMU 7.2 advertises (filter and bulk receiving too, which the board does not take up).
pub const QEMU_CAPS: Caps = Caps(Caps::OURS.0 | Caps::FILTER | Caps::BULK_RECEIVING);

pub trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// QEMU's side of usbredir, as far as these tests need it.
pub struct Client {
    pub stream: Box<dyn Stream>,
    pub caps: Caps,
    pub buf: Vec<u8>,
    pub next_id: u64,
}

pub enum Recv {
    Packet(u64, Packet),
    Closed,
}

impl Client {
    pub fn send(&mut self, id: u64, packet: &Packet) {
        self.stream
            .write_all(&encode(id, packet, self.caps))
            .expect("send");
    }

    pub fn try_recv(&mut self, within: Duration) -> Option<Recv> {
        let deadline = Instant::now() + within;
        let mut chunk = [0u8; 4096];
        loop {
            match decode(&self.buf, self.caps) {
                Ok((h, p, used)) => {
                    self.buf.drain(..used);
                    return Some(Recv::Packet(h.id, p));
                }
                Err(DecodeError::Truncated { .. }) => {}
                Err(e) => panic!("server sent a malformed packet: {e}"),
            }
            if Instant::now() > deadline {
                return None;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Some(Recv::Closed),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return Some(Recv::Closed),
            }
        }
    }

    pub fn recv(&mut self) -> (u64, Packet) {
        match self.try_recv(DEADLINE) {
            Some(Recv::Packet(id, p)) => (id, p),
            Some(Recv::Closed) => panic!("server closed the connection"),
            None => panic!("no packet from the server within {DEADLINE:?}"),
        }
    }

    /// Hello both ways; then the plug packets of the board.
    pub fn handshake(&mut self) -> DeviceConnect {
        self.send(
            0,
            &Packet::Hello {
                version: "qemu usb-redir guest 7.2".into(),
                caps: QEMU_CAPS,
            },
        );
        match self.recv() {
            (0, Packet::Hello { caps, .. }) => assert_eq!(caps, Caps::OURS),
            other => panic!("expected hello, got {other:?}"),
        }
        self.caps = QEMU_CAPS.negotiated(Caps::OURS);
        self.expect_plug()
    }

    pub fn expect_plug(&mut self) -> DeviceConnect {
        match self.recv().1 {
            Packet::InterfaceInfo(list) => {
                assert_eq!(list.len(), 1);
                assert_eq!(
                    (
                        list[0].number,
                        list[0].class,
                        list[0].subclass,
                        list[0].protocol
                    ),
                    (0, 0xfe, 1, 2)
                );
            }
            other => panic!("expected interface_info, got {other:?}"),
        }
        match self.recv().1 {
            Packet::EpInfo(ep) => {
                assert_eq!((ep.kind[0], ep.kind[16], ep.kind[1]), (0, 0, 255));
                assert_eq!((ep.max_packet_size[0], ep.max_packet_size[16]), (64, 64));
            }
            other => panic!("expected ep_info, got {other:?}"),
        }
        match self.recv().1 {
            Packet::DeviceConnect(c) => c,
            other => panic!("expected device_connect, got {other:?}"),
        }
    }

    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        // Above 32 bits: only survives if both sides really use 64-bit ids.
        (1 << 32) | self.next_id
    }

    pub fn send_control(
        &mut self,
        id: u64,
        request_type: u8,
        request: u8,
        value: u16,
        length: u16,
        data: &[u8],
    ) {
        let packet = Packet::Control(ControlPacket {
            endpoint: request_type & 0x80,
            request,
            request_type,
            status: Status::Success,
            value,
            index: 0,
            length,
            data: data.to_vec(),
        });
        self.send(id, &packet);
    }

    pub fn control(
        &mut self,
        request_type: u8,
        request: u8,
        value: u16,
        length: u16,
        data: &[u8],
    ) -> ControlPacket {
        let id = self.id();
        self.send_control(id, request_type, request, value, length, data);
        match self.recv() {
            (got, Packet::Control(c)) => {
                assert_eq!(got, id, "reply id");
                c
            }
            other => panic!("expected a control reply, got {other:?}"),
        }
    }

    pub fn ok(
        &mut self,
        request_type: u8,
        request: u8,
        value: u16,
        length: u16,
        data: &[u8],
    ) -> Vec<u8> {
        let c = self.control(request_type, request, value, length, data);
        assert_eq!(
            c.status,
            Status::Success,
            "request {request:#x} value {value:#x}"
        );
        c.data
    }

    /// DFU_GETSTATUS, then wait bwPollTimeout as a host must.
    pub fn get_status(&mut self) -> [u8; 6] {
        let s: [u8; 6] = self
            .ok(0xa1, 3, 0, 6, &[])
            .try_into()
            .expect("6 status bytes");
        thread::sleep(Duration::from_millis(u64::from(u32::from_le_bytes([
            s[1], s[2], s[3], 0,
        ]))));
        s
    }

    pub fn set_alt(&mut self, alt: u8) {
        let id = self.id();
        self.send(id, &Packet::SetAltSetting { interface: 0, alt });
        assert_eq!(
            self.recv(),
            (
                id,
                Packet::AltSettingStatus {
                    status: Status::Success,
                    interface: 0,
                    alt
                }
            )
        );
    }

    pub fn device_descriptor(&mut self) -> Vec<u8> {
        self.ok(0x80, 6, 0x0100, 18, &[])
    }

    pub fn expect_closed(&mut self) {
        loop {
            match self.try_recv(DEADLINE) {
                Some(Recv::Closed) => return,
                Some(Recv::Packet(..)) => {}
                None => panic!("server did not close the connection"),
            }
        }
    }
}

pub const DFU_DNLOAD: u8 = 1;
pub const DFU_UPLOAD: u8 = 2;
pub const DFU_ABORT: u8 = 6;
pub const STATE_DNLOAD_IDLE: u8 = 5;
pub const STATE_IDLE: u8 = 2;

pub fn read_option_bytes(c: &mut Client) -> Vec<u8> {
    c.set_alt(1);
    c.ok(0x21, DFU_DNLOAD, 0, 5, &[0x21, 0x00, 0x00, 0xff, 0x1f]);
    c.get_status();
    assert_eq!(c.get_status()[4], STATE_DNLOAD_IDLE);
    c.ok(0x21, DFU_ABORT, 0, 0, &[]);
    assert_eq!(c.get_status()[4], STATE_IDLE);
    c.ok(0xa1, DFU_UPLOAD, 2, 32, &[])
}
