//! DfuSe operations built from the basic requests: special commands, upload, download (erase pass then write
//! pass), verify and leave. Each follows dfu-util 0.11 (reference notes §1.7) unless its doc says otherwise.

use crate::error::Error;
use crate::event::{Observer, Operation};
use crate::host::Dfuse;
use crate::io::{Clock, DfuIo, TransferErrorKind};
use crate::layout::MemoryLayout;
use crate::plan::{plan_download, plan_upload, AddressMode, Plan, UploadPlan, Write};
use crate::poll::PollRules;
use crate::request::{
    parse_get_commands, Command, Request, SupportedCommands, BLOCK_COMMAND, BLOCK_FIRST_DATA,
    GET_COMMANDS_LEN,
};
use crate::status::{State, StatusReply};

/// How a leave request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Left {
    /// The device answered dfuMANIFEST (or dfuMANIFEST-WAIT-RESET) and is about to run the application.
    Manifest(StatusReply),
    /// The device vanished mid-leave (disconnect, bus error or timeout): taken as success.
    Vanished {
        /// The request that found it gone.
        request: Request,
        /// How it went.
        kind: TransferErrorKind,
    },
}

impl<I: DfuIo, C: Clock, O: Observer> Dfuse<I, C, O> {
    /// Set Address Pointer.
    pub fn set_address(&mut self, address: u32) -> Result<StatusReply, Error> {
        self.command(Command::SetAddress(address))
    }

    /// Erase the sector containing `address` (no layout check here; see [`crate::plan::plan_erase`]).
    pub fn erase_sector(&mut self, address: u32) -> Result<StatusReply, Error> {
        self.command(Command::Erase(address))
    }

    /// Mass erase.
    pub fn mass_erase(&mut self) -> Result<StatusReply, Error> {
        self.command(Command::MassErase)
    }

    /// Read Unprotect: returns after the first poll, as the device erases everything and resets.
    pub fn read_unprotect(&mut self) -> Result<StatusReply, Error> {
        self.command(Command::ReadUnprotect)
    }

    /// Send a DfuSe command and poll it to completion: the first reply must be dfuDNBUSY (a dfuERROR reply is
    /// reported as the device's error rather than dfu-util's "wrong state"), sleep bwPollTimeout after every poll,
    /// poll while dfuDNBUSY, up to `max_stalls` stalled polls absorbed; the final status must be OK.
    pub fn command(&mut self, command: Command) -> Result<StatusReply, Error> {
        self.scoped(Operation::Command(command), |s| {
            s.dnload(BLOCK_COMMAND, &command.encode())?;
            let rules = PollRules {
                first_must_be_busy: true,
                tolerate_stalls: true,
                mass_erase: command == Command::MassErase,
                single: command == Command::ReadUnprotect,
                busy: &[State::DfuDnbusy],
            };
            let reply = s.poll_until_done(&rules)?;
            if rules.single || (reply.is_ok() && reply.state != State::DfuError) {
                return Ok(reply);
            }
            Err(s.unexpected_or_device_error(&reply, &[State::DfuDnloadIdle]))
        })
    }

    /// Get Commands: abort to dfuIDLE, DFU_UPLOAD wBlockNum 0, abort to dfuIDLE again.
    pub fn get_commands(&mut self) -> Result<SupportedCommands, Error> {
        self.scoped(Operation::GetCommands, |s| {
            s.abort_to_idle()?;
            let data = s.upload_block(BLOCK_COMMAND, GET_COMMANDS_LEN)?;
            let commands =
                parse_get_commands(&data).map_err(|e| s.parse_error(Request::Upload, e))?;
            s.abort_to_idle()?;
            Ok(commands)
        })
    }

    /// Read `len` bytes at `address`: Set Address Pointer, abort to dfuIDLE, DFU_UPLOAD wBlockNum 2, 3, … with
    /// the last block asking for exactly what is left (so the 32 option bytes are one 32-byte block), abort to
    /// dfuIDLE. A block of another size than asked for is an error.
    pub fn upload(&mut self, address: u32, len: usize) -> Result<Vec<u8>, Error> {
        self.scoped(Operation::Upload { address, len }, |s| {
            let plan = plan_upload(address, len, usize::from(s.transfer_size()))?;
            s.run_upload(&plan)
        })
    }

    fn run_upload(&mut self, plan: &UploadPlan) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        for read in &plan.reads {
            if let Some(at) = read.set_address {
                if !out.is_empty() {
                    // DNLOAD is refused in dfuUPLOAD-IDLE (AN3156): back to dfuIDLE first.
                    self.abort_to_idle()?;
                }
                self.set_address(at)?;
                self.abort_to_idle()?;
            }
            let address = plan.address.wrapping_add(read.offset as u32);
            let len = u16::try_from(read.len).unwrap_or(u16::MAX);
            let data = self.upload_block(read.block, len)?;
            if data.len() != read.len {
                let (expected, got) = (read.len, data.len());
                return Err(Error::ShortUpload {
                    address,
                    expected,
                    got,
                });
            }
            out.extend_from_slice(&data);
        }
        if !plan.reads.is_empty() {
            self.abort_to_idle()?;
        }
        Ok(out)
    }

    /// Write `data` at `address`: plan (refusing before any transfer), erase every erasable sector touched, write
    /// each block and poll it to dfuDNLOAD-IDLE, abort to dfuIDLE. Returns the plan it carried out.
    pub fn download(
        &mut self,
        layout: &MemoryLayout,
        address: u32,
        data: &[u8],
        mode: AddressMode,
    ) -> Result<Plan, Error> {
        let len = data.len();
        self.scoped(Operation::Download { address, len }, |s| {
            let xfer = usize::from(s.transfer_size());
            let plan = plan_download(layout, address, len, xfer, mode)?;
            for &sector in &plan.erases {
                s.erase_sector(sector)?;
            }
            for write in &plan.writes {
                s.write_block(plan.address, write, data)?;
            }
            if !plan.writes.is_empty() {
                s.abort_to_idle()?;
            }
            Ok(plan)
        })
    }

    fn write_block(&mut self, base: u32, write: &Write, data: &[u8]) -> Result<StatusReply, Error> {
        if let Some(at) = write.set_address {
            self.set_address(at)?;
        }
        let bytes = data
            .get(write.offset..write.offset + write.len)
            .unwrap_or_default();
        let address = base.wrapping_add(write.offset as u32);
        let op = Operation::Write {
            address,
            block: write.block,
            len: write.len,
        };
        self.scoped(op, |s| {
            s.dnload(write.block, bytes)?;
            let rules = PollRules {
                first_must_be_busy: false,
                tolerate_stalls: false,
                mass_erase: false,
                single: false,
                busy: &[State::DfuDnbusy, State::DfuDnloadSync],
            };
            let reply = s.poll_until_done(&rules)?;
            s.expect_state(reply, &[State::DfuDnloadIdle])
        })
    }

    /// Read back `data.len()` bytes at `address` and compare; reports the first differing address.
    pub fn verify(&mut self, address: u32, data: &[u8]) -> Result<(), Error> {
        let len = data.len();
        self.scoped(Operation::Verify { address, len }, |s| {
            let read = s.upload(address, len)?;
            compare(address, data, &read)
        })
    }

    /// Leave DFU: optional Set Address Pointer, DFU_DNLOAD wBlockNum 2 with wLength 0 (as dfu-util), then
    /// DFU_GETSTATUS expecting dfuMANIFEST. The device may vanish after the request: a disconnect, bus error or
    /// timeout from then on is success ([`Left::Vanished`]).
    pub fn leave(&mut self, address: Option<u32>) -> Result<Left, Error> {
        self.scoped(Operation::Leave, |s| {
            if let Some(at) = address {
                s.set_address(at)?;
            }
            if let Err(e) = s.dnload(BLOCK_FIRST_DATA, &[]) {
                return vanished(e);
            }
            let rules = PollRules {
                first_must_be_busy: false,
                tolerate_stalls: false,
                mass_erase: false,
                single: false,
                busy: &[State::DfuManifestSync, State::DfuDnbusy],
            };
            match s.poll_until_done(&rules) {
                Ok(reply) => {
                    let manifest = &[State::DfuManifest, State::DfuManifestWaitReset];
                    s.expect_state(reply, manifest).map(Left::Manifest)
                }
                Err(e) => vanished(e),
            }
        })
    }
}

/// A transfer error that means "the device is gone" becomes success; anything else stays an error.
fn vanished(e: Error) -> Result<Left, Error> {
    match e {
        Error::Transfer {
            request, source, ..
        } if matches!(
            source.kind,
            TransferErrorKind::Disconnected | TransferErrorKind::Io | TransferErrorKind::Timeout
        ) =>
        {
            Ok(Left::Vanished {
                request,
                kind: source.kind,
            })
        }
        other => Err(other),
    }
}

fn compare(address: u32, expected: &[u8], got: &[u8]) -> Result<(), Error> {
    let n = expected.len().min(got.len());
    if expected[..n] == got[..n] {
        return Ok(()); // the usual case, as one memcmp; the byte walk below only finds the first mismatch
    }
    let mut diffs = expected
        .iter()
        .zip(got)
        .enumerate()
        .filter(|(_, (e, g))| e != g);
    let Some((i, (&expected, &got))) = diffs.next() else {
        return Ok(());
    };
    Err(Error::Verify {
        address: address.wrapping_add(i as u32),
        expected,
        got,
        mismatches: 1 + diffs.count(),
    })
}
