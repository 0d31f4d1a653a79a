//! Leaving DFU (AN3156 §5.5): manifestation, detach, then a jump to valid user code or a reset back into the
//! bootloader.

use crate::common::*;
use vboard::{DfuState, RunMode, UsbError};

fn vector_table(msp: u32, reset: u32) -> Vec<u8> {
    [msp.to_le_bytes(), reset.to_le_bytes()].concat()
}

fn leave(host: &mut Host) {
    host.dnload(2, &[]).unwrap();
    let s = host.get_status();
    assert_eq!(s.state, DfuState::Manifest);
    assert_eq!(
        host.try_get_status(),
        Err(UsbError::Disconnected),
        "manifestation intolerant"
    );
}

#[test]
fn leave_jumps_to_valid_user_code() {
    let mut host = Host::healthy();
    host.erase(FLASH);
    assert_eq!(
        host.write(FLASH, &vector_table(0x2005_0000, 0x0800_01C5))
            .state,
        DfuState::DnloadIdle
    );
    host.set_address(FLASH);
    leave(&mut host);
    assert_eq!(
        host.board.mode(),
        RunMode::Application {
            vector_table: FLASH
        }
    );
    host.sleep(1000);
    assert!(!host.board.attached(host.now));
    assert!(
        host.board.boot().is_some(),
        "clocks stay as the bootloader set them"
    );
}

#[test]
fn leave_from_idle_uses_the_default_pointer() {
    let mut host = Host::healthy();
    host.board
        .load_flash(FLASH, &vector_table(0x2002_0000, 0x0020_0101));
    leave(&mut host);
    assert_eq!(
        host.board.mode(),
        RunMode::Application {
            vector_table: FLASH
        }
    );
}

#[test]
fn leave_without_user_code_resets_into_the_bootloader() {
    let mut host = Host::healthy();
    let boots = host.board.stats().boots;
    leave(&mut host);
    assert_eq!(host.board.mode(), RunMode::Bootloader);
    assert!(!host.board.attached(host.now));
    host.wait_attached();
    assert_eq!(host.board.stats().boots, boots + 1);
    assert_eq!(host.get_status().state, DfuState::DfuIdle);
}

#[test]
fn leave_jumps_to_the_last_written_address() {
    let mut host = Host::healthy();
    host.board
        .load_flash(FLASH, &vector_table(0x2002_0000, 0x0800_0101));
    host.write(0x0801_0000, &[0u8; 8]);
    leave(&mut host);
    assert_eq!(
        host.board.mode(),
        RunMode::Bootloader,
        "[0x08010000] is not a stack pointer"
    );
}

#[test]
fn boot0_low_after_leave_reset_runs_user_code() {
    let mut host = Host::healthy();
    host.board.set_boot0(false);
    leave(&mut host);
    assert_eq!(
        host.board.mode(),
        RunMode::Application {
            vector_table: 0x0020_0000
        }
    );
    host.board.set_boot0(true);
    host.board.reset_pin(host.now);
    host.wait_attached();
    assert_eq!(host.board.mode(), RunMode::Bootloader);
}

#[test]
fn reattach_after_leave_is_a_new_hse_detection() {
    let mut host = Host::new(
        vboard::BoardConfig::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/boards/drifting-25mhz.toml"
        )))
        .unwrap(),
        9,
    );
    let mut counts = std::collections::BTreeSet::new();
    for _ in 0..20 {
        counts.insert(host.board.boot().unwrap().timer_count);
        leave(&mut host);
        host.wait_attached();
    }
    assert!(
        counts.len() > 1,
        "every re-entry draws a new HSI error: {counts:?}"
    );
}
