//! Loading guest ELF images into guest physical memory.

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::program_header::{PT_LOAD, ProgramHeader, program_header32::SIZEOF_PHDR};
use goblin::elf::{Elf, header};
use softmmu::PhysMap;

/// Why an image could not be loaded. Each message is one line for the user.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum LoadError {
    /// The file is not an ELF image at all.
    #[error("not an ELF file")]
    NotElf,
    /// The ELF is cut short or malformed.
    #[error("malformed ELF: {0}")]
    Malformed(String),
    /// A 64-bit ELF, or one for another machine.
    #[error("not a 32-bit MIPS ELF (class {class}, machine {machine})")]
    WrongMachine {
        /// EI_CLASS.
        class: u8,
        /// e_machine.
        machine: u16,
    },
    /// Not an executable.
    #[error("ELF type {0} is not an executable")]
    NotExecutable(u16),
    /// No PT_LOAD segment.
    #[error("no loadable segment")]
    NoSegments,
    /// A segment's address is outside kseg0/kseg1 or outside guest RAM.
    #[error("segment at {vaddr:#010x} (+{size:#x}) is outside guest RAM")]
    SegmentOutsideRam {
        /// p_vaddr.
        vaddr: u32,
        /// p_memsz.
        size: u32,
    },
    /// The entry point is not inside a loaded segment.
    #[error("entry point {0:#010x} is outside the loaded segments")]
    EntryOutside(u32),
}

/// What loading an image produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadedImage {
    /// Entry point (guest virtual).
    pub entry: u32,
    /// Whether the image is big-endian.
    pub big_endian: bool,
    /// Highest physical address used, exclusive.
    pub phys_end: u64,
}

/// Reads just the byte order of an ELF, to build the machine before loading.
pub fn elf_big_endian(bytes: &[u8]) -> Result<bool, LoadError> {
    if !bytes.starts_with(header::ELFMAG) {
        return Err(LoadError::NotElf);
    }
    if bytes.len() < header::SIZEOF_IDENT {
        return Err(truncated_header());
    }
    match bytes[header::EI_DATA] {
        header::ELFDATA2LSB => Ok(false),
        header::ELFDATA2MSB => Ok(true),
        d => Err(LoadError::Malformed(format!("unknown byte order {d}"))),
    }
}

fn truncated_header() -> LoadError {
    LoadError::Malformed("the file ends inside the ELF header".into())
}

/// kseg0/kseg1 virtual address to physical, as QEMU's Malta loader does.
fn kseg_to_phys(vaddr: u32) -> Option<u64> {
    (0x8000_0000..=0xbfff_ffff).contains(&vaddr).then_some((vaddr & 0x1fff_ffff) as u64)
}

/// Loads every PT_LOAD segment of `bytes` into `mem` (RAM of `ram_size`
/// bytes at physical 0), zero-filling up to `p_memsz`.
pub fn load_elf(bytes: &[u8], mem: &mut PhysMap, ram_size: u64) -> Result<LoadedImage, LoadError> {
    let big_endian = elf_big_endian(bytes)?;
    // Class and machine first, from the raw header: goblin would read an
    // ELF64 header over our ELF32 one and report some confusing layout error.
    let class = bytes[header::EI_CLASS];
    if class != header::ELFCLASS32 && class != header::ELFCLASS64 {
        return Err(LoadError::Malformed(format!("unknown ELF class {class}")));
    }
    let machine = bytes.get(18..20).ok_or_else(truncated_header)?;
    let machine = [machine[0], machine[1]];
    let machine = if big_endian { u16::from_be_bytes(machine) } else { u16::from_le_bytes(machine) };
    if class != header::ELFCLASS32 || machine != header::EM_MIPS {
        return Err(LoadError::WrongMachine { class, machine });
    }
    if bytes.len() < header::header32::SIZEOF_EHDR {
        return Err(truncated_header());
    }
    // Only the header and program headers: sections do not matter here, and
    // goblin's errors for a broken section table are not for users' eyes.
    let malformed = |e: goblin::error::Error| LoadError::Malformed(e.to_string());
    let hdr = Elf::parse_header(bytes).map_err(malformed)?;
    if hdr.e_type != header::ET_EXEC {
        return Err(LoadError::NotExecutable(hdr.e_type));
    }
    let phnum = hdr.e_phnum as usize;
    if phnum > 0 && hdr.e_phentsize as usize != SIZEOF_PHDR {
        return Err(LoadError::Malformed(format!("program header size {} is not {SIZEOF_PHDR}", hdr.e_phentsize)));
    }
    let phoff = usize::try_from(hdr.e_phoff).unwrap_or(usize::MAX);
    if phnum * SIZEOF_PHDR > bytes.len().saturating_sub(phoff) {
        return Err(LoadError::Malformed("the program headers run past the end of the file".into()));
    }
    let endian = if big_endian { Endian::Big } else { Endian::Little };
    let phdrs = ProgramHeader::parse(bytes, phoff, phnum, Ctx::new(Container::Little, endian)).map_err(malformed)?;
    let entry = hdr.e_entry as u32;
    let mut phys_end = 0;
    let mut entry_ok = false;
    let mut any = false;
    for ph in phdrs.iter().filter(|p| p.p_type == PT_LOAD) {
        let (vaddr, memsz, filesz) = (ph.p_vaddr as u32, ph.p_memsz, ph.p_filesz);
        let outside = LoadError::SegmentOutsideRam { vaddr, size: memsz as u32 };
        let pa = kseg_to_phys(vaddr).ok_or(outside.clone())?;
        if filesz > memsz || pa + memsz > ram_size || (vaddr as u64) + memsz > 0xc000_0000 {
            return Err(outside);
        }
        let data = usize::try_from(ph.p_offset)
            .ok()
            .and_then(|off| bytes.get(off..off.checked_add(filesz as usize)?))
            .ok_or_else(|| LoadError::Malformed(format!("segment at {vaddr:#010x} runs past the end of the file")))?;
        let io = |e: softmmu::PhysMapError| LoadError::Malformed(e.to_string());
        mem.write_bytes(pa, data).map_err(io)?;
        mem.write_bytes(pa + filesz, &vec![0; (memsz - filesz) as usize]).map_err(io)?;
        entry_ok |= (vaddr as u64..vaddr as u64 + memsz).contains(&(entry as u64));
        phys_end = phys_end.max(pa + memsz);
        any = true;
    }
    if !any {
        return Err(LoadError::NoSegments);
    }
    if !entry_ok {
        return Err(LoadError::EntryOutside(entry));
    }
    Ok(LoadedImage { entry, big_endian, phys_end })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAM: u64 = 1 << 20;
    const BASE: u32 = 0x8001_0000;

    /// A minimal ELF32 MIPS image: header, one program header per segment
    /// `(p_type, vaddr, file words, memsz)`, then the segments' data.
    /// (tests/all/cli.rs has a twin of this for the command line.)
    struct Spec {
        big_endian: bool,
        class: u8,
        e_type: u16,
        machine: u16,
        entry: u32,
        segs: Vec<(u32, u32, Vec<u32>, u32)>,
    }

    impl Spec {
        fn exec() -> Self {
            let seg = (PT_LOAD, BASE, vec![0x1000_ffff, 0], 16);
            Spec { big_endian: false, class: 1, e_type: 2, machine: 8, entry: BASE, segs: vec![seg] }
        }

        fn bytes(&self) -> Vec<u8> {
            let be = self.big_endian;
            let h = |b: &mut Vec<u8>, v: u16| b.extend(if be { v.to_be_bytes() } else { v.to_le_bytes() });
            let w = |b: &mut Vec<u8>, v: u32| b.extend(if be { v.to_be_bytes() } else { v.to_le_bytes() });
            let mut b = b"\x7fELF".to_vec();
            b.extend([self.class, if be { 2 } else { 1 }, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            h(&mut b, self.e_type);
            h(&mut b, self.machine);
            for v in [1, self.entry, 52, 0, 0] {
                w(&mut b, v); // e_version, e_entry, e_phoff, e_shoff, e_flags
            }
            for v in [52, 32, self.segs.len() as u16, 40, 0, 0] {
                h(&mut b, v);
            }
            let mut offset = 52 + 32 * self.segs.len() as u32;
            for (p_type, vaddr, words, memsz) in &self.segs {
                let filesz = 4 * words.len() as u32;
                for v in [*p_type, offset, *vaddr, vaddr & 0x1fff_ffff, filesz, *memsz, 7, 4] {
                    w(&mut b, v);
                }
                offset += filesz;
            }
            self.segs.iter().flat_map(|s| &s.2).for_each(|&v| w(&mut b, v));
            b
        }
    }

    fn load(bytes: &[u8]) -> Result<LoadedImage, LoadError> {
        let mut mem = PhysMap::default();
        mem.add_ram(0, RAM as usize, true).unwrap();
        load_elf(bytes, &mut mem, RAM)
    }

    fn malformed(bytes: &[u8]) -> String {
        match load(bytes) {
            Err(LoadError::Malformed(why)) => why,
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn loads_both_byte_orders() {
        for big_endian in [false, true] {
            let spec = Spec { big_endian, ..Spec::exec() };
            let mut mem = PhysMap::default();
            mem.add_ram(0, RAM as usize, true).unwrap();
            mem.write_bytes(0x1_0008, &[0xff; 8]).unwrap();
            let image = load_elf(&spec.bytes(), &mut mem, RAM).unwrap();
            assert_eq!(image, LoadedImage { entry: BASE, big_endian, phys_end: 0x1_0010 });
            let mut got = [0; 16];
            mem.read_bytes(0x1_0000, &mut got).unwrap();
            let first = if big_endian { 0x1000_ffffu32.to_be_bytes() } else { 0x1000_ffffu32.to_le_bytes() };
            assert_eq!(got[..4], first);
            assert_eq!(got[4..], [0; 12], "the rest up to p_memsz is zeroed");
        }
    }

    #[test]
    fn not_elf() {
        for bytes in [&b""[..], b"\x7fEL", b"#!/bin/sh\n", b"MZ\x90\x00\x03\x00\x00\x00"] {
            assert_eq!(load(bytes), Err(LoadError::NotElf));
            assert_eq!(elf_big_endian(bytes), Err(LoadError::NotElf));
        }
    }

    #[test]
    fn truncated() {
        let full = Spec::exec().bytes();
        for len in [4, 6, 16, 19, 30, 51] {
            assert!(malformed(&full[..len]).contains("ELF header"), "{len} bytes");
        }
        assert!(malformed(&full[..52 + 16]).contains("program headers run past the end"));
        assert!(malformed(&full[..full.len() - 2]).contains("segment at 0x80010000 runs past the end"));
        let mut huge = full.clone();
        huge[44..46].copy_from_slice(&0xffffu16.to_le_bytes()); // e_phnum
        assert!(malformed(&huge).contains("program headers run past the end"));
        let mut far = full.clone();
        far[28..32].copy_from_slice(&0xffff_fff0u32.to_le_bytes()); // e_phoff
        assert!(malformed(&far).contains("program headers run past the end"));
        let mut odd = full.clone();
        odd[42..44].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
        assert!(malformed(&odd).contains("program header size 56"));
    }

    #[test]
    fn section_headers_are_not_read() {
        let mut bytes = Spec::exec().bytes();
        bytes[32..36].copy_from_slice(&0x7fff_0000u32.to_le_bytes()); // e_shoff
        bytes[48..50].copy_from_slice(&9u16.to_le_bytes()); // e_shnum
        assert!(load(&bytes).is_ok());
    }

    #[test]
    fn bad_ident() {
        let mut bytes = Spec::exec().bytes();
        bytes[header::EI_DATA] = 3;
        assert!(malformed(&bytes).contains("byte order"));
        let mut bytes = Spec::exec().bytes();
        bytes[header::EI_CLASS] = 0;
        assert!(malformed(&bytes).contains("class"));
    }

    #[test]
    fn wrong_machine() {
        let elf64 = Spec { class: 2, ..Spec::exec() }.bytes();
        assert_eq!(load(&elf64), Err(LoadError::WrongMachine { class: 2, machine: 8 }));
        let x86 = Spec { machine: 62, ..Spec::exec() }.bytes();
        assert_eq!(load(&x86), Err(LoadError::WrongMachine { class: 1, machine: 62 }));
        let x86_be = Spec { machine: 62, big_endian: true, ..Spec::exec() }.bytes();
        assert_eq!(load(&x86_be), Err(LoadError::WrongMachine { class: 1, machine: 62 }));
    }

    #[test]
    fn not_executable() {
        for e_type in [0, 1, 3, 4] {
            assert_eq!(load(&Spec { e_type, ..Spec::exec() }.bytes()), Err(LoadError::NotExecutable(e_type)));
        }
    }

    #[test]
    fn no_segments() {
        assert_eq!(load(&Spec { segs: vec![], ..Spec::exec() }.bytes()), Err(LoadError::NoSegments));
        let mut spec = Spec::exec();
        spec.segs[0].0 = 4; // PT_NOTE
        assert_eq!(load(&spec.bytes()), Err(LoadError::NoSegments));
    }

    #[test]
    fn segment_outside_ram() {
        let at = |vaddr: u32, memsz: u32| {
            let mut spec = Spec { entry: vaddr, ..Spec::exec() };
            spec.segs[0].1 = vaddr;
            spec.segs[0].3 = memsz;
            load(&spec.bytes())
        };
        let outside = |vaddr, size| Err(LoadError::SegmentOutsideRam { vaddr, size });
        assert_eq!(at(0x0040_0000, 16), outside(0x0040_0000, 16)); // kuseg
        assert_eq!(at(0xc000_0000, 16), outside(0xc000_0000, 16)); // kseg2
        assert_eq!(at(0x9f00_0000, 16), outside(0x9f00_0000, 16)); // kseg0, past RAM
        assert_eq!(at(0x800f_fff8, 16), outside(0x800f_fff8, 16)); // straddles the end of RAM
        assert_eq!(at(0x8001_0000, 4), outside(0x8001_0000, 4)); // p_filesz > p_memsz
        assert!(at(0xa001_0000, 16).is_ok(), "kseg1 is fine");
    }

    #[test]
    fn entry_outside() {
        for entry in [0, BASE - 4, BASE + 16, 0xbfc0_0000] {
            assert_eq!(load(&Spec { entry, ..Spec::exec() }.bytes()), Err(LoadError::EntryOutside(entry)));
        }
    }

    #[test]
    fn messages_are_one_line() {
        let errors = [
            LoadError::NotElf,
            LoadError::Malformed(malformed(&Spec::exec().bytes()[..60])),
            LoadError::WrongMachine { class: 2, machine: 62 },
            LoadError::NotExecutable(3),
            LoadError::NoSegments,
            LoadError::SegmentOutsideRam { vaddr: 0x0040_0000, size: 16 },
            LoadError::EntryOutside(0),
        ];
        for e in errors {
            let msg = e.to_string();
            assert!(!msg.is_empty() && !msg.contains('\n'), "{msg:?}");
        }
    }
}
