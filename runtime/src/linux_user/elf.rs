//! Loading the program: ELF segments, and the initial stack with argv,
//! envp and the auxiliary vector as Linux builds them.

use super::*;

/// A loaded ELF: what the stack and auxiliary vector need.
pub(super) struct Image {
    pub(super) entry: u32,
    pub(super) phdr: u32,
    pub(super) phnum: u32,
    pub(super) end: u32,
}

fn u16_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u16::from_le_bytes(b.get(off..off + 2)?.try_into().ok()?) as u32)
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

/// Loads the PT_LOAD segments of a static o32 little-endian ELF at their
/// virtual addresses.
pub(super) fn load(bytes: &[u8], phys: &mut PhysMap) -> Result<Image, String> {
    let bad = || "malformed ELF".to_string();
    if !bytes.starts_with(b"\x7fELF") || bytes.len() < 52 {
        return Err("not an ELF file".into());
    }
    if bytes[4] != 1 || bytes[5] != 1 || u16_at(bytes, 18) != Some(8) {
        return Err("not a 32-bit little-endian MIPS ELF".into());
    }
    let entry = u32_at(bytes, 24).ok_or_else(bad)?;
    let phoff = u32_at(bytes, 28).ok_or_else(bad)?;
    let phentsize = u16_at(bytes, 42).ok_or_else(bad)?;
    let phnum = u16_at(bytes, 44).ok_or_else(bad)?;
    if phentsize != 32 {
        return Err(bad());
    }
    let mut phdr = 0;
    let mut end = 0u32;
    let mut segs = Vec::new();
    for i in 0..phnum {
        let at = phoff as usize + 32 * i as usize;
        let f = |k: usize| u32_at(bytes, at + 4 * k).ok_or_else(bad);
        let (ty, offset, vaddr, filesz, memsz) = (f(0)?, f(1)?, f(2)?, f(4)?, f(5)?);
        match ty {
            3 => return Err("dynamic executables are not supported yet".into()),
            6 => phdr = vaddr,
            1 => segs.push((offset, vaddr, filesz, memsz)),
            _ => {}
        }
    }
    if u16_at(bytes, 16) != Some(2) {
        return Err("not a fixed-address executable (ET_EXEC): static non-PIE executables only".into());
    }
    for &(offset, vaddr, filesz, memsz) in &segs {
        let top = vaddr as u64 + memsz as u64;
        if filesz > memsz || top > MMAP_TOP as u64 {
            return Err(format!("segment at {vaddr:#x} is outside user memory"));
        }
        let data = bytes.get(offset as usize..offset as usize + filesz as usize).ok_or_else(bad)?;
        phys.write_bytes(vaddr as u64, data).map_err(|e| e.to_string())?;
        if phdr == 0 && (offset..offset + filesz).contains(&phoff) {
            phdr = vaddr + (phoff - offset);
        }
        end = end.max(top as u32);
    }
    if segs.is_empty() {
        return Err("no loadable segments".into());
    }
    Ok(Image { entry, phdr, phnum, end })
}

impl Process {
    /// Builds argc, argv, envp and the auxiliary vector below
    /// [`STACK_TOP`]; returns the initial sp.
    pub(super) fn setup_stack(&mut self, argv: &[Vec<u8>], env: &[Vec<u8>], image: &Image) -> Option<u32> {
        let mut top = STACK_TOP;
        let mut push_str = |p: &mut Self, s: &[u8]| -> Option<u32> {
            top = top.checked_sub(s.len() as u32 + 1)?;
            let mut v = s.to_vec();
            v.push(0);
            p.write_mem(top, &v).ok()?;
            Some(top)
        };
        let arg_ptrs: Vec<u32> = argv.iter().map(|a| push_str(self, a)).collect::<Option<_>>()?;
        let env_ptrs: Vec<u32> = env.iter().map(|e| push_str(self, e)).collect::<Option<_>>()?;
        let mut random = [0u8; 16];
        // SAFETY: `random` is a writable buffer of its length.
        let got = unsafe { libc::getrandom(random.as_mut_ptr().cast(), 16, 0) };
        if got != 16 {
            random = *b"mipsjit-random!!";
        }
        let random_at = (top & !15).checked_sub(16)?;
        self.write_mem(random_at, &random).ok()?;
        // SAFETY: plain host calls without arguments.
        let (uid, euid, gid, egid) = unsafe { (libc::getuid(), libc::geteuid(), libc::getgid(), libc::getegid()) };
        let auxv = [
            (AT_PHDR, image.phdr),
            (AT_PHENT, 32),
            (AT_PHNUM, image.phnum),
            (AT_PAGESZ, PAGE),
            (AT_ENTRY, image.entry),
            (AT_UID, uid),
            (AT_EUID, euid),
            (AT_GID, gid),
            (AT_EGID, egid),
            (AT_RANDOM, random_at),
            (AT_HWCAP, 0),
            (AT_CLKTCK, 100),
            (AT_SECURE, 0),
            (AT_NULL, 0),
        ];
        let mut words = vec![argv.len() as u32];
        words.extend(&arg_ptrs);
        words.push(0);
        words.extend(&env_ptrs);
        words.push(0);
        for (k, v) in auxv {
            words.extend([k, v]);
        }
        let sp = random_at.checked_sub(4 * words.len() as u32)? & !15;
        if sp < STACK_TOP - STACK_SIZE {
            return None;
        }
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.write_mem(sp, &bytes).ok()?;
        Some(sp)
    }
}
