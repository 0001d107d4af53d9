//! Loading guest ELF images into guest physical memory.

use goblin::elf::{Elf, header, program_header::PT_LOAD};
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
    if bytes.len() < 6 || &bytes[..4] != b"\x7fELF" {
        return Err(LoadError::NotElf);
    }
    match bytes[header::EI_DATA] {
        header::ELFDATA2LSB => Ok(false),
        header::ELFDATA2MSB => Ok(true),
        d => Err(LoadError::Malformed(format!("unknown byte order {d}"))),
    }
}

/// kseg0/kseg1 virtual address to physical, as QEMU's Malta loader does.
fn kseg_to_phys(vaddr: u32) -> Option<u64> {
    (0x8000_0000..=0xbfff_ffff).contains(&vaddr).then_some((vaddr & 0x1fff_ffff) as u64)
}

/// Loads every PT_LOAD segment of `bytes` into `mem` (RAM of `ram_size`
/// bytes at physical 0), zero-filling up to `p_memsz`.
pub fn load_elf(bytes: &[u8], mem: &mut PhysMap, ram_size: u64) -> Result<LoadedImage, LoadError> {
    let big_endian = elf_big_endian(bytes)?;
    let elf = Elf::parse(bytes).map_err(|e| LoadError::Malformed(e.to_string()))?;
    let machine = elf.header.e_machine;
    if elf.is_64 || machine != header::EM_MIPS {
        return Err(LoadError::WrongMachine { class: bytes[header::EI_CLASS], machine });
    }
    if elf.header.e_type != header::ET_EXEC {
        return Err(LoadError::NotExecutable(elf.header.e_type));
    }
    let entry = elf.entry as u32;
    let mut phys_end = 0;
    let mut entry_ok = false;
    let mut any = false;
    for ph in elf.program_headers.iter().filter(|p| p.p_type == PT_LOAD) {
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
