//! Property tests: no input reaches a panic.

use std::time::Duration;

use crate::common::*;
use proptest::prelude::*;
use vboard::{Board, BoardConfig, Fault};

fn transfer() -> impl Strategy<Value = ([u8; 8], Vec<u8>, u16)> {
    let setup = prop_oneof![
        any::<[u8; 8]>(),
        (0u8..7, any::<u16>(), 0u16..2200).prop_map(|(r, v, l)| setup(
            if r == 1 { 0x21 } else { 0xA1 },
            r,
            v % 8,
            0,
            l
        )),
        (0u8..7, any::<u16>(), 0u16..64).prop_map(|(r, v, l)| setup(0x21, r, v, 0, l)),
    ];
    (
        setup,
        proptest::collection::vec(any::<u8>(), 0..2100),
        0u16..3000,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn control_never_panics(
        healthy in any::<bool>(),
        seed in any::<u64>(),
        transfers in proptest::collection::vec(transfer(), 1..40),
    ) {
        let config = if healthy { BoardConfig::healthy_default() } else { misdetecting() };
        let mut board = Board::new(config, seed);
        board.power_on(Duration::ZERO);
        let mut now = Duration::from_millis(50);
        for (raw, mut data, sleep_ms) in transfers {
            let length = usize::from(u16::from_le_bytes([raw[6], raw[7]]));
            if raw[0] & 0x80 == 0 && data.len() >= length {
                data.truncate(length); // mostly well-formed OUT transfers, sometimes not
            }
            let done = board.control(now, raw, &data);
            prop_assert!(done.done_at >= now);
            now = done.done_at.min(now + Duration::from_secs(60)) + Duration::from_millis(u64::from(sleep_ms));
            if !board.attached(now) && now.as_secs().is_multiple_of(7) {
                board.reset_pin(now);
            }
        }
    }

    #[test]
    fn faults_and_power_never_panic(seed in any::<u64>(), ops in proptest::collection::vec(0u8..12, 1..60)) {
        let mut board = Board::new(BoardConfig::healthy_default(), seed);
        let mut now = Duration::ZERO;
        for op in ops {
            now += Duration::from_millis(7);
            match op {
                0 => board.power_on(now),
                1 => board.power_off(now),
                2 => board.reset_pin(now),
                3 => board.inject(Fault::StallOnRequest(u32::from(op))),
                4 => board.inject(Fault::DisconnectAfter(0)),
                5 => board.inject(Fault::ReEnumerate(0)),
                6 => board.inject(Fault::StuckBusy { poll_timeout_ms: 0 }),
                7 => board.inject(Fault::CorruptStatus(1)),
                8 => board.set_boot0(now.as_millis().is_multiple_of(2)),
                _ => {
                    let _ = board.control(now, setup(0x21, 1, 0, 0, 0), &[]);
                    let _ = board.control(now, setup(0xA1, 3, 0, 0, 6), &[]);
                }
            }
        }
    }

    #[test]
    fn register_accesses_never_panic(addr in any::<u32>(), value in any::<u32>(), at_ms in any::<u32>()) {
        let mut board = Board::new(BoardConfig::healthy_default(), 1);
        let now = Duration::from_millis(u64::from(at_ms));
        board.power_on(Duration::ZERO);
        let _ = board.read_u32(now, addr);
        let _ = board.write_u32(now, addr, value);
        let _ = board.read_u32(now, addr & !3);
    }

    #[test]
    fn board_file_text_never_panics(text in "\\PC{0,200}") {
        let _ = BoardConfig::from_toml_str(&text, "fuzz.toml");
    }

    #[test]
    fn dfu_addressing_never_panics(addr in any::<u32>(), block in any::<u16>(), len in 0u16..2100, upload in any::<bool>()) {
        let mut host = Host::healthy();
        let mut cmd = vec![0x21];
        cmd.extend_from_slice(&addr.to_le_bytes());
        let _ = host.dnload(0, &cmd);
        let _ = host.try_get_status();
        let _ = host.try_get_status();
        let _ = host.abort();
        if upload {
            let _ = host.upload(block, len);
        } else {
            let data = vec![0u8; usize::from(len)];
            let _ = host.dnload(block, &data);
        }
        let _ = host.try_get_status();
        host.sleep(20_000);
        let _ = host.try_get_status();
        let _ = host.dnload(0, &[]);
        let _ = host.try_get_status();
    }
}

#[test]
fn times_near_the_end_of_time_never_panic() {
    let mut board = Board::new(BoardConfig::healthy_default(), 1);
    let late = Duration::MAX - Duration::from_millis(5);
    board.power_on(late);
    board.inject(Fault::NoResponseOnRequest(2));
    let _ = board.control(Duration::MAX, setup(0x21, 1, 0, 0, 1), &[0x41]);
    let _ = board.control(Duration::MAX, setup(0xA1, 3, 0, 0, 6), &[]);
    let _ = board.control(Duration::MAX, setup(0xA1, 3, 0, 0, 6), &[]);
    let _ = board.read_u32(Duration::MAX, 0xE000_1004);
    board.reset_pin(Duration::MAX);
}
