//! Download/upload/erase planning: sectors erased once, block numbering per address mode, refusals up front.

use dfuse::layout::MemoryLayout;
use dfuse::plan::{
    check_readable, plan_download, plan_erase, plan_upload, AddressMode, Chunk, PlanError,
};
use proptest::prelude::*;
use rstest::rstest;

const F7: &str = "@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg";
const OB: &str = "@Option Bytes  /0x1FFF0000/01*032 e";
const BASE: u32 = 0x0800_0000;

fn layout(s: &str) -> MemoryLayout {
    MemoryLayout::parse(s).unwrap()
}

#[test]
fn contiguous_64k_is_one_pointer_then_consecutive_blocks() {
    let plan = plan_download(&layout(F7), BASE, 64 << 10, 2048, AddressMode::Contiguous).unwrap();
    assert_eq!(plan.erases, [0x0800_0000, 0x0800_8000]);
    assert_eq!(plan.writes.len(), 32);
    assert_eq!(plan.writes[0].set_address, Some(BASE));
    assert!(plan.writes[1..].iter().all(|w| w.set_address.is_none()));
    let blocks: Vec<u16> = plan.writes.iter().map(|w| w.block).collect();
    assert_eq!(blocks, (2..34).collect::<Vec<u16>>());
    assert!(plan.writes.iter().all(|w| w.len == 2048));
}

#[test]
fn per_block_64k_sets_the_pointer_before_every_block() {
    let plan = plan_download(&layout(F7), BASE, 64 << 10, 2048, AddressMode::PerBlock).unwrap();
    assert_eq!(plan.erases, [0x0800_0000, 0x0800_8000]);
    for (i, w) in plan.writes.iter().enumerate() {
        let expected = Chunk {
            set_address: Some(BASE + i as u32 * 2048),
            block: 2,
            offset: i * 2048,
            len: 2048,
        };
        assert_eq!(*w, expected);
    }
}

#[rstest]
#[case::k64(64 << 10, 105, 198)]
#[case::mib(1 << 20, 1563, 3096)]
fn contiguous_needs_fewer_transfers(
    #[case] len: usize,
    #[case] ours: usize,
    #[case] dfu_util: usize,
) {
    let f7 = layout(F7);
    let contiguous = plan_download(&f7, BASE, len, 2048, AddressMode::Contiguous).unwrap();
    let per_block = plan_download(&f7, BASE, len, 2048, AddressMode::PerBlock).unwrap();
    assert_eq!(contiguous.min_transfers(), ours);
    assert_eq!(per_block.min_transfers(), dfu_util);
    assert!(contiguous.min_transfers() < per_block.min_transfers());
}

#[test]
fn only_the_last_block_is_short_and_it_gets_its_own_pointer() {
    let plan = plan_download(&layout(F7), BASE, 5000, 2048, AddressMode::Contiguous).unwrap();
    let shape: Vec<(Option<u32>, u16, usize, usize)> = plan
        .writes
        .iter()
        .map(|w| (w.set_address, w.block, w.offset, w.len))
        .collect();
    assert_eq!(
        shape,
        [
            (Some(BASE), 2, 0, 2048),
            (None, 3, 2048, 2048),
            (Some(BASE + 4096), 2, 4096, 904)
        ]
    );
}

#[test]
fn an_upload_sends_its_short_last_block_after_its_own_pointer() {
    let plan = plan_upload(BASE, 5000, 2048).unwrap();
    let blocks: Vec<(Option<u32>, u16, usize)> = plan
        .reads
        .iter()
        .map(|r| (r.set_address, r.block, r.len))
        .collect();
    assert_eq!(
        blocks,
        [
            (Some(BASE), 2, 2048),
            (None, 3, 2048),
            (Some(BASE + 4096), 2, 904)
        ]
    );
}

#[test]
fn a_new_run_starts_before_wblocknum_overflows() {
    let big = layout("@Big/0x00000000/01*1Mg");
    let plan = plan_download(&big, 0, 70_000, 1, AddressMode::Contiguous).unwrap();
    assert_eq!(plan.writes[65_533].block, u16::MAX);
    assert_eq!(plan.writes[65_534].set_address, Some(65_534));
    assert_eq!(plan.writes[65_534].block, 2);
    assert_eq!(plan.commands(), 1 + 2);
}

#[test]
fn option_bytes_are_written_without_erase() {
    let plan = plan_download(&layout(OB), 0x1FFF_0000, 32, 2048, AddressMode::Contiguous).unwrap();
    assert!(plan.erases.is_empty());
    let w = Chunk {
        set_address: Some(0x1FFF_0000),
        block: 2,
        offset: 0,
        len: 32,
    };
    assert_eq!(plan.writes, [w]);
}

#[test]
fn empty_download_plans_nothing() {
    let plan = plan_download(&layout(F7), BASE, 0, 2048, AddressMode::Contiguous).unwrap();
    assert!(plan.erases.is_empty() && plan.writes.is_empty());
}

#[rstest]
#[case::past_the_end(F7, 0x080F_FFFF, 2, PlanError::OutOfLayout { address: 0x080F_FFFF, len: 2, first_outside: 0x0810_0000 })]
#[case::before_the_start(F7, 0x07FF_FFFF, 2, PlanError::OutOfLayout { address: 0x07FF_FFFF, len: 2, first_outside: 0x07FF_FFFF })]
#[case::read_only("@X/0x08000000/01*1Ka,01*1Kg", 0x0800_0200, 0x400, PlanError::NotWritable { sector: 0x0800_0000, access: dfuse::Access::from_bits(1) })]
#[case::gap_beats_access("@X/0x08000000/01*1Ka/0x08000800/01*1Kg", 0x0800_0000, 0x1000, PlanError::OutOfLayout { address: 0x0800_0000, len: 0x1000, first_outside: 0x0800_0400 })]
#[case::beyond_4_gib("@T/0xFFFFF000/04*1Kg", 0xFFFF_FFFF, 2, PlanError::AddressOverflow { address: 0xFFFF_FFFF, len: 2 })]
fn refused_downloads(
    #[case] text: &str,
    #[case] address: u32,
    #[case] len: usize,
    #[case] error: PlanError,
) {
    let got = plan_download(&layout(text), address, len, 2048, AddressMode::Contiguous);
    assert_eq!(got, Err(error));
}

#[rstest]
#[case(0)]
#[case(65_536)]
fn bad_transfer_sizes(#[case] xfer: usize) {
    let got = plan_download(&layout(F7), BASE, 16, xfer, AddressMode::PerBlock);
    assert_eq!(got, Err(PlanError::BadTransferSize(xfer)));
    assert_eq!(
        plan_upload(BASE, 16, xfer),
        Err(PlanError::BadTransferSize(xfer))
    );
}

#[test]
fn erase_and_read_checks() {
    let ob = layout(OB);
    let refused = plan_erase(&ob, 0x1FFF_0000, 32).unwrap_err();
    assert!(matches!(
        refused,
        PlanError::NotErasable {
            sector: 0x1FFF_0000,
            ..
        }
    ));
    assert_eq!(
        plan_erase(&layout(F7), 0x0801_FFFF, 2).unwrap(),
        [0x0801_8000, 0x0802_0000]
    );
    let write_only = layout("@W/0x20000000/01*1Kd");
    assert!(matches!(
        check_readable(&write_only, 0x2000_0000, 4),
        Err(PlanError::NotReadable { .. })
    ));
    assert_eq!(check_readable(&ob, 0x1FFF_0000, 32), Ok(()));
}

#[test]
fn uploads_ask_for_exactly_what_is_left() {
    let ob = plan_upload(0x1FFF_0000, 32, 2048).unwrap();
    assert_eq!(
        ob.reads,
        [Chunk {
            set_address: Some(0x1FFF_0000),
            block: 2,
            offset: 0,
            len: 32
        }]
    );
    let lens: Vec<(u16, usize)> = plan_upload(BASE, 4100, 2048)
        .unwrap()
        .reads
        .iter()
        .map(|r| (r.block, r.len))
        .collect();
    assert_eq!(lens, [(2, 2048), (3, 2048), (2, 4)]);
    assert!(plan_upload(BASE, 0, 2048).unwrap().reads.is_empty());
    assert!(matches!(
        plan_upload(0xFFFF_FFFF, 2, 2048),
        Err(PlanError::AddressOverflow { .. })
    ));
}

fn arb_mode() -> impl Strategy<Value = AddressMode> {
    prop_oneof![Just(AddressMode::Contiguous), Just(AddressMode::PerBlock)]
}

proptest! {
    #[test]
    fn plans_cover_the_range_exactly(
        offset in 0u32..(1 << 20),
        len in 0usize..200_000,
        xfer in 1usize..4096,
        mode in arb_mode(),
    ) {
        let f7 = layout(F7);
        let address = BASE + offset;
        let plan = match plan_download(&f7, address, len, xfer, mode) {
            Ok(p) => p,
            Err(e) => {
                prop_assert!(!f7.contains_range(address, len));
                prop_assert!(matches!(e, PlanError::OutOfLayout { .. }), "{e:?}");
                return Ok(());
            }
        };
        let mut next = 0;
        let mut pointer = None;
        for (i, w) in plan.writes.iter().enumerate() {
            prop_assert_eq!(w.offset, next);
            prop_assert!(w.len == xfer || (i + 1 == plan.writes.len() && w.len <= xfer && w.len > 0));
            if let Some(p) = w.set_address {
                pointer = Some(p);
            }
            let p = pointer.expect("first block sets the pointer");
            let computed = u64::from(p) + (u64::from(w.block) - 2) * xfer as u64;
            prop_assert_eq!(computed, u64::from(address) + w.offset as u64);
            if mode == AddressMode::PerBlock {
                prop_assert_eq!(w.block, 2);
            }
            next += w.len;
        }
        prop_assert_eq!(next, len);
        let touched: Vec<u32> = f7.sectors_in(address, len).iter().map(|s| s.start).collect();
        prop_assert_eq!(&plan.erases, &touched);
    }

    #[test]
    fn planning_never_panics(address in any::<u32>(), len in 0usize..1 << 33, xfer in 0usize..70_000, mode in arb_mode()) {
        let _ = plan_download(&layout(F7), address, len.min(1 << 21), xfer, mode);
        let _ = plan_upload(address, len.min(1 << 21), xfer);
        let _ = plan_erase(&layout(OB), address, len);
    }
}
