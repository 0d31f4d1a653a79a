//! DfuSe operations on the virtual STM32F746 board, in virtual time: host CPU time per operation
//! (criterion), and the number of DFU control transfers per operation next to dfu-util 0.11's.
//!
//! dfu-util's counts are derived from how it drives a DfuSe device (reference notes §1.7) for a device that,
//! like the virtual board, answers dfuDNBUSY to the first GETSTATUS after a request and is done at the
//! second one (after sleeping bwPollTimeout):
//! - start-up: 1 GETSTATUS;
//! - a DfuSe command (Set Address, Erase): DNLOAD + 2 GETSTATUS = 3;
//! - abort to idle: ABORT + GETSTATUS = 2;
//! - upload of n blocks: Set Address (3) + abort (2) + n UPLOAD + abort (2);
//! - download of n blocks touching s sectors: s erases (3 each), then per block Set Address (3) + DNLOAD +
//!   2 GETSTATUS, then abort (2). dfu-util has no verify: its users read back with a second invocation (-U).
//!
//! The "dfu-util style, measured" column runs our host in `AddressMode::PerBlock`, which reproduces that
//! sequence against the board, as a check on the formula.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use dfuse::{AddressMode, Clock, NullObserver, VirtualClock};
use hil::dfu::{self, FlashOptions};
use hil::image::Image;
use hil::transport::{VirtualBoard, VirtualTransport};
use vboard::{Board, BoardConfig};

const FLASH: u32 = 0x0800_0000;
const TIMEOUT: Duration = Duration::from_secs(5);
const BLOCK: usize = 2048;

struct Rig {
    transport: VirtualTransport,
    clock: Arc<VirtualClock>,
    board: VirtualBoard,
}

fn rig() -> Rig {
    let clock = Arc::new(VirtualClock::new());
    let mut board = Board::new(BoardConfig::healthy_default(), 1);
    board.power_on(clock.now());
    let board = VirtualBoard::new(board);
    let transport =
        VirtualTransport::open(board.clone(), clock.clone(), 1, TIMEOUT).expect("enumerates");
    Rig {
        transport,
        clock,
        board,
    }
}

/// DFU class requests the board has served (enumeration and SET_INTERFACE left out).
fn dfu_requests(board: &VirtualBoard) -> u64 {
    let b = board.lock();
    b.stats()
        .by_request
        .iter()
        .filter(|(name, _)| name.starts_with("DFU_"))
        .map(|(_, n)| n)
        .sum()
}

fn image(len: usize) -> Image {
    let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
    Image::from_bin(&data, FLASH).expect("image")
}

fn read_ob(r: &mut Rig) {
    let c: Arc<dyn Clock> = r.clock.clone();
    black_box(dfu::read_option_bytes(&mut r.transport, c, TIMEOUT, NullObserver).expect("OB read"));
}

fn flash_verify(r: &mut Rig, img: &Image, mode: AddressMode) {
    let c: Arc<dyn Clock> = r.clock.clone();
    let o = FlashOptions {
        verify: true,
        mode,
        timeout: TIMEOUT,
        ..FlashOptions::default()
    };
    black_box(dfu::flash(&mut r.transport, c, img, o, NullObserver).expect("flash"));
}

/// (DFU requests, virtual bus time) of one run of `op` on a fresh board.
fn measure(op: impl Fn(&mut Rig)) -> (u64, Duration) {
    let mut r = rig();
    let (n0, t0) = (dfu_requests(&r.board), r.clock.now());
    op(&mut r);
    (dfu_requests(&r.board) - n0, r.clock.now() - t0)
}

fn dfu_util_upload(blocks: usize) -> usize {
    3 + 2 + blocks + 2
}

fn dfu_util_download(blocks: usize, sectors: usize) -> usize {
    3 * sectors + 6 * blocks + 2
}

/// One operation run by our host.
type Op<'a> = Box<dyn Fn(&mut Rig) + 'a>;

fn print_transfer_table() {
    let k64 = image(64 << 10);
    let m1 = image(1 << 20);
    let rows: [(&str, Op, Op, usize); 3] = [
        (
            "option-byte read (32 B)",
            Box::new(read_ob),
            Box::new(read_ob),
            1 + dfu_util_upload(1),
        ),
        (
            "flash + verify 64 KiB",
            Box::new(|r: &mut Rig| flash_verify(r, &k64, AddressMode::Contiguous)),
            Box::new(|r: &mut Rig| flash_verify(r, &k64, AddressMode::PerBlock)),
            1 + dfu_util_download(32, 2) + 1 + dfu_util_upload(32),
        ),
        (
            "flash + verify 1 MiB",
            Box::new(|r: &mut Rig| flash_verify(r, &m1, AddressMode::Contiguous)),
            Box::new(|r: &mut Rig| flash_verify(r, &m1, AddressMode::PerBlock)),
            1 + dfu_util_download((1 << 20) / BLOCK, 8) + 1 + dfu_util_upload((1 << 20) / BLOCK),
        ),
    ];
    println!("\nDFU control transfers per operation (virtual STM32F746, wTransferSize 2048):");
    println!(
        "{:<26} {:>8} {:>22} {:>20} {:>14}",
        "operation", "hil", "dfu-util style, meas.", "dfu-util 0.11 (§1.7)", "bus time (hil)"
    );
    for (name, ours, theirs, formula) in rows {
        let (n, t) = measure(ours);
        let (m, _) = measure(theirs);
        println!(
            "{name:<26} {n:>8} {m:>22} {formula:>20} {:>12.2} s",
            t.as_secs_f64()
        );
    }
    println!();
}

fn benches(c: &mut Criterion) {
    print_transfer_table();
    let mut g = c.benchmark_group("dfu_virtual");
    g.sample_size(20);
    g.bench_function("option_byte_read", |b| {
        b.iter_batched(rig, |mut r| read_ob(&mut r), BatchSize::LargeInput)
    });
    let k64 = image(64 << 10);
    g.bench_function("flash_verify_64k", |b| {
        b.iter_batched(
            rig,
            |mut r| flash_verify(&mut r, &k64, AddressMode::Contiguous),
            BatchSize::LargeInput,
        )
    });
    let m1 = image(1 << 20);
    g.sample_size(10);
    g.bench_function("flash_verify_1m", |b| {
        b.iter_batched(
            rig,
            |mut r| flash_verify(&mut r, &m1, AddressMode::Contiguous),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(dfu_benches, benches);
criterion_main!(dfu_benches);
