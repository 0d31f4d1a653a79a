//! The real USB backend, through rusb (libusb, vendored so no system libusb is needed). The only file that
//! names rusb. Maps libusb's errors into the harness's stable [`TransferErrorKind`]s at this edge.

use std::time::{Duration, Instant};

use dfuse::descriptor::{parse_functional_descriptor, FunctionalDescriptor};
use dfuse::{DfuIo, Setup, TransferError, TransferErrorKind};
use rusb::UsbContext;

use super::{AltSetting, DeviceInfo, Selector, Transport};

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
    let context = rusb::Context::new().map_err(map_err)?;
    let devices = context.devices().map_err(map_err)?;
    Ok(devices.iter().filter_map(|d| describe(&d, None)).collect())
}

/// Build the [`DeviceInfo`] for `device` if it has a DFU interface; strings are read through `handle`, or
/// through a short-lived handle of our own when we may open the device.
fn describe(
    device: &rusb::Device<rusb::Context>,
    handle: Option<&rusb::DeviceHandle<rusb::Context>>,
) -> Option<DeviceInfo> {
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
    let owned;
    let handle = match handle {
        Some(h) => Some(h),
        None => {
            owned = device.open().ok();
            owned.as_ref()
        }
    };
    let string = |idx: Option<u8>| -> Option<String> {
        let (h, idx) = (handle?, idx?);
        let lang = *h.read_languages(DESCRIPTOR_TIMEOUT).ok()?.first()?;
        h.read_string_descriptor(lang, idx, DESCRIPTOR_TIMEOUT).ok()
    };
    let functional = dfu_alts
        .iter()
        .find_map(|d| find_functional(d.extra()))
        .or_else(|| find_functional(config.extra()));
    let alts = dfu_alts
        .iter()
        .filter(|d| d.interface_number() == interface)
        .map(|d| AltSetting {
            alt: d.setting_number(),
            name: string(d.description_string_index()),
        })
        .collect();
    let manufacturer = string(dd.manufacturer_string_index());
    let product = string(dd.product_string_index());
    let serial = string(dd.serial_number_string_index());
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
    let mut strings = Vec::new();
    for (idx, s) in [
        (dd.manufacturer_string_index(), &manufacturer),
        (dd.product_string_index(), &product),
        (dd.serial_number_string_index(), &serial),
    ] {
        if let (Some(i), Some(s)) = (idx, s) {
            strings.push((i, s.clone()));
        }
    }
    Some(DeviceInfo {
        vid: dd.vendor_id(),
        pid: dd.product_id(),
        bcd_device: bcd(dd.device_version()),
        manufacturer,
        product,
        serial,
        bus: device.bus_number(),
        address: device.address(),
        port_path,
        interface,
        alts,
        functional,
        device_descriptor: Vec::new(),
        config_descriptor: Vec::new(),
        strings,
    })
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
        let context = rusb::Context::new().map_err(map_err)?;
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
    let mut found: Vec<_> = devices
        .iter()
        .filter_map(|d| describe(&d, None).map(|i| (d, i)))
        .filter(|(_, i)| selector.matches(i))
        .collect();
    match found.len() {
        0 => Err(TransferError::new(
            TransferErrorKind::Disconnected,
            format!("no DFU device matches {}", selector.describe()),
        )),
        1 => {
            let (device, _) = found.remove(0);
            let handle = device.open().map_err(map_err)?;
            // Linux only: let libusb unbind a kernel driver (none is bound to DFU normally).
            let _ = handle.set_auto_detach_kernel_driver(true);
            let info = describe(&device, Some(&handle)).ok_or_else(|| {
                TransferError::new(TransferErrorKind::Other, "device lost its DFU interface")
            })?;
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
                    .map(|(_, i)| format!(
                        "{} (serial {})",
                        i.port_path,
                        i.serial.as_deref().unwrap_or("?")
                    ))
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

    fn select_alt(&mut self, alt: u8) -> Result<(), TransferError> {
        self.handle
            .set_alternate_setting(self.info.interface, alt)
            .map_err(map_err)
    }

    fn wait_reenumeration(&mut self, timeout: Duration) -> Result<&DeviceInfo, TransferError> {
        // The same physical port first: a serial number read from a misclocked board may differ.
        let by_port = Selector {
            path: Some(self.info.port_path.clone()),
            ..self.selector.clone()
        };
        let deadline = Instant::now() + timeout;
        let old_address = self.info.address;
        loop {
            let attempt = open_matching(&self.context, &by_port)
                .or_else(|_| open_matching(&self.context, &self.selector));
            match attempt {
                Ok((handle, info)) if info.address != old_address || info.bus != self.info.bus => {
                    self.handle = handle;
                    self.info = info;
                    return Ok(&self.info);
                }
                _ if Instant::now() >= deadline => {
                    return Err(TransferError::new(
                        TransferErrorKind::Timeout,
                        format!(
                            "device did not re-enumerate within {} ms",
                            timeout.as_millis()
                        ),
                    ))
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}
