//! Tests of the image loaders. Inputs are built in code (HEX records, ELF files, DfuSe files), never
//! committed as binaries.

mod dfuse;
mod elf;
mod fuzz;
mod hex;
mod load;

use rstest::rstest;

use super::*;

fn seg(address: u32, data: &[u8]) -> Segment {
    Segment::new(address, data.to_vec())
}

/// (address, length) of each segment, for compact assertions.
fn layout(image: &Image) -> Vec<(u32, usize)> {
    image
        .segments()
        .iter()
        .map(|s| (s.address, s.data.len()))
        .collect()
}

#[rstest]
#[case::sorted(vec![seg(0x100, &[1]), seg(0x10, &[2])], vec![(0x10, 1), (0x100, 1)])]
#[case::adjacent_merged(vec![seg(0x12, &[3, 4]), seg(0x10, &[1, 2])], vec![(0x10, 4)])]
#[case::empty_dropped(vec![seg(0x10, &[]), seg(0x20, &[1])], vec![(0x20, 1)])]
#[case::gap_kept(vec![seg(0x10, &[1]), seg(0x12, &[2])], vec![(0x10, 1), (0x12, 1)])]
#[case::top_of_address_space(vec![seg(0xFFFF_FFFE, &[1, 2])], vec![(0xFFFF_FFFE, 2)])]
fn new_sorts_and_merges(#[case] input: Vec<Segment>, #[case] expected: Vec<(u32, usize)>) {
    assert_eq!(layout(&Image::new(input).unwrap()), expected);
}

#[test]
fn merged_segments_keep_their_bytes_in_order() {
    let image = Image::new([seg(0x12, &[3, 4]), seg(0x10, &[1, 2]), seg(0x14, &[5])]).unwrap();
    assert_eq!(image.segments(), &[seg(0x10, &[1, 2, 3, 4, 5])]);
    assert_eq!(
        (image.start(), image.end(), image.len()),
        (Some(0x10), Some(0x15), 5)
    );
}

#[rstest]
#[case::same_start(vec![seg(0x10, &[1]), seg(0x10, &[2])], 0x10, 0x10)]
#[case::inside(vec![seg(0x10, &[0; 16]), seg(0x18, &[2])], 0x10, 0x18)]
#[case::names_piece_not_run(vec![seg(0, &[0; 16]), seg(0x10, &[0; 16]), seg(0x1F, &[1])], 0x10, 0x1F)]
fn overlap_names_both_addresses(
    #[case] input: Vec<Segment>,
    #[case] first: u32,
    #[case] second: u32,
) {
    let err = Image::new(input).unwrap_err();
    assert!(
        matches!(err.kind, ImageErrorKind::Overlap { first: f, second: s } if (f, s) == (first, second)),
        "{err:?}"
    );
    assert!(err.to_string().contains(&format!("{first:#010x}")), "{err}");
    assert!(
        err.to_string().contains(&format!("{second:#010x}")),
        "{err}"
    );
}

#[test]
fn segment_past_4_gib_is_refused() {
    let err = Image::new([seg(0xFFFF_FFFF, &[1, 2])]).unwrap_err();
    assert!(
        matches!(
            err.kind,
            ImageErrorKind::AddressOverflow {
                address: 0xFFFF_FFFF,
                len: 2
            }
        ),
        "{err:?}"
    );
}

#[test]
fn from_bin_places_bytes_at_address() {
    let image = Image::from_bin(&[1, 2, 3], 0x0800_0000).unwrap();
    assert_eq!(image.segments(), &[seg(0x0800_0000, &[1, 2, 3])]);
    assert_eq!(image.entry_point(), None);
}

#[test]
fn from_bin_refuses_empty_file() {
    let err = Image::from_bin(&[], 0x0800_0000).unwrap_err();
    assert!(matches!(err.kind, ImageErrorKind::Empty), "{err:?}");
}
