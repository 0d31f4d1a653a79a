//! Property tests: no input makes a parser panic, and what the DfuSe writer writes the reader reads back.

use std::path::Path;

use proptest::prelude::*;

use super::elf::ElfBuilder;
use super::hex::record;
use crate::image::{to_dfuse_file, DfuseFile, DfuseTarget, Image, Segment};

/// Byte strings that get past the first checks often: random bytes, and valid files with bytes flipped.
fn mutated(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = valid.len();
    prop::collection::vec((0..len, any::<u8>()), 1..8).prop_map(move |edits| {
        let mut bytes = valid.clone();
        for (at, value) in edits {
            bytes[at] = value;
        }
        bytes
    })
}

fn sample_elf() -> Vec<u8> {
    ElfBuilder::default()
        .load(0x0800_0000, 0x0800_0000, &[1; 24])
        .load(0x2000_0000, 0x0800_0018, &[2; 8])
        .bss(0x2000_0008, 64)
        .build()
}

fn sample_dfu() -> Vec<u8> {
    let image = Image::new([Segment::new(0x0800_0000, vec![3; 12])]).unwrap();
    let target = DfuseTarget {
        alt_setting: 0,
        name: Some("Internal Flash".into()),
        image,
    };
    to_dfuse_file(0x0483, 0xDF11, 0x2200, &[target]).unwrap()
}

/// Recompute the CRC so that mutations reach the structure parser.
fn with_good_crc(mut bytes: Vec<u8>) -> Vec<u8> {
    let n = bytes.len();
    let crc = crate::image::dfuse_file::dfu_crc(&bytes[..n - 4]);
    bytes[n - 4..].copy_from_slice(&crc.to_le_bytes());
    bytes
}

fn segments() -> impl Strategy<Value = Vec<Segment>> {
    prop::collection::vec(
        (any::<u32>(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(a, d)| Segment::new(a, d)),
        0..6,
    )
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Image::from_ihex(&bytes);
        let _ = Image::from_elf(&bytes);
        let _ = DfuseFile::parse(&bytes);
        let _ = Image::parse_as_detected(Path::new("x"), &bytes, None);
    }

    #[test]
    fn arbitrary_text_never_panics_the_hex_reader(text in "(:[0-9A-Fa-f]{0,80}\r?\n){0,6}") {
        let _ = Image::from_ihex(text.as_bytes());
    }

    #[test]
    fn mutated_hex_never_panics(bytes in mutated(format!(
        "{}\n{}\n{}\n:00000001FF\n",
        record(4, 0, &[0xFF, 0xFF]), record(0, 0xFFF0, &[1; 16]), record(5, 0, &[1, 2, 3, 4])
    ).into_bytes())) {
        let _ = Image::from_ihex(&bytes);
    }

    #[test]
    fn mutated_elf_never_panics(bytes in mutated(sample_elf())) {
        let _ = Image::from_elf(&bytes);
    }

    #[test]
    fn mutated_dfuse_never_panics(bytes in mutated(sample_dfu())) {
        let _ = DfuseFile::parse(&bytes);
        let _ = DfuseFile::parse(&with_good_crc(bytes));
    }

    #[test]
    fn images_are_sorted_disjoint_and_merged(input in segments()) {
        if let Ok(image) = Image::new(input.clone()) {
            let total: usize = input.iter().map(|s| s.data.len()).sum();
            prop_assert_eq!(image.len(), total);
            for pair in image.segments().windows(2) {
                prop_assert!(pair[0].end() < u64::from(pair[1].address));
            }
            prop_assert!(image.segments().iter().all(|s| !s.data.is_empty()));
        }
    }

    #[test]
    fn dfuse_round_trips(input in segments(), alt: u8, name in prop::option::of("[ -~]{0,255}")) {
        if let Ok(image) = Image::new(input) {
            let targets = vec![DfuseTarget { alt_setting: alt, name, image }];
            let bytes = to_dfuse_file(0x0483, 0xDF11, 0x2200, &targets).unwrap();
            prop_assert_eq!(DfuseFile::parse(&bytes).unwrap().targets, targets);
        }
    }
}
