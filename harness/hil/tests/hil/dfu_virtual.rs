//! The DfuSe host against the virtual STM32F746 bootloader, through the same Transport seam real USB uses:
//! every operation, the safety refusals, fault injection, and the clock-driven failure model.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dfuse::{AddressMode, Clock, NullObserver, Observer, Trace, VirtualClock};
use hil::dfu::{self, FlashOptions, FlashReport, OpError};
use hil::image::{Image, Segment};
use hil::transport::{Transport, VirtualBoard, VirtualTransport};
use rstest::rstest;
use vboard::{Board, BoardConfig, Fault};

const FLASH: u32 = 0x0800_0000;
const TIMEOUT: Duration = Duration::from_millis(5000);

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/boards")
        .join(name)
}

struct Rig {
    transport: VirtualTransport,
    clock: Arc<VirtualClock>,
    board: VirtualBoard,
}

impl Rig {
    fn with(config: BoardConfig, seed: u64) -> Self {
        let clock = Arc::new(VirtualClock::new());
        let mut board = Board::new(config, seed);
        board.power_on(clock.now());
        let board = VirtualBoard::new(board);
        let mut transport =
            VirtualTransport::open(board.clone(), clock.clone(), 1, Duration::from_secs(5))
                .expect("the board enumerates");
        // Every string up front, so the counts and injected faults below see DFU requests only.
        transport.read_all_strings();
        Self {
            transport,
            clock,
            board,
        }
    }

    fn healthy() -> Self {
        Self::with(BoardConfig::healthy_default(), 1)
    }

    fn flash<O: Observer>(
        &mut self,
        image: &Image,
        o: FlashOptions,
        obs: O,
    ) -> Result<FlashReport, OpError> {
        dfu::flash(&mut self.transport, self.clock.clone(), image, o, obs)
    }

    fn session(&mut self, alt: u8) -> dfu::Session<'_, NullObserver> {
        dfu::open(
            &mut self.transport,
            self.clock.clone(),
            alt,
            TIMEOUT,
            NullObserver,
        )
        .unwrap()
    }

    fn transfers(&self) -> u64 {
        self.board.lock().stats().transfers
    }
}

fn pattern(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt) ^ (i >> 8) as u8)
        .collect()
}

fn opts() -> FlashOptions {
    FlashOptions {
        verify: true,
        timeout: TIMEOUT,
        ..FlashOptions::default()
    }
}

#[test]
fn option_bytes_read_over_dfu_are_the_factory_defaults() {
    let mut rig = Rig::healthy();
    let ob = dfu::read_option_bytes(&mut rig.transport, rig.clock.clone(), TIMEOUT, NullObserver)
        .unwrap();
    assert_eq!(ob.address, 0x1FFF_0000);
    assert_eq!(ob.data.len(), 32);
    assert_eq!(ob.data[..4], [0xFF, 0xAA, 0x00, 0x55]);
    assert_eq!(ob.data, rig.board.lock().option_bytes());
}

#[test]
fn the_serial_is_st_formula_of_the_uid() {
    let mut rig = Rig::healthy();
    let expected = rig.board.lock().usb_serial_expected();
    assert_eq!(rig.transport.serial().as_deref(), Some(expected.as_str()));
    assert_eq!(rig.transport.info().bcd_device, 0x2200);
    assert_eq!(rig.transport.info().alts.len(), 4);
}

#[rstest]
#[case::k64(64 << 10)]
#[case::odd_length(5000)]
fn flash_and_verify_writes_exactly_the_image(#[case] len: usize) {
    let mut rig = Rig::healthy();
    let data = pattern(len, 7);
    let image = Image::from_bin(&data, FLASH).unwrap();
    let report = rig.flash(&image, opts(), NullObserver).unwrap();
    assert_eq!(report.bytes, len);
    assert!(report.verified);
    let board = rig.board.lock();
    assert_eq!(&board.flash()[..len], &data[..]);
    assert!(board.violations().is_empty(), "{:?}", board.violations());
}

#[test]
fn a_download_erases_exactly_the_sectors_it_touches() {
    let mut rig = Rig::healthy();
    // Something in sector 2 (0x08010000, 32K) first; then 64 KiB into sectors 0 and 1 must leave it alone.
    let keep = Image::from_bin(&pattern(1024, 3), FLASH + 0x1_0000).unwrap();
    rig.flash(&keep, opts(), NullObserver).unwrap();
    let image = Image::from_bin(&pattern(64 << 10, 9), FLASH).unwrap();
    let report = rig.flash(&image, opts(), NullObserver).unwrap();
    assert_eq!(report.sectors_erased, 2);
    assert_eq!(
        &rig.board.lock().flash()[0x1_0000..0x1_0400],
        &pattern(1024, 3)[..]
    );
}

#[test]
fn upload_reads_back_flash_through_the_right_alt_setting() {
    let mut rig = Rig::healthy();
    let image = Image::from_bin(&pattern(3000, 1), FLASH + 0x100).unwrap();
    rig.flash(&image, opts(), NullObserver).unwrap();
    let got = dfu::upload(
        &mut rig.transport,
        rig.clock.clone(),
        TIMEOUT,
        FLASH + 0x100,
        3000,
        NullObserver,
    )
    .unwrap();
    assert_eq!(got, pattern(3000, 1));
    let otp = dfu::upload(
        &mut rig.transport,
        rig.clock.clone(),
        TIMEOUT,
        0x1FF0_F000,
        16,
        NullObserver,
    )
    .unwrap();
    assert_eq!(otp, vec![0xFF; 16]);
}

#[test]
fn leave_makes_the_board_re_enumerate_as_a_new_boot() {
    let mut rig = Rig::healthy();
    let boots = rig.board.lock().stats().boots;
    let image = Image::from_bin(&pattern(4096, 2), FLASH).unwrap();
    let o = FlashOptions {
        leave: true,
        ..opts()
    };
    let report = rig.flash(&image, o, NullObserver).unwrap();
    // The pattern is no valid vector table, so the ROM resets back into the bootloader.
    assert_eq!(report.reenumerated, Some(true));
    assert_eq!(rig.board.lock().stats().boots, boots + 1);
}

#[test]
fn our_addressing_needs_fewer_transfers_than_dfu_utils() {
    let count = |mode| {
        let mut rig = Rig::healthy();
        let image = Image::from_bin(&pattern(64 << 10, 4), FLASH).unwrap();
        let o = FlashOptions { mode, ..opts() };
        let before = rig.transfers();
        rig.flash(&image, o, NullObserver).unwrap();
        rig.transfers() - before
    };
    let (ours, theirs) = (count(AddressMode::Contiguous), count(AddressMode::PerBlock));
    assert!(ours + 90 <= theirs, "ours {ours}, dfu-util style {theirs}");
}

fn refused(rig: &mut Rig, image: &Image, o: FlashOptions) -> OpError {
    let before = rig.transfers();
    let err = rig.flash(image, o, NullObserver).unwrap_err();
    assert_eq!(
        rig.transfers(),
        before,
        "refusals happen before the first transfer"
    );
    err
}

#[rstest]
#[case::past_the_end_of_flash(FLASH + 0x000F_FF00, 512, "layout")]
#[case::nowhere(0x3000_0000, 16, "layout")]
#[case::system_memory(0x1FF0_0000, 16, "layout")]
fn images_outside_the_layout_are_refused(#[case] at: u32, #[case] len: usize, #[case] kind: &str) {
    let mut rig = Rig::healthy();
    let err = refused(
        &mut rig,
        &Image::from_bin(&vec![0; len], at).unwrap(),
        opts(),
    );
    assert_eq!(err.kind_name(), kind, "{err}");
}

#[test]
fn option_bytes_are_written_only_when_asked() {
    let mut rig = Rig::healthy();
    let ob = rig.board.lock().option_bytes().to_vec();
    let image = Image::from_bin(&ob, 0x1FFF_0000).unwrap();
    let err = refused(&mut rig, &image, opts());
    assert!(
        matches!(err, OpError::Refused(ref m) if m.contains("--write-option-bytes")),
        "{err}"
    );
}

#[test]
fn read_protection_level_2_is_refused_under_any_flag() {
    let mut rig = Rig::healthy();
    let mut ob = rig.board.lock().option_bytes().to_vec();
    ob[1] = 0xCC;
    let image = Image::from_bin(&ob, 0x1FFF_0000).unwrap();
    let o = FlashOptions {
        write_option_bytes: true,
        ..opts()
    };
    let err = refused(&mut rig, &image, o);
    assert!(
        matches!(err, OpError::Refused(ref m) if m.contains("level 2")),
        "{err}"
    );
}

#[test]
fn a_segment_overlapping_the_rdp_byte_alone_is_checked_too() {
    let mut rig = Rig::healthy();
    let image = Image::new([Segment::new(0x1FFF_0001, vec![0xCC])]).unwrap();
    let o = FlashOptions {
        write_option_bytes: true,
        ..opts()
    };
    assert!(matches!(refused(&mut rig, &image, o), OpError::Refused(_)));
}

#[rstest]
#[case::stall(Fault::StallOnRequest(2), "stall")]
#[case::no_response(Fault::NoResponseOnRequest(2), "timeout")]
#[case::disconnect(Fault::DisconnectAfter(2), "disconnected")]
#[case::corrupt_status(Fault::CorruptStatus(1), "protocol")]
#[case::stuck_busy(Fault::StuckBusy { poll_timeout_ms: 0 }, "stuck")]
#[case::stuck_busy_slow(Fault::StuckBusy { poll_timeout_ms: 500 }, "stuck")]
#[case::re_enumerate(Fault::ReEnumerate(3), "disconnected")]
fn injected_faults_end_in_a_specific_error_kind(#[case] fault: Fault, #[case] kind: &str) {
    let mut rig = Rig::healthy();
    rig.board.lock().inject(fault);
    let image = Image::from_bin(&pattern(8192, 5), FLASH).unwrap();
    let err = rig.flash(&image, opts(), NullObserver).unwrap_err();
    assert_eq!(err.kind_name(), kind, "{err:?}");
    // Bounded in virtual time too: no fault makes the host wait for ever.
    assert!(
        rig.clock.now() < Duration::from_secs(120),
        "took {:?}",
        rig.clock.now()
    );
}

#[test]
fn request_trace_of_an_option_byte_read() {
    let mut rig = Rig::healthy();
    let mut trace = Trace::new();
    dfu::read_option_bytes(&mut rig.transport, rig.clock.clone(), TIMEOUT, &mut trace).unwrap();
    insta::assert_snapshot!("option_byte_read_trace", trace.render());
}

#[test]
fn request_trace_of_a_64k_flash_and_verify() {
    let mut rig = Rig::healthy();
    let mut trace = Trace::new();
    let image = Image::from_bin(&pattern(64 << 10, 6), FLASH).unwrap();
    rig.flash(&image, opts(), &mut trace).unwrap();
    insta::assert_snapshot!("flash_64k_verify_trace", trace.render());
}

/// Power-cycle a board `boots` times and try the option-byte read once per boot: (misdetected boots,
/// OB failures on misdetected boots, OB failures on correct boots).
fn soak_option_bytes(config: BoardConfig, seed: u64, boots: usize) -> (usize, usize, usize) {
    let clock = Arc::new(VirtualClock::new());
    let board = VirtualBoard::new(Board::new(config, seed));
    let (mut misdetected, mut fail_mis, mut fail_ok) = (0, 0, 0);
    for _ in 0..boots {
        board.lock().power_off(clock.now());
        clock.sleep(Duration::from_millis(100));
        board.lock().power_on(clock.now());
        let wrong = {
            let b = board.lock();
            let boot = b.boot().expect("a boot record after power-on");
            boot.usb_error_ppm.abs() > 2500.0
        };
        misdetected += usize::from(wrong);
        let ok = VirtualTransport::open(board.clone(), clock.clone(), 1, Duration::from_secs(5))
            .map_err(|_| ())
            .and_then(|mut t| {
                let c: Arc<dyn Clock> = clock.clone();
                dfu::read_option_bytes(&mut t, c, TIMEOUT, NullObserver).map_err(|_| ())
            })
            .is_ok();
        match (ok, wrong) {
            (false, true) => fail_mis += 1,
            (false, false) => fail_ok += 1,
            _ => {}
        }
    }
    (misdetected, fail_mis, fail_ok)
}

#[test]
fn the_healthy_board_never_fails() {
    let (mis, fail_mis, fail_ok) = soak_option_bytes(BoardConfig::healthy_default(), 7, 200);
    assert_eq!((mis, fail_mis, fail_ok), (0, 0, 0));
}

#[test]
fn the_drifting_board_fails_on_misdetected_boots_only_and_reproducibly() {
    let config = || BoardConfig::load(&fixture("drifting-25mhz.toml")).unwrap();
    let run = soak_option_bytes(config(), 11, 200);
    let (mis, fail_mis, fail_ok) = run;
    assert!(
        mis >= 20,
        "the drifting board should misdetect HSE on a good share of boots: {run:?}"
    );
    assert!(
        fail_mis * 10 >= mis,
        "option-byte reads should often fail on misdetected boots: {run:?}"
    );
    assert_eq!(fail_ok, 0, "correctly clocked boots never fail: {run:?}");
    assert_eq!(
        soak_option_bytes(config(), 11, 200),
        run,
        "same seed, same run"
    );
}

#[test]
fn get_commands_lists_the_four_dfuse_commands() {
    let mut rig = Rig::healthy();
    let mut dfu = rig.session(0);
    let commands = dfu.get_commands().unwrap();
    insta::assert_debug_snapshot!("get_commands", commands);
}

#[test]
fn mass_erase_leaves_every_flash_byte_erased() {
    let mut rig = Rig::healthy();
    let image = Image::from_bin(&pattern(4096, 8), FLASH + 0x4_0000).unwrap();
    rig.flash(&image, opts(), NullObserver).unwrap();
    let mut dfu = rig.session(0);
    dfu.mass_erase().unwrap();
    drop(dfu);
    assert!(rig.board.lock().flash().iter().all(|&b| b == 0xFF));
}

#[test]
fn read_unprotect_erases_and_resets_the_board() {
    let mut rig = Rig::healthy();
    let image = Image::from_bin(&pattern(2048, 8), FLASH).unwrap();
    rig.flash(&image, opts(), NullObserver).unwrap();
    let boots = rig.board.lock().stats().boots;
    let mut dfu = rig.session(0);
    dfu.read_unprotect().unwrap();
    drop(dfu);
    rig.transport
        .wait_reenumeration(Duration::from_secs(60))
        .unwrap();
    let board = rig.board.lock();
    assert_eq!(board.stats().boots, boots + 1);
    assert!(board.flash()[..2048].iter().all(|&b| b == 0xFF));
    assert_eq!(
        board.option_bytes()[1],
        0xAA,
        "RDP level 0 after Read Unprotect"
    );
}

/// What `hil dfu read-option-bytes --virtual` costs on the bus, counted by the board (every control transfer
/// it served), like the guest test's count of dfu-util's 16 for `-a 1 -U` (the server's `XFERS` around the
/// command). Counted: from the opened device on — the strings the command reads (the language list, the
/// serial it prints, the option-byte alt's name for its layout), SET_INTERFACE and the DFU requests. Not
/// counted, in both: the host stack's enumeration (device and configuration descriptors,
/// SET_CONFIGURATION), which the guest kernel did before the count started.
#[test]
fn an_option_byte_read_costs_no_more_control_transfers_than_dfu_util() {
    let description = hil::backend::BoardDescription::Virtual {
        board_file: None,
        seed: 1,
        port: 1,
        power_on: None,
    };
    let (backends, mut t) = hil::backend::open_dfu(&description, None).expect("opens");
    let board = backends.virtual_board().expect("virtual").clone();
    let before = board.lock().stats().clone();
    assert!(t.serial().is_some());
    let ob = dfu::read_option_bytes(t.as_mut(), backends.clock(), TIMEOUT, NullObserver)
        .expect("reads the option bytes");
    assert_eq!(ob.data.len(), 32);
    let after = board.lock().stats().clone();
    let by_request: Vec<(&str, u64)> = after
        .by_request
        .iter()
        .map(|(name, n)| (*name, n - before.by_request.get(name).unwrap_or(&0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    let total = after.transfers - before.transfers;
    eprintln!("option-byte read: {total} control transfers: {by_request:?}");
    let strings = by_request
        .iter()
        .find(|(name, _)| *name == "GET_DESCRIPTOR")
        .map_or(0, |(_, n)| *n);
    assert_eq!(
        strings, 3,
        "language list, serial, option-byte alt name: {by_request:?}"
    );
    assert!(total <= 16, "{total} transfers: {by_request:?}");
}
