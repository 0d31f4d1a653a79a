//! DfuSe operations on a [`Transport`]: read the option bytes, upload, flash (erase, write, verify, leave).
//! Picks the alt setting whose memory layout holds the address, and enforces the safety rules before the
//! first transfer: nothing outside the device's layout or into a region it says is not writable, no
//! option-byte write unless asked, and never read protection level 2.

use std::sync::Arc;
use std::time::Duration;

use dfuse::{AddressMode, Clock, Dfuse, MemoryLayout, Observer, TransferError};

use crate::image::Image;
use crate::transport::{StringOf, Transport, ST_DFU_VID_PID};

/// RDP byte value for read protection level 2: irreversible on silicon (the debug port and the bootloader
/// are disabled for good).
pub const RDP_LEVEL_2: u8 = 0xCC;
/// How long a device gets to leave the bus and come back after a DFU leave.
pub const REENUMERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a DfuSe operation did not happen or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// The device or the protocol failed.
    #[error("{during}")]
    Dfu {
        during: &'static str,
        #[source]
        source: dfuse::Error,
    },
    /// SET_INTERFACE or another transport-level request failed.
    #[error("{during}")]
    Transport {
        during: &'static str,
        #[source]
        source: TransferError,
    },
    /// The device has no alt setting whose layout covers the range.
    #[error("no alt setting of the device covers {len} bytes at {address:#010x}; the device offers: {offered}")]
    NoLayout {
        address: u32,
        len: usize,
        offered: String,
    },
    /// Refused before any transfer, for the board's safety.
    #[error("refused: {0}")]
    Refused(String),
}

impl OpError {
    /// Stable name of the error class, as records store it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Dfu { source, .. } => source.kind().name(),
            Self::Transport { source, .. } => source.kind.name(),
            Self::NoLayout { .. } => "layout",
            Self::Refused(_) => "refused",
        }
    }
}

/// The STM32F74x/75x ROM bootloader's alt settings (reference notes §2: alt 0 [C3], alt 1 [I], alt 2 [U],
/// alt 3 [C3]). Used only when the device's own iInterface strings cannot be read — as happens on a
/// misclocked board, whose long string descriptors fail — the way STM32CubeProgrammer relies on its device
/// database rather than on the strings.
pub const STM32F74X_LAYOUTS: [(u8, &str); 4] = [
    (0, "@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg"),
    (1, "@Option Bytes  /0x1FFF0000/01*032 e"),
    (2, "@OTP Memory /0x1FF0F000/01*1024 e,01*016 e"),
    (3, "@Device Feature/0xFFFF0000/01*004 e"),
];

/// One alt setting with its parsed memory layout.
#[derive(Clone, Debug)]
pub struct Target {
    pub alt: u8,
    pub layout: MemoryLayout,
    /// False when the device's string was unreadable and the layout comes from [`STM32F74X_LAYOUTS`].
    pub from_device: bool,
}

/// The alt settings of the device with their DfuSe memory layouts (reading every alt setting's name not read
/// yet). An ST ROM bootloader (0483:df11) alt whose name could not be read gets the STM32F74x layout for that
/// alt.
pub fn targets(t: &mut dyn Transport) -> Vec<Target> {
    let alts: Vec<u8> = t.info().alts.iter().map(|a| a.alt).collect();
    alts.into_iter()
        .filter_map(|alt| target_of(t, alt))
        .collect()
}

/// Alt setting `alt` with its layout, reading its name if not read yet.
fn target_of(t: &mut dyn Transport, alt: u8) -> Option<Target> {
    let info = t.info();
    let st_rom = (info.vid, info.pid) == ST_DFU_VID_PID;
    let name = t.string(StringOf::Alt(alt));
    let (layout, from_device) = match name.as_deref().map(MemoryLayout::parse) {
        Some(Ok(l)) => (l, true),
        Some(Err(_)) => return None,
        None if st_rom => (MemoryLayout::parse(builtin_layout(alt)?).ok()?, false),
        None => return None,
    };
    Some(Target {
        alt,
        layout,
        from_device,
    })
}

fn builtin_layout(alt: u8) -> Option<&'static str> {
    STM32F74X_LAYOUTS
        .iter()
        .find(|(a, _)| *a == alt)
        .map(|(_, s)| *s)
}

/// The first alt setting whose layout is `wanted`, reading names only until it is found: on an ST ROM
/// bootloader the alt its built-in table says is `wanted` is tried first, so an operation reads the one
/// name it needs, as dfu-util does with `-a`. `Err` has every alt setting, for the message.
fn find_target(
    t: &mut dyn Transport,
    wanted: impl Fn(&MemoryLayout) -> bool,
) -> Result<Target, Vec<Target>> {
    let st_rom = (t.info().vid, t.info().pid) == ST_DFU_VID_PID;
    let hint = st_rom
        .then(|| {
            STM32F74X_LAYOUTS.iter().find_map(|(alt, s)| {
                MemoryLayout::parse(s)
                    .ok()
                    .filter(|l| wanted(l))
                    .map(|_| *alt)
            })
        })
        .flatten();
    let mut order: Vec<u8> = t.info().alts.iter().map(|a| a.alt).collect();
    if let Some(pos) = hint.and_then(|h| order.iter().position(|a| *a == h)) {
        let h = order.remove(pos);
        order.insert(0, h);
    }
    for alt in order {
        if let Some(x) = target_of(t, alt).filter(|x| wanted(&x.layout)) {
            return Ok(x);
        }
    }
    Err(targets(t))
}

/// The alt setting whose layout contains `len` bytes at `address`.
pub fn target_for(t: &mut dyn Transport, address: u32, len: usize) -> Result<Target, OpError> {
    find_target(t, |l| l.contains_range(address, len)).map_err(|all| OpError::NoLayout {
        address,
        len,
        offered: describe_targets(&all),
    })
}

fn describe_targets(all: &[Target]) -> String {
    if all.is_empty() {
        return "no DfuSe memory layouts".into();
    }
    let names = all
        .iter()
        .map(|x| format!("alt {} {:?}", x.alt, x.layout.trimmed_name()));
    names.collect::<Vec<_>>().join(", ")
}

/// A DfuSe host session over a transport, on the shared clock.
pub type Session<'t, O> = Dfuse<&'t mut dyn Transport, Arc<dyn Clock>, O>;

/// A DfuSe session on one alt setting, after dfu-util's start-up recovery.
pub fn open<O: Observer>(
    t: &mut dyn Transport,
    clock: Arc<dyn Clock>,
    alt: u8,
    timeout: Duration,
    observer: O,
) -> Result<Session<'_, O>, OpError> {
    t.select_alt(alt).map_err(|source| OpError::Transport {
        during: "selecting the alt setting",
        source,
    })?;
    let interface = t.info().interface;
    let size = u16::try_from(t.info().transfer_size()).unwrap_or(u16::MAX);
    let mut dfu = Dfuse::new(t, clock, interface, size)
        .with_timeout(timeout)
        .with_observer(observer);
    dfu.connect().map_err(|source| OpError::Dfu {
        during: "connecting (DFU start-up recovery)",
        source,
    })?;
    Ok(dfu)
}

/// The option bytes as read over DFU, with where they came from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OptionBytes {
    pub alt: u8,
    pub address: u32,
    pub data: Vec<u8>,
}

/// Read the whole option-byte block, as STM32CubeProgrammer does right after connecting — the read that
/// fails on the seed's boards ("Uploading Option Bytes bank: 0 failed").
pub fn read_option_bytes<O: Observer>(
    t: &mut dyn Transport,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    observer: O,
) -> Result<OptionBytes, OpError> {
    let ob = crate::clocks::TargetDescription::stm32f7()
        .memory
        .option_bytes;
    let target =
        find_target(t, |l| l.contains_range(ob.base, ob.size as usize)).map_err(|all| {
            OpError::NoLayout {
                address: ob.base,
                len: ob.size as usize,
                offered: describe_targets(&all),
            }
        })?;
    let region = target
        .layout
        .regions
        .first()
        .ok_or_else(|| OpError::Refused("empty option-byte layout".into()))?;
    let (address, len) = (
        region.start,
        (region.end() - u64::from(region.start)) as usize,
    );
    let mut dfu = open(t, clock, target.alt, timeout, observer)?;
    let data = dfu.upload(address, len).map_err(|source| OpError::Dfu {
        during: "uploading the option bytes",
        source,
    })?;
    Ok(OptionBytes {
        alt: target.alt,
        address,
        data,
    })
}

/// Read `len` bytes at `address` through whichever alt setting holds them.
pub fn upload<O: Observer>(
    t: &mut dyn Transport,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    address: u32,
    len: usize,
    observer: O,
) -> Result<Vec<u8>, OpError> {
    let target = target_for(t, address, len)?;
    dfuse::plan::check_readable(&target.layout, address, len).map_err(|e| OpError::Dfu {
        during: "checking the range",
        source: dfuse::Error::Plan(e),
    })?;
    let mut dfu = open(t, clock, target.alt, timeout, observer)?;
    dfu.upload(address, len).map_err(|source| OpError::Dfu {
        during: "uploading",
        source,
    })
}

/// What `flash` may do.
#[derive(Clone, Copy, Debug, Default)]
pub struct FlashOptions {
    pub verify: bool,
    pub leave: bool,
    /// Allow segments in the option-byte area (RDP level 2 is refused regardless).
    pub write_option_bytes: bool,
    /// Allow segments in the OTP data area (irreversible on silicon).
    pub write_otp: bool,
    /// Allow the OTP lock bytes too: a second, separate confirmation on top of `write_otp`.
    pub lock_otp: bool,
    /// Allow the DfuSe device-feature bytes.
    pub write_device_feature: bool,
    /// Allow a DfuSe file whose suffix names another VID:PID than the device's.
    pub allow_foreign_dfu: bool,
    pub mode: AddressMode,
    pub timeout: Duration,
}

/// What a flash did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct FlashReport {
    pub bytes: usize,
    pub sectors_erased: usize,
    pub verified: bool,
    /// After a leave: whether the device came back on the bus (as a bootloader or an application).
    pub reenumerated: Option<bool>,
    /// After an option-byte write: the option bytes read back once the chip had reset and re-enumerated, and
    /// whether they are what was written.
    pub option_bytes: Option<OptionBytesWritten>,
}

/// An option-byte write, as the chip shows it after the reset that applies it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OptionBytesWritten {
    pub address: u32,
    /// What the bootloader reports after the reset.
    pub now: Vec<u8>,
    /// Whether `now` equals what was written.
    pub as_written: bool,
}

/// Check every segment against the device's layouts and the safety rules; returns each segment's target.
pub fn check_image(
    t: &mut dyn Transport,
    image: &Image,
    opts: &FlashOptions,
) -> Result<Vec<Target>, OpError> {
    let size = t.info().transfer_size();
    let info = t.info();
    if let Some((vid, pid)) = image.made_for() {
        let fits = |want: u16, have: u16| want == 0xFFFF || want == have;
        if !(opts.allow_foreign_dfu || fits(vid, info.vid) && fits(pid, info.pid)) {
            return Err(OpError::Refused(format!(
                "the DfuSe file is made for {vid:04x}:{pid:04x}, not this device ({:04x}:{:04x}); pass \
                 --allow-foreign-dfu if it really is meant for it",
                info.vid, info.pid
            )));
        }
    }
    // Safety first, by address, before the layout is even consulted: whatever the device calls its alt
    // settings, these areas are what they are.
    for seg in image.segments() {
        check_protected(seg.address, &seg.data, opts)?;
    }
    let mut out = Vec::new();
    for seg in image.segments() {
        let target = target_for(t, seg.address, seg.data.len())?;
        dfuse::plan::plan_download(&target.layout, seg.address, seg.data.len(), size, opts.mode)
            .map_err(|e| OpError::Dfu {
                during: "checking the image against the layout",
                source: dfuse::Error::Plan(e),
            })?;
        out.push(target);
    }
    Ok(out)
}

/// Writes to main flash must start on this boundary: the F7 bootloader refuses others with errTARGET [C]
/// AN2606 Table 7. Checked before the first transfer, so a typo is a usage error and not a device failure.
pub const WRITE_ALIGNMENT: u32 = 8;

/// Refuse a segment that touches an irreversible or boot-changing area without its flag, or that starts in
/// main flash off the write alignment.
fn check_protected(address: u32, data: &[u8], opts: &FlashOptions) -> Result<(), OpError> {
    let memory = &crate::clocks::TargetDescription::stm32f7().memory;
    let len = data.len();
    let flash = crate::clocks::Area {
        base: memory.flash_base,
        size: memory.flash_size,
    };
    if flash.overlaps(address, len) && !address.is_multiple_of(WRITE_ALIGNMENT) {
        return Err(OpError::Refused(format!(
            "the image starts at {address:#010x}, not on an {WRITE_ALIGNMENT}-byte boundary: the bootloader \
             refuses unaligned writes to flash (AN2606); use an address such as {:#010x}",
            address & !(WRITE_ALIGNMENT - 1)
        )));
    }
    let touched = |area: &crate::clocks::Area| area.overlaps(address, len);
    if touched(&memory.option_bytes) {
        check_option_bytes(memory, address, data, opts)?;
    }
    if touched(&memory.otp_lock) && !(opts.write_otp && opts.lock_otp) {
        return Err(OpError::Refused(format!(
            "the image writes the OTP lock bytes at {:#010x}: a written lock byte locks its OTP block for good; \
             pass both --write-otp and --lock-otp if that is really wanted",
            memory.otp_lock.base
        )));
    }
    if touched(&memory.otp) && !opts.write_otp {
        return Err(OpError::Refused(format!(
            "the image writes the one-time-programmable area at {address:#010x}: OTP bits cannot be erased; pass \
             --write-otp if that is really wanted"
        )));
    }
    if touched(&memory.device_feature) && !opts.write_device_feature {
        return Err(OpError::Refused(format!(
            "the image writes the DfuSe device-feature bytes at {address:#010x}; pass --write-device-feature if \
             that is really wanted"
        )));
    }
    Ok(())
}

fn check_option_bytes(
    memory: &crate::clocks::MemoryMap,
    address: u32,
    data: &[u8],
    opts: &FlashOptions,
) -> Result<(), OpError> {
    let rdp_at = memory.option_bytes.base + memory.rdp_offset;
    let rdp = rdp_at
        .checked_sub(address)
        .and_then(|i| data.get(i as usize));
    if rdp == Some(&RDP_LEVEL_2) {
        return Err(OpError::Refused(format!(
            "the image sets the RDP option byte at {:#010x} to 0xCC: read protection level 2 is irreversible \
             on silicon (it disables the bootloader and the debug port for good); no flag allows it",
            rdp_at
        )));
    }
    if !opts.write_option_bytes {
        return Err(OpError::Refused(format!(
            "the image writes the option bytes at {address:#010x}; pass --write-option-bytes if that is really \
             wanted (the chip resets afterwards)"
        )));
    }
    Ok(())
}

/// Write one option-byte segment. The bootloader applies option bytes by resetting the chip after the first
/// GETSTATUS that follows the write [C] AN3156 §5.1, so the transfer that would report the write's end sees
/// the device leave instead: that is the expected outcome, not a failure. Wait for the chip to come back,
/// then read the option bytes back and say whether they are what was written.
fn write_option_bytes<O: Observer>(
    t: &mut dyn Transport,
    clock: Arc<dyn Clock>,
    target: &Target,
    seg: &crate::image::Segment,
    opts: &FlashOptions,
    observer: &mut O,
) -> Result<OptionBytesWritten, OpError> {
    {
        let mut dfu = open(t, clock.clone(), target.alt, opts.timeout, &mut *observer)?;
        match dfu.download(&target.layout, seg.address, &seg.data, opts.mode) {
            Ok(_) => {}
            // The reset: the device stops answering mid-poll.
            Err(e) if is_reset(&e) => {}
            Err(source) => {
                return Err(OpError::Dfu {
                    during: "writing the option bytes",
                    source,
                })
            }
        }
    }
    t.wait_reenumeration(REENUMERATION_TIMEOUT)
        .map_err(|source| OpError::Transport {
            during: "waiting for the chip to reset and re-enumerate after the option-byte write",
            source,
        })?;
    let target = target_for(t, seg.address, seg.data.len())?;
    let mut dfu = open(t, clock, target.alt, opts.timeout, &mut *observer)?;
    let now = dfu
        .upload(seg.address, seg.data.len())
        .map_err(|source| OpError::Dfu {
            during: "reading the option bytes back after the reset",
            source,
        })?;
    Ok(OptionBytesWritten {
        address: seg.address,
        as_written: now == seg.data,
        now,
    })
}

/// Whether a failed download is the chip resetting under the host: the data block went out, and a GETSTATUS
/// polling its write found the device gone or silent. A failure before the block was sent (setting the address,
/// the DNLOAD itself) is the device's failure, reported as such.
fn is_reset(e: &dfuse::Error) -> bool {
    matches!(
        e,
        dfuse::Error::Transfer {
            request: dfuse::Request::GetStatus,
            during: dfuse::Operation::Write { .. },
            ..
        }
    ) && matches!(
        e.kind(),
        dfuse::ErrorKind::Disconnected | dfuse::ErrorKind::Io | dfuse::ErrorKind::Timeout
    )
}

/// Flash `image`: refuse anything unsafe first, then per segment erase exactly the sectors it touches,
/// write, optionally verify; finally leave DFU if asked, jumping to the first segment.
pub fn flash<O: Observer>(
    t: &mut dyn Transport,
    clock: Arc<dyn Clock>,
    image: &Image,
    opts: FlashOptions,
    mut observer: O,
) -> Result<FlashReport, OpError> {
    let targets = check_image(t, image, &opts)?;
    let mut report = FlashReport::default();
    let ob_area = crate::clocks::TargetDescription::stm32f7()
        .memory
        .option_bytes;
    for (seg, target) in image.segments().iter().zip(&targets) {
        if ob_area.overlaps(seg.address, seg.data.len()) {
            // Checked by address in check_image, and allowed only with write_option_bytes.
            let written = write_option_bytes(t, clock.clone(), target, seg, &opts, &mut observer)?;
            report.bytes += seg.data.len();
            report.option_bytes = Some(written);
            continue;
        }
        let mut dfu = open(t, clock.clone(), target.alt, opts.timeout, &mut observer)?;
        let plan = dfu
            .download(&target.layout, seg.address, &seg.data, opts.mode)
            .map_err(|source| OpError::Dfu {
                during: "downloading",
                source,
            })?;
        report.bytes += seg.data.len();
        report.sectors_erased += plan.erases.len();
        if opts.verify {
            dfu.verify(seg.address, &seg.data)
                .map_err(|source| OpError::Dfu {
                    during: "verifying",
                    source,
                })?;
        }
    }
    report.verified = opts.verify;
    if opts.leave {
        // Jump to the first segment that is code; option bytes are not (with only option bytes, the
        // bootloader's default pointer, the start of flash, is used).
        let entry = image
            .segments()
            .iter()
            .find(|s| !ob_area.overlaps(s.address, s.data.len()))
            .map(|s| s.address);
        let alt = targets.first().map(|x| x.alt).unwrap_or(0);
        let mut dfu = open(t, clock, alt, opts.timeout, &mut observer)?;
        dfu.leave(entry).map_err(|source| OpError::Dfu {
            during: "leaving DFU",
            source,
        })?;
        drop(dfu);
        report.reenumerated = Some(t.wait_reenumeration(REENUMERATION_TIMEOUT).is_ok());
    }
    Ok(report)
}
