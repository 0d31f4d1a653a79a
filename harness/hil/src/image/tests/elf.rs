use rstest::rstest;

use super::seg;
use crate::image::{Image, ImageErrorKind};

const PT_LOAD: u32 = 1;
const PT_NOTE: u32 = 4;
const EM_ARM: u16 = 40;
const EHDR_LEN: usize = 52;
const PHDR_LEN: usize = 32;

/// A program header for [`ElfBuilder`]; the data goes after the headers.
struct Phdr {
    p_type: u32,
    vaddr: u32,
    paddr: u32,
    data: Vec<u8>,
    memsz: u32,
    filesz_override: Option<u32>,
}

/// Writes a minimal ELF32 little-endian ARM executable: ELF header, program headers, segment data. No
/// sections, as `objcopy`-style loaders need none.
#[derive(Default)]
pub(super) struct ElfBuilder {
    entry: u32,
    phdrs: Vec<Phdr>,
}

impl ElfBuilder {
    pub(super) fn entry(mut self, entry: u32) -> Self {
        self.entry = entry;
        self
    }

    /// PT_LOAD with VMA `vaddr` and LMA `paddr`.
    pub(super) fn load(self, vaddr: u32, paddr: u32, data: &[u8]) -> Self {
        let memsz = data.len() as u32;
        self.phdr(PT_LOAD, vaddr, paddr, data, memsz)
    }

    /// PT_LOAD with no file contents (.bss).
    pub(super) fn bss(self, vaddr: u32, memsz: u32) -> Self {
        self.phdr(PT_LOAD, vaddr, vaddr, &[], memsz)
    }

    pub(super) fn note(self, data: &[u8]) -> Self {
        self.phdr(PT_NOTE, 0, 0, data, 0)
    }

    /// The last program header claims `filesz` bytes whatever its data.
    fn claim_filesz(mut self, filesz: u32) -> Self {
        self.phdrs.last_mut().unwrap().filesz_override = Some(filesz);
        self
    }

    fn phdr(mut self, p_type: u32, vaddr: u32, paddr: u32, data: &[u8], memsz: u32) -> Self {
        let data = data.to_vec();
        self.phdrs.push(Phdr {
            p_type,
            vaddr,
            paddr,
            data,
            memsz,
            filesz_override: None,
        });
        self
    }

    pub(super) fn build(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00");
        let halves = |out: &mut Vec<u8>, v: &[u16]| {
            v.iter()
                .for_each(|h| out.extend_from_slice(&h.to_le_bytes()))
        };
        let words = |out: &mut Vec<u8>, v: &[u32]| {
            v.iter()
                .for_each(|w| out.extend_from_slice(&w.to_le_bytes()))
        };
        halves(&mut out, &[2, EM_ARM]); // ET_EXEC
        words(&mut out, &[1, self.entry, EHDR_LEN as u32, 0, 0x0500_0200]);
        halves(
            &mut out,
            &[
                EHDR_LEN as u16,
                PHDR_LEN as u16,
                self.phdrs.len() as u16,
                40,
                0,
                0,
            ],
        );
        let mut offset = EHDR_LEN + PHDR_LEN * self.phdrs.len();
        for ph in &self.phdrs {
            let filesz = ph.filesz_override.unwrap_or(ph.data.len() as u32);
            words(
                &mut out,
                &[
                    ph.p_type,
                    offset as u32,
                    ph.vaddr,
                    ph.paddr,
                    filesz,
                    ph.memsz,
                    5,
                    4,
                ],
            );
            offset += ph.data.len();
        }
        for ph in &self.phdrs {
            out.extend_from_slice(&ph.data);
        }
        out
    }
}

#[test]
fn builder_output_is_a_valid_elf() {
    let bytes = ElfBuilder::default()
        .load(0x0800_0000, 0x0800_0000, &[1, 2])
        .build();
    use object::Object;
    let file = object::File::parse(&bytes[..]).unwrap();
    assert_eq!(file.architecture(), object::Architecture::Arm);
    assert!(file.is_little_endian() && !file.is_64());
}

#[test]
fn data_goes_to_its_load_address_and_bss_is_skipped() {
    let text: Vec<u8> = (0..0x100u32).map(|i| i as u8).collect();
    let bytes = ElfBuilder::default()
        .entry(0x0800_0101)
        .load(0x0800_0000, 0x0800_0000, &text)
        .load(0x2000_0000, 0x0800_0100, &[0xDA, 0x7A]) // .data: runs from RAM, stored in flash
        .bss(0x2000_0002, 0x400)
        .note(b"GNU\0build-id")
        .build();
    let image = Image::from_elf(&bytes).unwrap();
    let mut flash = text.clone();
    flash.extend_from_slice(&[0xDA, 0x7A]);
    assert_eq!(
        image.segments(),
        &[seg(0x0800_0000, &flash)],
        "LMA of .data follows .text"
    );
    assert_eq!(image.entry_point(), Some(0x0800_0101));
}

fn elf() -> ElfBuilder {
    ElfBuilder::default()
}

#[rstest]
#[case::no_program_headers(elf().build(), "ElfNoLoadSegments")]
#[case::only_bss(elf().bss(0x2000_0000, 64).build(), "ElfNoLoadSegments")]
#[case::only_note(elf().note(b"x").build(), "ElfNoLoadSegments")]
#[case::segment_outside_file(elf().load(0, 0, &[1]).claim_filesz(4096).build(), "ElfSegmentOutOfFile")]
#[case::overlapping_lma(elf().load(0, 0x10, &[1, 2]).load(0x2000_0000, 0x11, &[3]).build(), "Overlap")]
#[case::runs_past_4_gib(elf().load(0, 0xFFFF_FFFF, &[1, 2]).build(), "AddressOverflow")]
#[case::truncated_header(elf().load(0, 0, &[1]).build()[..40].to_vec(), "Elf(")]
#[case::truncated_program_headers(elf().load(0, 0, &[1]).build()[..60].to_vec(), "Elf(")]
#[case::not_elf(b"\x7fELF\x07garbage, not a real header at all ......................".to_vec(), "Elf")]
fn malformed_elf_is_refused(#[case] bytes: Vec<u8>, #[case] kind: &str) {
    let err = Image::from_elf(&bytes).unwrap_err();
    assert!(
        format!("{:?}", err.kind).contains(kind),
        "expected {kind}, got {:?}",
        err.kind
    );
    assert!(!matches!(err.kind, ImageErrorKind::Io(_)));
}
