//! The real USB backend, through rusb (libusb, vendored so no system libusb is needed). The only file that
//! names rusb. Maps libusb's errors into the harness's stable [`TransferErrorKind`]s at this edge.

use std::time::{Duration, Instant};

use dfuse::descriptor::{parse_functional_descriptor, FunctionalDescriptor, DESC_STRING};
use dfuse::{DfuIo, Setup, TransferError, TransferErrorKind};
use rusb::UsbContext;

use super::{AltSetting, DeviceInfo, ReadString, Selector, StringIndexes, StringOf, Transport};

/// USB interface class/subclass of a DFU interface (DFU 1.1 §4.2.3).
const DFU_CLASS: u8 = 0xfe;
const DFU_SUBCLASS: u8 = 0x01;
/// Timeout for descriptor reads during listing, like the kernel's.
const DESCRIPTOR_TIMEOUT: Duration = Duration::from_millis(1000);

fn map_err(e: rusb::Error) -> TransferError {
    use rusb::Error as E;
    let kind = match e {
        E::Timeout => TransferErrorKind::Timeout,
        E::Pipe => TransferErrorKind::Stall,
        E::NoDevice | E::NotFound => TransferErrorKind::Disconnected,
        E::Io | E::Overflow | E::Interrupted => TransferErrorKind::Io,
        E::Access => TransferErrorKind::Access,
        E::Busy => TransferErrorKind::Busy,
        _ => TransferErrorKind::Other,
    };
    TransferError::new(kind, format!("libusb: {e}"))
}

/// libusb started for this host. When it cannot start, the host has no USB stack hil may use (no usbfs, a
/// container without /dev/bus/usb): the host's failure, never a board's, so it is an access error.
fn context() -> Result<rusb::Context, TransferError> {
    rusb::Context::new().map_err(|e| {
        TransferError::new(
            TransferErrorKind::Access,
            format!("libusb could not start on this host ({e}): is usbfs (/dev/bus/usb) there and readable?"),
        )
    })
}

/// An opened DFU device on a real USB bus, with its DFU interface claimed.
pub struct UsbTransport {
    context: rusb::Context,
    handle: rusb::DeviceHandle<rusb::Context>,
    info: DeviceInfo,
    selector: Selector,
}

/// Every DFU-class interface on the machine's USB buses, described as `dfu-util -l` would. Devices the user
/// may not open are still listed, without their strings.
pub fn list_usb() -> Result<Vec<DeviceInfo>, TransferError> {
    let context = context()?;
    let devices = context.devices().map_err(map_err)?;
    Ok(devices
        .iter()
        .filter_map(|d| describe(&d, Strings::Own(Wanted::All)))
        .collect())
}

/// Which strings [`describe`] reads.
#[derive(Clone, Copy)]
enum Wanted {
    All,
    Serial,
}

/// Where [`describe`] reads string descriptors from.
enum Strings {
    /// Not at all (every string is `None`, to be read when asked for through the handle kept): matching by
    /// ids or port path needs none, and each read is a control transfer, one more chance to fail on a
    /// misclocked bootloader.
    Skip,
    /// Through a short-lived handle of our own, when we may open the device.
    Own(Wanted),
}

/// String reads through a device handle.
struct Handle<'a>(&'a rusb::DeviceHandle<rusb::Context>);

impl ReadString for Handle<'_> {
    fn read_string(&mut self, lang: u16, index: u8) -> Option<Vec<u8>> {
        read_string(self.0, lang, index)
    }
}

/// Build the [`DeviceInfo`] for `device` if it has a DFU interface. Strings cost one control transfer each
/// plus one for the language list, as dfu-util's do.
fn describe(device: &rusb::Device<rusb::Context>, strings: Strings) -> Option<DeviceInfo> {
    let dd = device.device_descriptor().ok()?;
    let config = device
        .active_config_descriptor()
        .or_else(|_| device.config_descriptor(0))
        .ok()?;
    let dfu_alts: Vec<_> = config
        .interfaces()
        .flat_map(|i| i.descriptors())
        .filter(|d| d.class_code() == DFU_CLASS && d.sub_class_code() == DFU_SUBCLASS)
        .collect();
    let first = dfu_alts.first()?;
    let interface = first.interface_number();
    let functional = dfu_alts
        .iter()
        .find_map(|d| find_functional(d.extra()))
        .or_else(|| find_functional(config.extra()));
    let alts = dfu_alts
        .iter()
        .filter(|d| d.interface_number() == interface)
        .map(|d| AltSetting {
            alt: d.setting_number(),
            name: None,
            string_index: d.description_string_index().unwrap_or(0),
        })
        .collect();
    let ports = device.port_numbers().unwrap_or_default();
    let port_path = format!(
        "{}-{}",
        device.bus_number(),
        ports
            .iter()
            .map(u8::to_string)
            .collect::<Vec<_>>()
            .join(".")
    );
    let mut info = DeviceInfo {
        vid: dd.vendor_id(),
        pid: dd.product_id(),
        bcd_device: bcd(dd.device_version()),
        manufacturer: None,
        product: None,
        serial: None,
        bus: device.bus_number(),
        address: device.address(),
        port_path,
        interface,
        alts,
        functional,
        device_descriptor: Vec::new(),
        config_descriptor: Vec::new(),
        strings: Vec::new(),
        string_indexes: StringIndexes {
            manufacturer: dd.manufacturer_string_index().unwrap_or(0),
            product: dd.product_string_index().unwrap_or(0),
            serial: dd.serial_number_string_index().unwrap_or(0),
            ..StringIndexes::default()
        },
    };
    if let Strings::Own(wanted) = strings {
        if let Ok(h) = device.open() {
            let which = match wanted {
                Wanted::All => info.all_strings(),
                Wanted::Serial => vec![StringOf::Serial],
            };
            for w in which {
                info.read_string(&mut Handle(&h), w);
            }
        }
    }
    Some(info)
}

/// String descriptor `index` in `lang` (index 0: the language list), raw; `None` if the read fails.
fn read_string(h: &rusb::DeviceHandle<rusb::Context>, lang: u16, index: u8) -> Option<Vec<u8>> {
    let mut buf = [0u8; 255];
    let request_type = rusb::request_type(
        rusb::Direction::In,
        rusb::RequestType::Standard,
        rusb::Recipient::Device,
    );
    let n = h
        .read_control(
            request_type,
            rusb::constants::LIBUSB_REQUEST_GET_DESCRIPTOR,
            u16::from(DESC_STRING) << 8 | u16::from(index),
            if index == 0 { 0 } else { lang },
            &mut buf,
            DESCRIPTOR_TIMEOUT,
        )
        .ok()?;
    Some(buf[..n].to_vec())
}

/// rusb decodes bcdDevice into a `Version`; put the BCD word back together.
fn bcd(v: rusb::Version) -> u16 {
    ((u16::from(v.major()) / 10) << 12)
        | ((u16::from(v.major()) % 10) << 8)
        | (u16::from(v.minor()) << 4)
        | u16::from(v.sub_minor())
}

/// The DFU functional descriptor (type 0x21) among the class-specific bytes that follow an interface.
fn find_functional(mut extra: &[u8]) -> Option<FunctionalDescriptor> {
    while extra.len() >= 2 {
        let len = usize::from(extra[0]);
        if len < 2 || len > extra.len() {
            return None;
        }
        if extra[1] == 0x21 {
            return parse_functional_descriptor(&extra[..len]).ok();
        }
        extra = &extra[len..];
    }
    None
}

impl UsbTransport {
    /// Open the one DFU device matching `selector` and claim its DFU interface. More than one match is an
    /// error that lists them, as dfu-util does.
    pub fn open(selector: &Selector) -> Result<Self, TransferError> {
        let context = context()?;
        let (handle, info) = open_matching(&context, selector)?;
        Ok(Self {
            context,
            handle,
            info,
            selector: selector.clone(),
        })
    }
}

fn open_matching(
    context: &rusb::Context,
    selector: &Selector,
) -> Result<(rusb::DeviceHandle<rusb::Context>, DeviceInfo), TransferError> {
    let devices = context.devices().map_err(map_err)?;
    // The serial is read to match only when the selector names one (and then kept); otherwise no string is
    // read here: each is read once, when asked for, through the handle we keep.
    let by_serial = selector.serial.is_some();
    let matching = || {
        if by_serial {
            Strings::Own(Wanted::Serial)
        } else {
            Strings::Skip
        }
    };
    let mut found: Vec<_> = devices
        .iter()
        .filter_map(|d| describe(&d, matching()).map(|i| (d, i)))
        .filter(|(_, i)| selector.matches(i))
        .collect();
    match found.len() {
        0 => Err(TransferError::new(
            TransferErrorKind::Disconnected,
            format!("no DFU device matches {}", selector.describe()),
        )),
        1 => {
            let (device, matched) = found.remove(0);
            let handle = device.open().map_err(map_err)?;
            // Linux only: let libusb unbind a kernel driver (none is bound to DFU normally).
            let _ = handle.set_auto_detach_kernel_driver(true);
            let info = matched;
            handle.claim_interface(info.interface).map_err(map_err)?;
            Ok((handle, info))
        }
        n => Err(TransferError::new(
            TransferErrorKind::Other,
            format!(
                "{n} DFU devices match {}: {}; narrow it with -S SERIAL or -p PATH",
                selector.describe(),
                found
                    .iter()
                    .map(|(d, i)| {
                        match describe(d, Strings::Own(Wanted::Serial)).and_then(|i| i.serial) {
                            Some(serial) => format!("{} (serial {serial})", i.port_path),
                            None => i.port_path.clone(),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

impl DfuIo for UsbTransport {
    fn control_in(&mut self, setup: Setup, timeout: Duration) -> Result<Vec<u8>, TransferError> {
        let mut buf = vec![0u8; usize::from(setup.length)];
        let n = self
            .handle
            .read_control(
                setup.request_type,
                setup.request,
                setup.value,
                setup.index,
                &mut buf,
                timeout,
            )
            .map_err(map_err)?;
        buf.truncate(n);
        Ok(buf)
    }

    fn control_out(
        &mut self,
        setup: Setup,
        data: &[u8],
        timeout: Duration,
    ) -> Result<usize, TransferError> {
        self.handle
            .write_control(
                setup.request_type,
                setup.request,
                setup.value,
                setup.index,
                data,
                timeout,
            )
            .map_err(map_err)
    }
}

impl Transport for UsbTransport {
    fn info(&self) -> &DeviceInfo {
        &self.info
    }

    fn string(&mut self, which: StringOf) -> Option<String> {
        self.info.read_string(&mut Handle(&self.handle), which)
    }

    fn select_alt(&mut self, alt: u8) -> Result<(), TransferError> {
        self.handle
            .set_alternate_setting(self.info.interface, alt)
            .map_err(map_err)
    }

    fn wait_reenumeration(&mut self, timeout: Duration) -> Result<&DeviceInfo, TransferError> {
        // Polls the same physical port, by descriptors the OS has cached (no control transfer), and opens the
        // device only once it is back under a new address: a serial number read from a misclocked board may
        // differ, and reading strings of other boards on the bus would disturb their cycles. A device comes back
        // on the port it left; only at the deadline is it looked for as the user selected it, anywhere.
        let by_port = Selector {
            path: Some(self.info.port_path.clone()),
            serial: None,
            ..self.selector.clone()
        };
        let deadline = Instant::now() + timeout;
        let (old_bus, old_address) = (self.info.bus, self.info.address);
        let moved = |context: &rusb::Context| {
            context.devices().is_ok_and(|list| {
                list.iter().any(|d| {
                    describe(&d, Strings::Skip).is_some_and(|i| {
                        by_port.matches(&i) && (i.address != old_address || i.bus != old_bus)
                    })
                })
            })
        };
        loop {
            let attempt = if moved(&self.context) {
                open_matching(&self.context, &by_port).ok()
            } else if Instant::now() >= deadline {
                // Last chance: the board came back on another port; find it as the user selected it.
                open_matching(&self.context, &self.selector)
                    .ok()
                    .filter(|(_, i)| i.address != old_address || i.bus != old_bus)
            } else {
                None
            };
            match attempt {
                Some((handle, info)) => {
                    self.handle = handle;
                    self.info = info;
                    return Ok(&self.info);
                }
                None if Instant::now() >= deadline => {
                    return Err(TransferError::new(
                        TransferErrorKind::Timeout,
                        format!(
                            "device did not re-enumerate within {} ms",
                            timeout.as_millis()
                        ),
                    ))
                }
                None => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}
