//! A minimal host for the tests: builds SETUP packets, keeps virtual time, and walks DfuSe sequences the way
//! AN3156 describes them. Deliberately small and written here, not shared with the `dfuse` crate.
#![allow(dead_code)]

use std::time::Duration;

use vboard::{Board, BoardConfig, Completion, DfuState, DfuStatus, UsbError};

pub const FLASH: u32 = 0x0800_0000;
pub const OB: u32 = 0x1FFF_0000;
pub const OTP: u32 = 0x1FF0_F000;

/// Decoded GETSTATUS reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub status: DfuStatus,
    pub poll_ms: u32,
    pub state: DfuState,
}

pub fn parse_status(bytes: &[u8]) -> Status {
    assert_eq!(bytes.len(), 6, "GETSTATUS reply {bytes:02X?}");
    Status {
        status: DfuStatus::from_u8(bytes[0]).expect("status"),
        poll_ms: u32::from_le_bytes([bytes[1], bytes[2], bytes[3], 0]),
        state: DfuState::from_u8(bytes[4]).expect("state"),
    }
}

pub fn setup(request_type: u8, request: u8, value: u16, index: u16, length: u16) -> [u8; 8] {
    let [v0, v1] = value.to_le_bytes();
    let [i0, i1] = index.to_le_bytes();
    let [l0, l1] = length.to_le_bytes();
    [request_type, request, v0, v1, i0, i1, l0, l1]
}

/// A board file with a fixed, jitter-free HSI error and an exact HSE.
pub fn config_with(hse_hz: u32, hsi_error_ppm: f64) -> BoardConfig {
    let mut c = BoardConfig::healthy_default();
    c.hse.frequency_hz = hse_hz;
    c.hse.accuracy_ppm = 0.0;
    c.hsi.factory_error_ppm = hsi_error_ppm;
    c.hsi.jitter_ppm = 0.0;
    c.hsi.temp_coefficient_ppm_per_c = 0.0;
    c
}

/// A board that misdetects 25 MHz as 24 MHz on every boot (HSI +2.5 %).
pub fn misdetecting() -> BoardConfig {
    config_with(25_000_000, 25_000.0)
}

pub struct Host {
    pub board: Board,
    pub now: Duration,
}

impl Host {
    /// Powered on at t=0 and waited until attached.
    pub fn new(config: BoardConfig, seed: u64) -> Host {
        let mut host = Host {
            board: Board::new(config, seed),
            now: Duration::ZERO,
        };
        host.board.power_on(host.now);
        host.wait_attached();
        host
    }

    pub fn healthy() -> Host {
        Host::new(BoardConfig::healthy_default(), 1)
    }

    pub fn wait_attached(&mut self) {
        for _ in 0..100_000 {
            if self.board.attached(self.now) {
                return;
            }
            self.sleep(1);
        }
        panic!("board never attached");
    }

    pub fn sleep(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
    }

    /// Runs a transfer and advances time to its completion.
    pub fn transfer(&mut self, raw: [u8; 8], data: &[u8]) -> Completion {
        let done = self.board.control(self.now, raw, data);
        assert!(done.done_at >= self.now);
        self.now = done.done_at;
        done
    }

    pub fn control_in(
        &mut self,
        request_type: u8,
        request: u8,
        value: u16,
        index: u16,
        len: u16,
    ) -> Result<Vec<u8>, UsbError> {
        self.transfer(setup(request_type, request, value, index, len), &[])
            .result
    }

    pub fn control_out(
        &mut self,
        request_type: u8,
        request: u8,
        value: u16,
        data: &[u8],
    ) -> Result<Vec<u8>, UsbError> {
        self.transfer(
            setup(request_type, request, value, 0, data.len() as u16),
            data,
        )
        .result
    }

    pub fn dnload(&mut self, block: u16, data: &[u8]) -> Result<Vec<u8>, UsbError> {
        self.control_out(0x21, 1, block, data)
    }

    pub fn upload(&mut self, block: u16, len: u16) -> Result<Vec<u8>, UsbError> {
        self.control_in(0xA1, 2, block, 0, len)
    }

    pub fn get_status(&mut self) -> Status {
        parse_status(&self.control_in(0xA1, 3, 0, 0, 6).expect("GETSTATUS"))
    }

    pub fn try_get_status(&mut self) -> Result<Vec<u8>, UsbError> {
        self.control_in(0xA1, 3, 0, 0, 6)
    }

    pub fn clr_status(&mut self) -> Result<Vec<u8>, UsbError> {
        self.control_out(0x21, 4, 0, &[])
    }

    pub fn get_state(&mut self) -> DfuState {
        let bytes = self.control_in(0xA1, 5, 0, 0, 1).expect("GETSTATE");
        DfuState::from_u8(bytes[0]).expect("state")
    }

    pub fn abort(&mut self) -> Result<Vec<u8>, UsbError> {
        self.control_out(0x21, 6, 0, &[])
    }

    /// DNLOAD then the two GETSTATUS polls, sleeping bwPollTimeout in between: (busy reply, final reply).
    pub fn run(&mut self, block: u16, data: &[u8]) -> (Status, Status) {
        self.dnload(block, data).expect("DNLOAD");
        let busy = self.get_status();
        self.sleep(u64::from(busy.poll_ms));
        (busy, self.get_status())
    }

    pub fn command(&mut self, bytes: &[u8]) -> (Status, Status) {
        self.run(0, bytes)
    }

    pub fn set_address(&mut self, addr: u32) -> Status {
        let mut cmd = vec![0x21];
        cmd.extend_from_slice(&addr.to_le_bytes());
        self.command(&cmd).1
    }

    pub fn erase(&mut self, addr: u32) -> (Status, Status) {
        let mut cmd = vec![0x41];
        cmd.extend_from_slice(&addr.to_le_bytes());
        self.command(&cmd)
    }

    /// Set Address Pointer + DNLOAD block 2 + polls; returns the final status.
    pub fn write(&mut self, addr: u32, data: &[u8]) -> Status {
        assert_eq!(self.set_address(addr).status, DfuStatus::Ok);
        self.run(2, data).1
    }

    /// Set Address Pointer, abort to idle, UPLOAD block 2.
    pub fn read(&mut self, addr: u32, len: u16) -> Result<Vec<u8>, UsbError> {
        assert_eq!(self.set_address(addr).status, DfuStatus::Ok);
        self.abort().expect("ABORT");
        let data = self.upload(2, len);
        self.abort().expect("ABORT");
        data
    }

    pub fn get_descriptor(&mut self, kind: u8, index: u8, len: u16) -> Result<Vec<u8>, UsbError> {
        self.control_in(0x80, 6, u16::from(kind) << 8 | u16::from(index), 0, len)
    }
}

/// UTF-16LE string descriptor payload decoded to text.
pub fn decode_string(desc: &[u8]) -> String {
    let units: Vec<u16> = desc[2..]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).expect("utf-16")
}
