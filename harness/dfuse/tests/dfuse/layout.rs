//! DfuSe memory-layout strings: every example from the reference notes, range queries, errors with positions.

use dfuse::layout::{Access, LayoutError, LayoutProblem, MemoryLayout, Region, Sector, SectorRun};
use proptest::prelude::*;
use rstest::rstest;

const K: u32 = 1024;

fn run(count: u32, size: u32, letter: char) -> SectorRun {
    let access = Access::from_letter(letter).unwrap();
    SectorRun {
        count,
        size,
        access,
    }
}

fn region(start: u32, sectors: Vec<SectorRun>) -> Region {
    Region { start, sectors }
}

#[rstest]
#[case::f74x_alt0(
    "@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg",
    "Internal Flash  ",
    vec![region(0x0800_0000, vec![run(4, 32 * K, 'g'), run(1, 128 * K, 'g'), run(3, 256 * K, 'g')])],
    1 << 20
)]
#[case::f74x_option_bytes(
    "@Option Bytes  /0x1FFF0000/01*032 e",
    "Option Bytes  ",
    vec![region(0x1FFF_0000, vec![run(1, 32, 'e')])],
    32
)]
#[case::f72x_option_bytes(
    "@Option Bytes  /0x1FFF0000/01*048 e",
    "Option Bytes  ",
    vec![region(0x1FFF_0000, vec![run(1, 48, 'e')])],
    48
)]
#[case::f72x_otp(
    "@OTP Memory /0x1FF07800/01*528e",
    "OTP Memory ",
    vec![region(0x1FF0_7800, vec![run(1, 528, 'e')])],
    528
)]
#[case::f4_otp(
    "@OTP Memory /0x1FFF7800/01*512 e,01*016 e",
    "OTP Memory ",
    vec![region(0x1FFF_7800, vec![run(1, 512, 'e'), run(1, 16, 'e')])],
    528
)]
#[case::device_feature(
    "@Device Feature/0xFFFF0000/01*004 e",
    "Device Feature",
    vec![region(0xFFFF_0000, vec![run(1, 4, 'e')])],
    4
)]
#[case::f4_classic(
    "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
    "Internal Flash  ",
    vec![region(0x0800_0000, vec![run(4, 16 * K, 'g'), run(1, 64 * K, 'g'), run(7, 128 * K, 'g')])],
    1 << 20
)]
#[case::two_regions(
    "@Flash and RAM/0x08000000/02*016Ka,02*016Kg/0x20000000/01*128Kg",
    "Flash and RAM",
    vec![
        region(0x0800_0000, vec![run(2, 16 * K, 'a'), run(2, 16 * K, 'g')]),
        region(0x2000_0000, vec![run(1, 128 * K, 'g')]),
    ],
    192 * K
)]
#[case::three_regions_byte_and_mega(
    "@Mixed/0x00000000/01*1Mg/0x10000000/08*512Bf/0x1FFF0000/03*100 d",
    "Mixed",
    vec![
        region(0, vec![run(1, 1 << 20, 'g')]),
        region(0x1000_0000, vec![run(8, 512, 'f')]),
        region(0x1FFF_0000, vec![run(3, 100, 'd')]),
    ],
    (1 << 20) + 4096 + 300
)]
#[case::l4_many_pages(
    "@Internal Flash  /0x08000000/256*02Kg",
    "Internal Flash  ",
    vec![region(0x0800_0000, vec![run(256, 2 * K, 'g')])],
    512 * K
)]
#[case::every_type_letter(
    "@T/0x0/1*1a,1*1b,1*1c,1*1d,1*1e,1*1f,1*1g",
    "T",
    vec![region(0, "abcdefg".chars().map(|c| run(1, 1, c)).collect())],
    7
)]
fn parses(
    #[case] text: &str,
    #[case] name: &str,
    #[case] regions: Vec<Region>,
    #[case] total: u32,
) {
    let layout = MemoryLayout::parse(text).unwrap();
    assert_eq!(layout.name, name);
    assert_eq!(layout.regions, regions);
    assert_eq!(layout.total_size(), u64::from(total));
    assert_eq!(MemoryLayout::parse(&layout.to_string()).unwrap(), layout);
}

#[rstest]
#[case('a', true, false, false)]
#[case('b', false, true, false)]
#[case('c', true, true, false)]
#[case('d', false, false, true)]
#[case('e', true, false, true)]
#[case('f', false, true, true)]
#[case('g', true, true, true)]
fn type_letters(#[case] c: char, #[case] r: bool, #[case] e: bool, #[case] w: bool) {
    let a = Access::from_letter(c).unwrap();
    assert_eq!((a.readable(), a.erasable(), a.writable()), (r, e, w));
    assert_eq!(a.letter(), Some(c));
}

fn f7() -> MemoryLayout {
    MemoryLayout::parse("@Internal Flash  /0x08000000/04*032Kg,01*128Kg,03*256Kg").unwrap()
}

fn g(start: u32, size: u32) -> Option<Sector> {
    let access = Access::from_letter('g').unwrap();
    Some(Sector {
        start,
        size,
        access,
    })
}

#[rstest]
#[case(0x0800_0000, g(0x0800_0000, 32 * K))]
#[case(0x0801_FFFF, g(0x0801_8000, 32 * K))]
#[case(0x0802_0000, g(0x0802_0000, 128 * K))]
#[case(0x0803_FFFF, g(0x0802_0000, 128 * K))]
#[case(0x080F_FFFF, g(0x080C_0000, 256 * K))]
#[case(0x0810_0000, None)]
#[case(0x07FF_FFFF, None)]
fn sector_at(#[case] address: u32, #[case] sector: Option<Sector>) {
    assert_eq!(f7().sector_at(address), sector);
}

#[rstest]
#[case(0x0800_0000, 0, vec![])]
#[case(0x0800_0000, 1, vec![0x0800_0000])]
#[case(0x0800_0000, 64 * 1024, vec![0x0800_0000, 0x0800_8000])]
#[case(0x0800_7FFF, 2, vec![0x0800_0000, 0x0800_8000])]
#[case(0x0801_F000, 0x2_0000, vec![0x0801_8000, 0x0802_0000])]
#[case(0x0801_F000, 0x2_1001, vec![0x0801_8000, 0x0802_0000, 0x0804_0000])]
#[case(0x0800_0000, 1 << 20, vec![0x0800_0000, 0x0800_8000, 0x0801_0000, 0x0801_8000, 0x0802_0000, 0x0804_0000, 0x0808_0000, 0x080C_0000])]
#[case(0x080F_FFFF, 16, vec![0x080C_0000])]
fn sectors_in(#[case] address: u32, #[case] len: usize, #[case] starts: Vec<u32>) {
    let got: Vec<u32> = f7()
        .sectors_in(address, len)
        .iter()
        .map(|s| s.start)
        .collect();
    assert_eq!(got, starts);
}

#[test]
fn range_checks() {
    let f7 = f7();
    assert!(f7.contains_range(0x0800_0000, 1 << 20));
    assert!(f7.contains_range(0x080F_FFFF, 1));
    assert!(!f7.contains_range(0x080F_FFFF, 2));
    assert!(!f7.contains_range(0x07FF_FFFF, 2));
    assert!(f7.is_writable(0x0800_0000, 1 << 20) && f7.is_erasable(0x0800_0000, 1 << 20));
    let ob = MemoryLayout::parse("@Option Bytes  /0x1FFF0000/01*032 e").unwrap();
    assert!(ob.is_readable(0x1FFF_0000, 32) && ob.is_writable(0x1FFF_0000, 32));
    assert!(!ob.is_erasable(0x1FFF_0000, 32));
    assert!(!ob.contains_range(0x1FFF_0000, 33));
    let gap = MemoryLayout::parse("@X/0x08000000/01*1Kg/0x08000800/01*1Ka").unwrap();
    assert!(!gap.contains_range(0x0800_0000, 0xC00));
    assert!(gap.is_readable(0x0800_0800, 0x400));
    assert!(!gap.is_writable(0x0800_0800, 1));
    assert!(
        gap.contains_range(0x0800_0000, 0),
        "an empty range is inside anything"
    );
}

fn err(position: usize, problem: LayoutProblem) -> LayoutError {
    LayoutError { position, problem }
}

fn expected(position: usize, what: &'static str, found: Option<char>) -> LayoutError {
    err(
        position,
        LayoutProblem::Expected {
            expected: what,
            found,
        },
    )
}

#[rstest]
#[case::empty("", err(0, LayoutProblem::MissingAt))]
#[case::no_at("Internal Flash/0x0/1*1Kg", err(0, LayoutProblem::MissingAt))]
#[case::empty_name("@/0x0/01*1Ka", err(1, LayoutProblem::EmptyName))]
#[case::name_only("@Flash", expected(6, "'/' after the name", None))]
#[case::no_0x("@Flash/08000000/01*1Kg", expected(8, "'0x'", Some('8')))]
#[case::no_hex("@Flash/0x/01*1Kg", expected(9, "hex digits", Some('/')))]
#[case::no_slash_after_address("@Flash/0x08000000", expected(17, "'/' after the address", None))]
#[case::no_count("@Flash/0x08000000/*1Kg", expected(18, "digits", Some('*')))]
#[case::no_star(
    "@Flash/0x08000000/04016Kg",
    expected(23, "'*' after the sector count", Some('K'))
)]
#[case::bad_type(
    "@Flash/0x08000000/04*016Kz",
    expected(25, "a type letter 'a'..'g'", Some('z'))
)]
#[case::upper_type(
    "@Flash/0x08000000/04*016KG",
    expected(25, "a type letter 'a'..'g'", Some('G'))
)]
#[case::no_type(
    "@Flash/0x08000000/04*016K",
    expected(25, "a type letter 'a'..'g'", None)
)]
#[case::trailing_comma("@Flash/0x08000000/04*016Kg,", expected(27, "digits", None))]
#[case::trailing_junk(
    "@Flash/0x08000000/04*016Kg;",
    expected(26, "'/' before an address", Some(';'))
)]
#[case::trailing_space(
    "@Flash/0x08000000/04*016Kg ",
    expected(26, "'/' before an address", Some(' '))
)]
#[case::address_too_big("@Flash/0x123456789/01*1Kg", err(9, LayoutProblem::NumberTooLarge))]
#[case::count_too_big("@F/0x0/4294967296*1Kg", err(7, LayoutProblem::NumberTooLarge))]
#[case::size_too_big("@F/0x0/1*4194304Kg", err(9, LayoutProblem::NumberTooLarge))]
#[case::zero_size("@F/0x0/01*000Kg", err(10, LayoutProblem::ZeroSize))]
#[case::overflow("@F/0xFFFFFFFF/02*1Kg", err(20, LayoutProblem::Overflow))]
#[case::non_ascii_type("@F/0x0/1*1é", expected(10, "a type letter 'a'..'g'", Some('é')))]
fn rejects(#[case] text: &str, #[case] error: LayoutError) {
    assert_eq!(MemoryLayout::parse(text), Err(error));
}

#[test]
fn region_may_end_exactly_at_4_gib() {
    let top = MemoryLayout::parse("@Top/0xFFFFF000/04*1Kg").unwrap();
    assert_eq!(top.regions[0].end(), 1 << 32);
    assert!(top.contains_range(0xFFFF_F000, 0x1000));
    assert!(!top.contains_range(0xFFFF_F000, 0x1001));
}

fn arb_run() -> impl Strategy<Value = SectorRun> {
    (
        1u32..300,
        1u32..2048,
        prop::sample::select(vec![1u32, 1024, 1 << 20]),
        1u8..8,
    )
        .prop_map(|(count, n, mult, bits)| SectorRun {
            count,
            size: (n * mult).min(1 << 20),
            access: Access::from_bits(bits),
        })
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(s in ".{0,80}") {
        let _ = MemoryLayout::parse(&s);
    }

    #[test]
    fn grammar_shaped_strings_never_panic(s in "@[A-Za-z ]{0,6}(/0x[0-9A-Fa-f]{0,9}/([0-9]{0,4}\\*[0-9]{0,5}[BKM ]?[a-hA-G]?,?){0,3}){0,3}") {
        if let Ok(layout) = MemoryLayout::parse(&s) {
            for r in &layout.regions {
                prop_assert!(r.end() <= 1 << 32);
            }
            let _ = layout.sectors_in(0, 1 << 20);
            let _ = layout.is_writable(0xFFFF_FF00, 0x1000);
        }
    }

    #[test]
    fn canonical_form_round_trips(
        name in "[A-Za-z][A-Za-z ]{0,12}",
        start in 0u32..0x1000_0000,
        runs in prop::collection::vec(arb_run(), 1..4),
    ) {
        let layout = MemoryLayout { name, regions: vec![Region { start, sectors: runs }] };
        prop_assert_eq!(MemoryLayout::parse(&layout.to_string()), Ok(layout));
    }

    #[test]
    fn sector_at_agrees_with_sectors_in(offset in 0u32..(1 << 20), len in 0usize..300_000) {
        let f7 = f7();
        let address = 0x0800_0000 + offset;
        let sectors = f7.sectors_in(address, len);
        if len > 0 {
            prop_assert_eq!(sectors.first().copied(), f7.sector_at(address));
        }
        for pair in sectors.windows(2) {
            prop_assert_eq!(pair[0].end(), u64::from(pair[1].start));
        }
    }
}
