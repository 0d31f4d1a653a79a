//! The command layer against the virtual board's SWD port, with the packets probe-rs and OpenOCD send.

use std::time::Duration;

use proptest::prelude::*;
use vboard::registers::{DBGMCU_IDCODE, RCC_CR, RCC_PLLCFGR, UID_BASE};
use vboard::swd::{BoardBus, DebugPort, SwdIdentity, Transfer};
use vboard::{Board, BoardConfig};

use super::*;
use crate::BoardTarget;

const ID: SwdIdentity = SwdIdentity {
    dpidr: 0x5BA0_2477,
    ap_idr: 0x7477_0001,
    ap_base: 0xE00F_D003,
    targetid: 0,
    planted_ap_ack: None,
};

/// A board powered on and booted, its debug port, and the time.
struct Rig {
    board: Board,
    dp: DebugPort,
    now: Duration,
    /// Faults to answer instead of the next transfers, in order.
    faults: Vec<Ack>,
}

impl Rig {
    fn new() -> Self {
        let mut board = Board::new(BoardConfig::healthy_default(), 7);
        board.power_on(Duration::ZERO);
        Rig {
            board,
            dp: DebugPort::new(ID),
            now: Duration::from_millis(100),
            faults: Vec::new(),
        }
    }
    fn word(&mut self, addr: u32) -> u32 {
        self.board.read_u32(self.now, addr).unwrap()
    }
}

impl Target for Rig {
    fn sequence(&mut self, count: usize, data: &[u8]) {
        self.dp.sequence(count, data);
    }
    fn transfer(&mut self, ap: bool, read: bool, a: u8, data: u32) -> Transfer {
        if !self.faults.is_empty() {
            return Transfer {
                ack: self.faults.remove(0),
                data: 0,
            };
        }
        let mut bus = BoardBus {
            board: &mut self.board,
            now: self.now,
        };
        self.dp.transfer(&mut bus, ap, read, a, data)
    }
    fn set_reset(&mut self, low: bool) {
        if low {
            self.board.reset_pin(self.now);
        }
    }
    fn reset_low(&self) -> bool {
        false
    }
    fn delay_us(&mut self, us: u32) {
        self.now += Duration::from_micros(u64::from(us));
    }
}

fn dap() -> Dap {
    Dap::new(ProbeInfo {
        vendor: "hil".into(),
        product: "hil virtual CMSIS-DAP".into(),
        serial: "VPROBE0001".into(),
        firmware_version: "0.1.0".into(),
        target_vendor: "STMicroelectronics".into(),
        target_name: "STM32F746ZGTx".into(),
        packet_size: 64,
    })
}

/// probe-rs's attach: DAP_Info, connect, clock, transfer and SWD configuration, then the switch to SWD (51 ones,
/// 0xE79E, 51 ones and three zeros), DPIDR, ABORT, CTRL/STAT power-up.
fn attach(dap: &mut Dap, rig: &mut Rig) {
    assert_eq!(dap.process(rig, &[0x00, 0xFF]), [0x00, 2, 64, 0]);
    assert_eq!(dap.process(rig, &[0x02, 0x01]), [0x02, 1]);
    assert_eq!(dap.process(rig, &[0x11, 0x40, 0x42, 0x0F, 0x00]), [0x11, 0]);
    assert_eq!(dap.process(rig, &[0x04, 0, 0xFF, 0xFF, 0, 0]), [0x04, 0]);
    assert_eq!(dap.process(rig, &[0x13, 0]), [0x13, 0]);
    let ones = [0x12, 51, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07];
    assert_eq!(dap.process(rig, &ones), [0x12, 0]);
    assert_eq!(dap.process(rig, &[0x12, 16, 0x9E, 0xE7]), [0x12, 0]);
    let reset = [0x12, 54, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07];
    assert_eq!(dap.process(rig, &reset), [0x12, 0]);
    // DPIDR, then ABORT = 0x1E.
    let r = dap.process(rig, &[0x05, 0, 1, 0x02]);
    assert_eq!(r, [0x05, 1, 1, 0x77, 0x24, 0xA0, 0x5B]);
    let r = dap.process(rig, &[0x05, 0, 1, 0x00, 0x1E, 0, 0, 0]);
    assert_eq!(r, [0x05, 1, 1]);
    // SELECT = 0, CTRL/STAT = CDBGPWRUPREQ | CSYSPWRUPREQ, read it back.
    let r = dap.process(
        rig,
        &[0x05, 0, 3, 0x08, 0, 0, 0, 0, 0x04, 0, 0, 0, 0x50, 0x06],
    );
    assert_eq!(r[..3], [0x05, 3, 1]);
    assert_eq!(
        u32::from_le_bytes(r[3..7].try_into().unwrap()) >> 28,
        0xF,
        "both ACKs"
    );
}

fn words(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn dap_info_reports_the_probe_and_swd_only() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    let product = dap.process(&mut rig, &[0x00, 0x02]);
    assert_eq!(product[1] as usize, "hil virtual CMSIS-DAP".len() + 1);
    assert_eq!(&product[2..product.len() - 1], b"hil virtual CMSIS-DAP");
    assert_eq!(*product.last().unwrap(), 0, "NUL-terminated");
    assert_eq!(dap.process(&mut rig, &[0x00, 0x04])[2..7], *b"2.1.0");
    assert_eq!(dap.process(&mut rig, &[0x00, 0xF0]), [0x00, 1, 1]);
    assert_eq!(dap.process(&mut rig, &[0x00, 0xFE]), [0x00, 1, 1]);
    assert_eq!(
        dap.process(&mut rig, &[0x00, 0x07]),
        [0x00, 0],
        "no board vendor"
    );
}

#[test]
fn probe_rs_style_attach_then_a_memory_read_through_transfer_equals_the_register_file() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    attach(&mut dap, &mut rig);
    // CSW (word, single increment, as OpenOCD writes it), TAR = RCC_CR, a DRW read: the posted AP read's data
    // comes back through RDBUFF.
    let mut req = vec![0x05, 0, 3, 0x01];
    req.extend(0xA200_0012u32.to_le_bytes());
    req.push(0x05);
    req.extend(RCC_CR.to_le_bytes());
    req.push(0x0F);
    let r = dap.process(&mut rig, &req);
    assert_eq!(r[..3], [0x05, 3, 1], "{r:x?}");
    assert_eq!(words(&r[3..]), [rig.word(RCC_CR)]);
}

#[test]
fn transfer_block_reads_consecutive_words_with_auto_increment() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    attach(&mut dap, &mut rig);
    let mut req = vec![0x05, 0, 2, 0x01];
    req.extend(0xA200_0012u32.to_le_bytes());
    req.push(0x05);
    req.extend(UID_BASE.to_le_bytes());
    assert_eq!(dap.process(&mut rig, &req)[..3], [0x05, 2, 1]);
    let r = dap.process(&mut rig, &[0x06, 0, 3, 0, 0x0F]);
    assert_eq!(r[..4], [0x06, 3, 0, 1], "{r:x?}");
    let expected: Vec<u32> = (0..3).map(|i| rig.word(UID_BASE + 4 * i)).collect();
    assert_eq!(words(&r[4..]), expected);
}

#[test]
fn openocd_style_reads_of_several_registers_in_one_transfer() {
    // OpenOCD writes TAR before each word and reads DRW, several in one DAP_Transfer.
    let (mut dap, mut rig) = (dap(), Rig::new());
    attach(&mut dap, &mut rig);
    let mut req = vec![0x05, 0, 7, 0x01];
    req.extend(0xA200_0012u32.to_le_bytes());
    for addr in [RCC_CR, RCC_PLLCFGR, DBGMCU_IDCODE] {
        req.push(0x05);
        req.extend(addr.to_le_bytes());
        req.push(0x0F);
    }
    let r = dap.process(&mut rig, &req);
    assert_eq!(r[..3], [0x05, 7, 1], "{r:x?}");
    let expected = [
        rig.word(RCC_CR),
        rig.word(RCC_PLLCFGR),
        rig.word(DBGMCU_IDCODE),
    ];
    assert_eq!(words(&r[3..]), expected);
    assert_eq!(expected[2] & 0xFFF, 0x449, "DEV_ID of the F74x");
}

#[test]
fn wait_is_retried_and_fault_stops_the_transfer_with_the_count_done() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    attach(&mut dap, &mut rig);
    rig.faults = vec![Ack::Wait, Ack::Wait];
    assert_eq!(
        dap.process(&mut rig, &[0x05, 0, 1, 0x02])[..3],
        [0x05, 1, 1],
        "WAIT twice, then OK"
    );
    // Two DPIDR reads, the second answered FAULT: one done, status FAULT, one word of data.
    let mut dp_fault = Rig::new();
    attach(&mut dap, &mut dp_fault);
    dp_fault.faults = vec![Ack::Ok, Ack::Fault];
    let r = dap.process(&mut dp_fault, &[0x05, 0, 2, 0x02, 0x02]);
    assert_eq!(r[..3], [0x05, 1, 4], "{r:x?}");
    assert_eq!(r.len(), 7, "one word");
    // WAIT for ever: given up after the configured retries, reported as WAIT.
    assert_eq!(dap.process(&mut rig, &[0x04, 0, 3, 0, 0, 0]), [0x04, 0]);
    rig.faults = vec![Ack::Wait; 10];
    assert_eq!(dap.process(&mut rig, &[0x05, 0, 1, 0x02]), [0x05, 0, 2]);
}

#[test]
fn a_value_match_read_polls_until_it_matches_or_reports_a_mismatch() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    attach(&mut dap, &mut rig);
    assert_eq!(dap.process(&mut rig, &[0x04, 0, 10, 0, 5, 0]), [0x04, 0]);
    // Match mask 0xFFFF0000, then DPIDR with match value 0x5BA00000: a match.
    let mut req = vec![0x05, 0, 2, 0x20];
    req.extend(0xFFFF_0000u32.to_le_bytes());
    req.push(0x12);
    req.extend(0x5BA0_0000u32.to_le_bytes());
    assert_eq!(dap.process(&mut rig, &req), [0x05, 2, 1]);
    // The mask stays set for the next command; a value that never matches sets the mismatch bit.
    let mut req = vec![0x05, 0, 1, 0x12];
    req.extend(0x1234_0000u32.to_le_bytes());
    assert_eq!(dap.process(&mut rig, &req), [0x05, 0, 0x11]);
}

/// A 32-bit read through the AHB-AP with one DAP_Transfer (CSW, TAR, DRW).
fn read_word(dap: &mut Dap, rig: &mut Rig, addr: u32) -> u32 {
    let mut req = vec![0x05, 0, 3, 0x01];
    req.extend(0xA200_0012u32.to_le_bytes());
    req.push(0x05);
    req.extend(addr.to_le_bytes());
    req.push(0x0F);
    let r = dap.process(rig, &req);
    assert_eq!(r[..3], [0x05, 3, 1], "reading {addr:#x}: {r:x?}");
    u32::from_le_bytes(r[3..7].try_into().unwrap())
}

fn write_word(dap: &mut Dap, rig: &mut Rig, addr: u32, value: u32) {
    let mut req = vec![0x05, 0, 3, 0x01];
    req.extend(0xA200_0012u32.to_le_bytes());
    req.push(0x05);
    req.extend(addr.to_le_bytes());
    req.push(0x0D);
    req.extend(value.to_le_bytes());
    assert_eq!(dap.process(rig, &req), [0x05, 3, 1], "writing {addr:#x}");
}

#[test]
fn the_core_is_a_cortex_m7_and_the_rom_tables_lead_to_its_scs() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    attach(&mut dap, &mut rig);
    assert_eq!(
        read_word(&mut dap, &mut rig, 0xE000_ED00) >> 4 & 0xFFF,
        0xC27,
        "CPUID part"
    );
    let base = ID.ap_base & !0xFFF;
    let entry = read_word(&mut dap, &mut rig, base);
    let cm7 = base.wrapping_add(entry & !0xFFF);
    let ppb = cm7.wrapping_add(read_word(&mut dap, &mut rig, cm7) & !0xFFF);
    let scs = ppb.wrapping_add(read_word(&mut dap, &mut rig, ppb) & !0xFFF);
    assert_eq!(scs, 0xE000_E000);
    assert_eq!(read_word(&mut dap, &mut rig, scs + 0xFF0), 0x0D);
    assert_eq!(read_word(&mut dap, &mut rig, scs + 0xFE0), 0x0C);
}

#[test]
fn a_halt_through_the_probe_stops_the_bootloader_answering_usb_and_is_recorded() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    attach(&mut dap, &mut rig);
    let get_status = [0xA1, 0x03, 0, 0, 0, 0, 6, 0];
    let now = rig.now + Duration::from_secs(1);
    assert!(
        rig.board.control(now, get_status, &[]).result.is_ok(),
        "running: DFU answers"
    );
    write_word(&mut dap, &mut rig, 0xE000_EDF0, 0xA05F_0003);
    let dhcsr = read_word(&mut dap, &mut rig, 0xE000_EDF0);
    assert_ne!(dhcsr & (1 << 17), 0, "S_HALT");
    assert_eq!(rig.board.halts().count, 1);
    assert!(
        rig.board.control(now, get_status, &[]).result.is_err(),
        "halted: no answer"
    );
    write_word(&mut dap, &mut rig, 0xE000_EDF0, 0xA05F_0001);
    assert!(
        rig.board
            .control(now + Duration::from_millis(10), get_status, &[])
            .result
            .is_ok(),
        "resumed"
    );
}

#[test]
fn sysresetreq_through_the_probe_is_a_new_boot_with_new_clocks() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    attach(&mut dap, &mut rig);
    let before = rig.board.boot().map(|b| b.number);
    write_word(&mut dap, &mut rig, 0xE000_ED0C, 0x05FA_0004);
    assert_eq!(rig.board.boot().map(|b| b.number), before.map(|n| n + 1));
    assert_eq!(read_word(&mut dap, &mut rig, RCC_CR), rig.word(RCC_CR));
}

#[test]
fn a_target_whose_debug_domain_never_powers_up_faults_every_ap_access() {
    let mut config = BoardConfig::healthy_default();
    config.debug.powers_up = false;
    let mut board = Board::new(config, 7);
    board.power_on(Duration::ZERO);
    let mut rig = Rig {
        board,
        dp: DebugPort::new(ID),
        now: Duration::from_millis(100),
        faults: Vec::new(),
    };
    let mut dap = dap();
    assert_eq!(dap.process(&mut rig, &[0x02, 0x01]), [0x02, 1]);
    dap.process(
        &mut rig,
        &[0x12, 51, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],
    );
    dap.process(&mut rig, &[0x12, 16, 0x9E, 0xE7]);
    dap.process(
        &mut rig,
        &[0x12, 54, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07],
    );
    let r = dap.process(&mut rig, &[0x05, 0, 3, 0x02, 0x04, 0, 0, 0, 0x50, 0x06]);
    assert_eq!(r[..3], [0x05, 3, 1]);
    assert_eq!(
        u32::from_le_bytes(r[7..11].try_into().unwrap()) >> 28 & 0xA,
        0,
        "no power-up ACKs"
    );
    let r = dap.process(&mut rig, &[0x05, 0, 2, 0x0F, 0x0F]);
    assert_eq!(r[2], 4, "FAULT: {r:x?}");
}

#[test]
fn without_the_switch_to_swd_the_target_does_not_answer() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    assert_eq!(dap.process(&mut rig, &[0x05, 0, 1, 0x02]), [0x05, 0, 7]);
}

#[test]
fn nrst_through_swj_pins_and_reset_target_reboot_the_board() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    let boots = rig.board.boot().map(|b| b.number);
    assert_eq!(
        dap.process(&mut rig, &[0x10, 0x00, 0x80, 0, 0, 0, 0])[0],
        0x10
    );
    assert_ne!(rig.board.boot().map(|b| b.number), boots, "a new boot");
    assert_eq!(dap.process(&mut rig, &[0x0A]), [0x0A, 0, 1]);
}

#[test]
fn execute_commands_runs_each_and_answers_in_one_packet() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    let r = dap.process(&mut rig, &[0x7F, 2, 0x00, 0xFE, 0x01, 0, 1]);
    assert_eq!(r, [0x7F, 2, 0x00, 1, 1, 0x01, 0]);
}

#[test]
fn unknown_and_short_commands_are_answered_not_panicked_on() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    assert_eq!(dap.process(&mut rig, &[0x42]), [0xFF]);
    assert_eq!(dap.process(&mut rig, &[]), [0xFF]);
    assert_eq!(
        dap.process(&mut rig, &[0x11, 1]),
        [0x11, 0xFF],
        "SWJ_Clock cut short"
    );
    assert_eq!(dap.process(&mut rig, &[0x05, 0, 2, 0x00]), [0x05, 0xFF]);
}

/// What probe-rs's `is_cmsis_dap` and OpenOCD's `cmsis_dap_usb_open` check, read back from the descriptors.
#[test]
fn the_usb_device_is_recognised_as_a_cmsis_dap_v2_probe() {
    let mut probe = usb::ProbeDevice::new(dap().info().clone());
    let get = |probe: &mut usb::ProbeDevice, kind: u8, index: u8| {
        probe
            .control([0x80, 0x06, index, kind, 0x09, 0x04, 0xFF, 0x00])
            .unwrap()
    };
    let device = get(&mut probe, 1, 0);
    assert_eq!(u16::from_le_bytes([device[8], device[9]]), usb::VID);
    let config = get(&mut probe, 2, 0);
    assert_eq!(
        usize::from(u16::from_le_bytes([config[2], config[3]])),
        config.len()
    );
    let interface = &config[9..18];
    assert_eq!(
        interface[5..8],
        [0xFF, 0x00, 0x00],
        "vendor class, subclass 0"
    );
    assert_eq!(interface[4], 2, "two endpoints");
    let (out, inp) = (&config[18..25], &config[25..32]);
    assert_eq!((out[2], out[3]), (usb::EP_OUT, 0x02), "bulk OUT first");
    assert_eq!((inp[2], inp[3]), (usb::EP_IN, 0x02), "bulk IN second");
    let name = get(&mut probe, 3, interface[8]);
    let text = String::from_utf16(
        &name[2..]
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(text.contains("CMSIS-DAP"), "{text}");
    assert!(
        probe.control([0x80, 0x06, 0, 0x0F, 0, 0, 5, 0]).is_err(),
        "no BOS: stall"
    );
}

#[test]
fn a_command_on_bulk_out_is_answered_on_the_next_bulk_in() {
    let mut probe = usb::ProbeDevice::new(dap().info().clone());
    let mut rig = Rig::new();
    assert_eq!(probe.bulk_in(64), None, "nothing asked yet: the IN waits");
    probe.bulk_out(&mut rig, &[0x00, 0xFF]);
    assert_eq!(probe.bulk_in(64), Some(vec![0x00, 2, 64, 0]));
    probe.bulk_out(&mut rig, &[0x07]);
    assert_eq!(probe.bulk_in(64), None, "DAP_TransferAbort has no response");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn any_packet_gets_a_response_within_the_packet_size(packets in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 1..8)) {
        let (mut dap, mut rig) = (dap(), Rig::new());
        for p in &packets {
            let r = dap.process(&mut rig, p);
            prop_assert!(!r.is_empty() || p.first() == Some(&0x07));
            prop_assert!(r.len() <= 64);
        }
    }
}

#[test]
fn a_power_cycle_takes_the_debug_port_back_to_jtag_and_nrst_held_low_is_a_boot_on_release() {
    let mut board = Board::new(BoardConfig::healthy_default(), 3);
    board.power_on(Duration::ZERO);
    let (mut port, mut held, mut power_ons) = (DebugPort::new(ID), false, 0);
    let mut dap = dap();
    let switch = |dap: &mut Dap, t: &mut dyn Target| {
        dap.process(t, &[0x12, 51, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07]);
        dap.process(t, &[0x12, 16, 0x9E, 0xE7]);
        dap.process(t, &[0x12, 54, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x07]);
    };
    let dpidr = [0x05, 0, 1, 0x02];
    {
        let mut t = BoardTarget {
            board: &mut board,
            port: &mut port,
            now: Duration::from_millis(10),
            reset_held: &mut held,
            power_ons: &mut power_ons,
        };
        switch(&mut dap, &mut t);
        assert_eq!(dap.process(&mut t, &dpidr)[..3], [0x05, 1, 1]);
        // NRST low, then released: one new boot, at the release.
        let boots = t.board.stats().boots;
        dap.process(&mut t, &[0x10, 0x00, 0x80, 0, 0, 0, 0]);
        assert_eq!(t.board.stats().boots, boots, "held: no boot yet");
        dap.process(&mut t, &[0x10, 0x80, 0x80, 0, 0, 0, 0]);
        assert_eq!(t.board.stats().boots, boots + 1, "released: a pin reset");
    }
    board.power_off(Duration::from_millis(20));
    board.power_on(Duration::from_millis(30));
    let mut t = BoardTarget {
        board: &mut board,
        port: &mut port,
        now: Duration::from_millis(40),
        reset_held: &mut held,
        power_ons: &mut power_ons,
    };
    assert_eq!(
        dap.process(&mut t, &dpidr),
        [0x05, 0, 7],
        "back in JTAG: no answer"
    );
    switch(&mut dap, &mut t);
    assert_eq!(dap.process(&mut t, &dpidr)[..3], [0x05, 1, 1]);
}

#[test]
fn nested_execute_commands_and_oversized_packets_are_answered_without_recursing() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    let nested: Vec<u8> = [0x7F, 0x01].repeat(70_000);
    let r = dap.process(&mut rig, &nested);
    assert_eq!(r, [0x7F, 1, 0xFF], "the inner ExecuteCommands is refused");
    assert!(r.len() <= 64);
}

#[test]
fn nrst_held_low_keeps_the_bootloader_from_answering_usb_until_released() {
    let mut board = Board::new(BoardConfig::healthy_default(), 3);
    board.power_on(Duration::ZERO);
    let get_status = [0xA1, 0x03, 0, 0, 0, 0, 6, 0];
    let t = Duration::from_secs(1);
    assert!(board.control(t, get_status, &[]).result.is_ok());
    board.set_nrst(t, true);
    assert!(
        board.control(t, get_status, &[]).result.is_err(),
        "in reset: no answer"
    );
    let boots = board.stats().boots;
    board.set_nrst(t, false);
    assert_eq!(board.stats().boots, boots + 1, "released: a new boot");
    assert!(board
        .control(t + Duration::from_secs(1), get_status, &[])
        .result
        .is_ok());
}

#[test]
fn value_match_is_for_reads_and_the_match_mask_for_writes() {
    let (mut dap, mut rig) = (dap(), Rig::new());
    attach(&mut dap, &mut rig);
    // A DP write to SELECT with bit 4 set is still a write (bit 4 means nothing on a write).
    let r = dap.process(&mut rig, &[0x05, 0, 1, 0x18, 0xF0, 0, 0, 0]);
    assert_eq!(r, [0x05, 1, 1]);
    // A read with bit 5 set is a plain read; it takes no data and leaves the mask alone.
    let r = dap.process(&mut rig, &[0x05, 0, 1, 0x22]);
    assert_eq!(r[..3], [0x05, 1, 1], "{r:x?}");
    assert_eq!(r.len(), 7, "one word read");
}
