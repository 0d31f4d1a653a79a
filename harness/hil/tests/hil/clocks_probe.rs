//! The probe-rs backend without a probe: selector and chip validation, opening a probe that is not there,
//! the access-port path over probe-rs's own fake probe, and the classification of a probe unplugged in the
//! middle of a read (infrastructure, not board; never a panic).

use std::sync::Arc;
use std::time::Duration;

use dfuse::{Clock, VirtualClock};
use hil::clocks::{
    read_snapshot, Classify, ClockError, Culprit, ReadPath, TargetDescription, VirtualMemory,
};
use hil::probe::{find_chip, parse_selector, ProbeChip, ProbeOptions, DEFAULT_CHIP};
use hil::transport::VirtualBoard;
use probe_rs::architecture::arm::ArmError;
use probe_rs::probe::fake_probe::FakeProbe;
use probe_rs::probe::DebugProbeError;
use probe_rs::{Error, MemoryInterface};
use rstest::rstest;
use vboard::{Board, BoardConfig};

#[rstest]
#[case::vid_pid("0483:374b", 0x0483, 0x374b, None)]
#[case::with_serial("0483:374B:066DFF535155", 0x0483, 0x374b, Some("066DFF535155"))]
#[case::serial_with_colons("303a:1001:AA:BB:CC", 0x303a, 0x1001, Some("AA:BB:CC"))]
fn selectors_that_parse(
    #[case] s: &str,
    #[case] vid: u16,
    #[case] pid: u16,
    #[case] serial: Option<&str>,
) {
    let sel = parse_selector(s).unwrap();
    assert_eq!((sel.vendor_id, sel.product_id), (vid, pid));
    assert_eq!(sel.serial_number.as_deref(), serial);
}

#[rstest]
#[case::no_colon("0483", "no ':' between VID and PID")]
#[case::empty("", "no ':' between VID and PID")]
#[case::bad_vid("st:374b", "VID \"st\" is not 1 to 4 hex digits")]
#[case::long_vid("10483:374b", "VID \"10483\" is not 1 to 4 hex digits")]
#[case::no_pid("0483:", "PID \"\" is not 1 to 4 hex digits")]
#[case::bad_pid("0483:stlink", "PID \"stlink\" is not 1 to 4 hex digits")]
fn selectors_rejected_with_a_reason(#[case] s: &str, #[case] problem: &str) {
    let e = parse_selector(s).unwrap_err();
    assert_eq!(e.culprit(), Culprit::Harness);
    let msg = e.to_string();
    assert!(msg.contains(problem), "{msg}");
    assert!(msg.contains("expected VID:PID[:SERIAL]"), "{msg}");
}

#[test]
fn chip_names_are_checked_against_probe_rs_targets() {
    assert!(find_chip(DEFAULT_CHIP).is_ok());
    assert_eq!(TargetDescription::stm32f7().probe_rs_chip, DEFAULT_CHIP);
    let e = find_chip("STM32F746QQ_NO_SUCH").unwrap_err();
    assert_eq!(e.culprit(), Culprit::Harness);
    assert!(
        matches!(e, ClockError::UnknownChip { ref similar, .. } if !similar.is_empty()),
        "{e}"
    );
}

fn options(selector: &str) -> ProbeOptions {
    ProbeOptions {
        selector: parse_selector(selector).unwrap(),
        chip: DEFAULT_CHIP.into(),
        speed_khz: 1800,
        connect_under_reset: false,
        halting_session: false,
        access_port: 0,
    }
}

#[test]
fn a_probe_that_is_not_there_is_a_probe_failure() {
    let e = match ProbeChip::open(&options("1209:0001:hil-test-no-such-probe")) {
        Ok(_) => panic!("no such probe exists"),
        Err(e) => e,
    };
    assert_eq!(e.culprit(), Culprit::Probe, "{e}");
    assert!(e
        .to_string()
        .contains("opening debug probe 1209:0001:hil-test-no-such-probe"));
}

#[test]
fn the_access_port_path_reads_without_a_core_session() {
    let probe = FakeProbe::with_mocked_core().into_probe();
    let target = find_chip(DEFAULT_CHIP).unwrap();
    let mut chip = match ProbeChip::attach(probe, target, &options("0483:374b")) {
        Ok(chip) => chip,
        Err(e) => panic!("attach over the fake probe: {e}"),
    };
    assert_eq!(chip.path(), ReadPath::AccessPort);
    let s = read_snapshot(&mut chip, &TargetDescription::stm32f7()).unwrap();
    assert_eq!(
        s.raw.rcc_pllcfgr, 0,
        "the fake core's memory reads as zeros"
    );
}

#[rstest]
#[case::usb_gone(Error::Probe(DebugProbeError::Usb(std::io::ErrorKind::BrokenPipe.into())), Culprit::Probe)]
#[case::usb_gone_under_arm(Error::Arm(ArmError::Probe(DebugProbeError::Usb(std::io::ErrorKind::NotConnected.into()))), Culprit::Probe)]
#[case::probe_timeout(Error::Probe(DebugProbeError::Timeout), Culprit::Probe)]
#[case::target_silent(Error::Probe(DebugProbeError::TargetNotFound), Culprit::Probe)]
#[case::ap_timeout(Error::from(ArmError::Timeout), Culprit::Probe)]
#[case::wait_for_ever(
    Error::from(ArmError::Dap(probe_rs::architecture::arm::DapError::WaitResponse)),
    Culprit::Probe
)]
#[case::fault_for_ever(
    Error::from(ArmError::Dap(probe_rs::architecture::arm::DapError::FaultResponse)),
    Culprit::Probe
)]
#[case::core_will_not_halt(Error::from(ArmError::CoreNotHalted), Culprit::Board)]
#[case::not_implemented(Error::NotImplemented("x"), Culprit::Harness)]
fn backend_errors_are_classified(#[case] e: Error, #[case] kind: Culprit) {
    assert_eq!(e.culprit(), kind, "{e}");
}

/// The virtual board until `reads_left` runs out, then the probe's USB link is gone.
struct Unplugged {
    inner: VirtualMemory,
    reads_left: usize,
}

impl MemoryInterface for Unplugged {
    fn supports_native_64bit_access(&mut self) -> bool {
        false
    }
    fn read_64(&mut self, a: u64, d: &mut [u64]) -> Result<(), Error> {
        self.inner.read_64(a, d)
    }
    fn read_32(&mut self, a: u64, d: &mut [u32]) -> Result<(), Error> {
        if self.reads_left == 0 {
            let gone = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "probe unplugged");
            return Err(Error::Probe(DebugProbeError::Usb(gone)));
        }
        self.reads_left -= 1;
        self.inner.read_32(a, d)
    }
    fn read_16(&mut self, a: u64, d: &mut [u16]) -> Result<(), Error> {
        self.inner.read_16(a, d)
    }
    fn read_8(&mut self, a: u64, d: &mut [u8]) -> Result<(), Error> {
        self.inner.read_8(a, d)
    }
    fn write_64(&mut self, a: u64, d: &[u64]) -> Result<(), Error> {
        self.inner.write_64(a, d)
    }
    fn write_32(&mut self, a: u64, d: &[u32]) -> Result<(), Error> {
        self.inner.write_32(a, d)
    }
    fn write_16(&mut self, a: u64, d: &[u16]) -> Result<(), Error> {
        self.inner.write_16(a, d)
    }
    fn write_8(&mut self, a: u64, d: &[u8]) -> Result<(), Error> {
        self.inner.write_8(a, d)
    }
    fn supports_8bit_transfers(&self) -> Result<bool, Error> {
        Ok(true)
    }
    fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

#[rstest]
#[case::first_read(0, "RCC_CR")]
#[case::mid_snapshot(3, "RCC_CSR")]
#[case::uid(2, "UID[0]")]
fn a_probe_unplugged_mid_read_is_infrastructure(#[case] reads: usize, #[case] register: &str) {
    let clock = Arc::new(VirtualClock::new());
    let mut board = Board::new(BoardConfig::healthy_default(), 1);
    board.power_on(clock.now());
    let inner = VirtualMemory::new(VirtualBoard::new(board), clock.clone());
    clock.sleep(Duration::from_millis(30));
    let mut mem = Unplugged {
        inner,
        reads_left: reads,
    };
    let e = read_snapshot(&mut mem, &TargetDescription::stm32f7()).unwrap_err();
    assert_eq!(e.culprit(), Culprit::Probe);
    assert!(
        e.to_string().starts_with(&format!("reading {register} at")),
        "{e}"
    );
    let mut chain = Vec::new();
    let mut cur: Option<&dyn std::error::Error> = Some(&e);
    while let Some(c) = cur {
        chain.push(c.to_string());
        cur = c.source();
    }
    assert!(
        chain.iter().any(|c| c == "probe unplugged"),
        "the cause is kept: {chain:?}"
    );
}
