//! The clock reader against the virtual board through the same `MemoryInterface` code a probe uses: the
//! snapshot matches the board's ground truth, the measured SYSCLK and HSI agree with the clock model within
//! the stated uncertainty, the USB side is compared, and failures are classified.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dfuse::{Clock, VirtualClock};
use hil::clocks::{
    collect, derive, measure_hsi, measure_sysclk, read_snapshot, CollectOptions, Culprit,
    TargetDescription, Verdict, VirtualMemory,
};
use hil::transport::VirtualBoard;
use rstest::rstest;
use vboard::{clock::hsi_error_ppm, Board, BoardConfig, RunMode};

fn board_file(name: &str) -> BoardConfig {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/boards")
        .join(format!("{name}.toml"));
    BoardConfig::load(&path).expect("shipped board file")
}

struct Rig {
    board: VirtualBoard,
    clock: Arc<VirtualClock>,
    mem: VirtualMemory,
    target: TargetDescription,
}

impl Rig {
    fn new(config: BoardConfig, seed: u64) -> Rig {
        let clock = Arc::new(VirtualClock::new());
        let mut board = Board::new(config, seed);
        board.power_on(clock.now());
        let board = VirtualBoard::new(board);
        clock.sleep(Duration::from_millis(30));
        Rig {
            mem: VirtualMemory::new(board.clone(), clock.clone()),
            board,
            clock,
            target: TargetDescription::stm32f7(),
        }
    }
}

#[rstest]
#[case::healthy("healthy-25mhz", 1, 25, Verdict::Correct)]
#[case::drifting_misdetects("drifting-25mhz", 1, 24, Verdict::Misdetected)]
#[case::drifting_correct("drifting-25mhz", 2, 25, Verdict::Correct)]
#[case::crystal("crystal-24mhz", 1, 24, Verdict::Correct)]
fn snapshot_matches_the_boards_ground_truth(
    #[case] name: &str,
    #[case] seed: u64,
    #[case] pllm: u8,
    #[case] verdict: Verdict,
) {
    let mut rig = Rig::new(board_file(name), seed);
    let snapshot = read_snapshot(&mut rig.mem, &rig.target).unwrap();
    let board = rig.board.lock();
    let boot = board.boot().unwrap();
    assert_eq!(u32::from(snapshot.rcc.pll.m), boot.pll.m);
    assert_eq!(snapshot.rcc.pll.m, pllm);
    assert_eq!(snapshot.rcc.hsical, board.config().hsi.cal);
    assert_eq!(snapshot.identity.uid, board.config().memory.uid);
    let opt = board.option_bytes();
    assert_eq!(snapshot.option_bytes.rdp, opt[1]);
    let d = derive(&snapshot, boot.hse_hz);
    assert_eq!(d.verdict, verdict);
    assert!((d.sysclk_hz - boot.sysclk_hz).abs() < 1e-3);
    assert!((d.usb_clock_error_ppm.unwrap() - boot.usb_error_ppm).abs() < 1e-6);
    assert_eq!(
        d.usb_in_tolerance,
        Some(boot.usb_error_ppm.abs() <= 2500.0),
        "{name}"
    );
}

#[rstest]
#[case::healthy("healthy-25mhz", 1, 100)]
#[case::misdetected("drifting-25mhz", 1, 100)]
#[case::short_window("crystal-24mhz", 3, 5)]
#[case::long_window("drifting-25mhz", 7, 10_000)]
fn measured_sysclk_agrees_with_the_model(
    #[case] name: &str,
    #[case] seed: u64,
    #[case] window_ms: u64,
) {
    let mut rig = Rig::new(board_file(name), seed);
    let snapshot = read_snapshot(&mut rig.mem, &rig.target).unwrap();
    let window = Duration::from_millis(window_ms);
    let m = measure_sysclk(
        &mut rig.mem,
        rig.clock.as_ref(),
        &rig.target,
        &snapshot,
        window,
    )
    .unwrap();
    let boot = *rig.board.lock().boot().unwrap();
    let err = (m.sysclk.frequency_hz - boot.sysclk_hz).abs();
    assert!(
        err <= m.sysclk.uncertainty_hz,
        "{} vs {} ± {}",
        m.sysclk.frequency_hz,
        boot.sysclk_hz,
        m.sysclk.uncertainty_hz
    );
    assert!(m.sysclk.uncertainty_ppm < 300_000.0 / window_ms as f64);
    let hse = m.hse_hz.unwrap();
    assert!((hse - boot.hse_hz).abs() <= m.hse_uncertainty_hz.unwrap());
}

#[test]
fn slower_reads_widen_the_uncertainty_and_still_bracket_the_truth() {
    let config = board_file("healthy-25mhz");
    let mut fast = Rig::new(config.clone(), 4);
    let mut slow = Rig::new(config, 4);
    slow.mem = VirtualMemory::with_latency(
        slow.board.clone(),
        slow.clock.clone(),
        Duration::from_millis(3),
    );
    let window = Duration::from_millis(200);
    let measure = |rig: &mut Rig| {
        let s = read_snapshot(&mut rig.mem, &rig.target).unwrap();
        measure_sysclk(&mut rig.mem, rig.clock.as_ref(), &rig.target, &s, window).unwrap()
    };
    let (f, s) = (measure(&mut fast), measure(&mut slow));
    assert!(s.sysclk.uncertainty_hz > 10.0 * f.sysclk.uncertainty_hz);
    assert!((s.sysclk.read_latency_us - 3000.0).abs() < 1.0);
}

#[test]
fn measurement_restores_the_debug_registers() {
    let mut rig = Rig::new(BoardConfig::healthy_default(), 1);
    let snapshot = read_snapshot(&mut rig.mem, &rig.target).unwrap();
    let window = Duration::from_millis(10);
    measure_sysclk(
        &mut rig.mem,
        rig.clock.as_ref(),
        &rig.target,
        &snapshot,
        window,
    )
    .unwrap();
    let now = rig.clock.now();
    let mut board = rig.board.lock();
    assert_eq!(board.read_u32(now, 0xE000_EDFC), Ok(0), "DEMCR");
    assert_eq!(board.read_u32(now, 0xE000_1000).map(|c| c & 1), Ok(0));
}

#[rstest]
#[case::healthy("healthy-25mhz", 1)]
#[case::drifting("drifting-25mhz", 5)]
fn measured_hsi_agrees_with_the_model_and_the_board_is_back_in_the_bootloader(
    #[case] name: &str,
    #[case] seed: u64,
) {
    let config = board_file(name);
    let temperature = config.environment.temperature_c;
    let truth = 16e6 * (1.0 + hsi_error_ppm(&config, temperature, 0.0) * 1e-6);
    let mut rig = Rig::new(config, seed);
    let boots = rig.board.lock().stats().boots;
    let window = Duration::from_millis(500);
    let h = measure_hsi(&mut rig.mem, rig.clock.as_ref(), &rig.target, window).unwrap();
    assert!(
        (h.hsi.frequency_hz - truth).abs() <= h.hsi.uncertainty_hz,
        "{} vs {truth}",
        h.hsi.frequency_hz
    );
    let board = rig.board.lock();
    assert_eq!(
        board.stats().boots,
        boots + 2,
        "spin-loop reset, then bootloader"
    );
    assert_eq!(board.mode(), RunMode::Bootloader);
}

#[test]
fn collect_reads_then_measures_in_order() {
    let mut rig = Rig::new(board_file("drifting-25mhz"), 1);
    let opts = CollectOptions {
        sysclk_window: Some(Duration::from_millis(50)),
        hsi_window: Some(Duration::from_millis(50)),
        true_hse_hz: 25e6,
    };
    let c = collect(&mut rig.mem, rig.clock.as_ref(), &rig.target, &opts).unwrap();
    assert_eq!(
        c.derived.pllm, 24,
        "the snapshot describes the boot that was found"
    );
    assert!((c.sysclk.unwrap().sysclk.frequency_hz - 62.5e6).abs() < 62.5e6 * 1e-3);
    assert!(c.hsi.is_some());
}

#[test]
fn a_powered_off_board_is_a_board_failure() {
    let mut rig = Rig::new(BoardConfig::healthy_default(), 1);
    rig.board.lock().power_off(rig.clock.now());
    let e = read_snapshot(&mut rig.mem, &rig.target).unwrap_err();
    assert_eq!(e.culprit(), Culprit::Board);
    assert!(e.to_string().contains("RCC_CR at 0x40023800"), "{e}");
    let e = measure_hsi(
        &mut rig.mem,
        rig.clock.as_ref(),
        &rig.target,
        Duration::from_millis(1),
    )
    .unwrap_err();
    assert_eq!(e.culprit(), Culprit::Board);
}

#[rstest]
#[case::zero(0)]
#[case::past_the_wrap(16_000)]
fn windows_outside_the_counter_range_are_refused(#[case] ms: u64) {
    let mut rig = Rig::new(BoardConfig::healthy_default(), 1);
    let s = read_snapshot(&mut rig.mem, &rig.target).unwrap();
    let window = Duration::from_millis(ms);
    let e = measure_sysclk(&mut rig.mem, rig.clock.as_ref(), &rig.target, &s, window).unwrap_err();
    assert_eq!(e.culprit(), Culprit::Harness);
}

#[test]
fn a_stopped_counter_is_reported_not_divided_by() {
    let mut rig = Rig::new(BoardConfig::healthy_default(), 1);
    let s = read_snapshot(&mut rig.mem, &rig.target).unwrap();
    let mut target = rig.target.clone();
    target.debug.demcr = 0x0800_0000; // flash: the write faults, so TRCENA never gets set
    let e = measure_sysclk(
        &mut rig.mem,
        rig.clock.as_ref(),
        &target,
        &s,
        Duration::from_millis(5),
    )
    .unwrap_err();
    assert_eq!(e.culprit(), Culprit::Board);
    target.debug.demcr = rig.target.debug.dwt_cyccnt; // "enabling" writes CYCCNT instead: never counts
    target.debug.dwt_ctrl = rig.target.debug.dwt_cyccnt;
    let e = measure_sysclk(
        &mut rig.mem,
        rig.clock.as_ref(),
        &target,
        &s,
        Duration::from_millis(5),
    )
    .unwrap_err();
    assert!(e.to_string().contains("did not count"), "{e}");
}

/// The healthy board with an `[option_bytes]` section, as a fixture would plant it.
fn option_bytes_board(section: &str) -> BoardConfig {
    let text = format!("name = \"ob\"\n\n[option_bytes]\n{section}\n");
    BoardConfig::from_toml_str(&text, "ob.toml").unwrap()
}

#[rstest]
#[case::factory("", &[])]
#[case::planted_values(
    "rdp = 0xBB\nbor_lev = 1\nwwdg_sw = false\nnrst_stdby = false\nnwrp = 0x7E\niwdg_stdby = false\n\
     boot_add0 = 0x2000",
    &[]
)]
#[case::stale_rdp("[option_bytes.loaded]\nrdp = 0x55", &["RDP"])]
#[case::stale_user_and_boot(
    "[option_bytes.loaded]\nbor_lev = 0\niwdg_stop = false\nboot_add1 = 0x0080",
    &["USER[7:2]", "IWDG_STOP", "BOOT_ADD1"]
)]
fn planted_option_bytes_meet_the_harness_check(#[case] section: &str, #[case] differ: &[&str]) {
    // vboard's encoding and hil's decoding are written independently: planted values must agree with
    // themselves, and only a planted stale FLASH_OPTCR/OPTCR1 may disagree with the DFU block, field by field.
    let mut rig = Rig::new(option_bytes_board(section), 1);
    let snapshot = read_snapshot(&mut rig.mem, &rig.target).unwrap();
    let dfu = rig.board.lock().option_bytes();
    let check = hil::clocks::OptionBytesCheck::compare(&snapshot.option_bytes, &dfu);
    let fields: Vec<&str> = (check.mismatches.iter())
        .map(|m| m.split(": ").next().unwrap())
        .collect();
    assert_eq!(fields, differ, "{:?}", check.mismatches);
    assert_eq!(check.matches, differ.is_empty());
}
