//! The rendered trace of a whole session is stable: a snapshot of every request, reply and sleep.

use crate::common::*;
use dfuse::{AddressMode, MemoryLayout};

#[test]
fn session_trace() {
    let mut dfu = host_with(|d| {
        (d.state, d.status) = (St::Error, 0x0B);
        d.xfer = 1024;
        d.busy_polls = 2;
    });
    let layout = MemoryLayout::parse(F7_LAYOUT).unwrap();
    let data = pattern(2500);
    dfu.connect().unwrap();
    dfu.download(&layout, 0x0800_7C00, &data, AddressMode::Contiguous)
        .unwrap();
    dfu.verify(0x0800_7C00, &data).unwrap();
    dfu.leave(None).unwrap();
    insta::assert_snapshot!("session_trace", dfu.observer().render());
}

#[test]
fn failed_operations_show_their_error_kind() {
    let mut dfu = host_with(|d| (d.stuck_busy, d.poll_ms) = (true, 0));
    let _ = dfu.erase_sector(0x0800_0000);
    let text = dfu.observer().render();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(3)..].join("\n");
    insta::assert_snapshot!("stuck_tail", tail);
}

#[test]
fn times_appear_only_when_asked() {
    let mut dfu = host();
    dfu.set_address(0x0800_0000).unwrap();
    let plain = dfu.observer().render();
    let timed = dfu.observer().render_with(true);
    assert!(!plain.contains("ms +"), "{plain}");
    assert!(timed.contains("[0ms +0ms] DFU_DNLOAD"), "{timed}");
    assert!(timed.contains("[5ms +0ms] DFU_GETSTATUS"), "{timed}");
}
