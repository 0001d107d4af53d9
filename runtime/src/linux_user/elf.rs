//! Loading the program: ELF segments (of the program and of its
//! interpreter, `ld.so`), and the initial stack with argv, envp and the
//! auxiliary vector as Linux builds them.

use super::*;

const ET_EXEC: u32 = 2;
const ET_DYN: u32 = 3;
const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_PHDR: u32 = 6;

/// Where a position-independent program goes: Linux's `ELF_ET_DYN_BASE`
/// for MIPS (two thirds of the user address space), page-aligned.
const PIE_BASE: u32 = 0x5555_4000;

/// One PT_LOAD segment, as the file describes it.
#[derive(Debug, Clone, Copy)]
struct Segment {
    offset: u32,
    vaddr: u32,
    filesz: u32,
    memsz: u32,
    /// `p_flags` as `mmap` protection bits (read 1, write 2, exec 4).
    prot: u32,
}

/// A parsed (not yet loaded) o32 little-endian MIPS executable.
#[derive(Debug)]
pub(super) struct Elf {
    /// ET_DYN: position-independent, loaded at a base of our choosing.
    dynamic: bool,
    entry: u32,
    phoff: u32,
    phnum: u32,
    phdr: Option<u32>,
    segs: Vec<Segment>,
    /// The program interpreter's path (PT_INTERP), without its NUL.
    pub(super) interp: Option<Vec<u8>>,
}

/// A loaded ELF: what the stack, the auxiliary vector and `brk` need.
#[derive(Debug, Clone, Copy)]
pub(super) struct Image {
    /// The load bias: where vaddr 0 of the file went (0 for ET_EXEC).
    pub(super) base: u32,
    pub(super) entry: u32,
    pub(super) phdr: u32,
    pub(super) phnum: u32,
    /// The end of the highest segment.
    pub(super) end: u32,
}

fn u16_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u16::from_le_bytes(b.get(off..off.checked_add(2)?)?.try_into().ok()?) as u32)
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(off..off.checked_add(4)?)?.try_into().ok()?))
}

impl Elf {
    /// Parses the header and program headers; never panics on bad input.
    pub(super) fn parse(bytes: &[u8]) -> Result<Elf, String> {
        let bad = || "malformed ELF (truncated or inconsistent headers)".to_string();
        if !bytes.starts_with(b"\x7fELF") {
            return Err("not an ELF file".into());
        }
        if bytes.len() < 52 {
            return Err(bad());
        }
        if bytes[4] != 1 || bytes[5] != 1 || u16_at(bytes, 18) != Some(8) {
            return Err("not a 32-bit little-endian MIPS ELF".into());
        }
        let dynamic = match u16_at(bytes, 16) {
            Some(ET_EXEC) => false,
            Some(ET_DYN) => true,
            _ => return Err("not an executable (ET_EXEC or ET_DYN)".into()),
        };
        let entry = u32_at(bytes, 24).ok_or_else(bad)?;
        let phoff = u32_at(bytes, 28).ok_or_else(bad)?;
        let phentsize = u16_at(bytes, 42).ok_or_else(bad)?;
        let phnum = u16_at(bytes, 44).ok_or_else(bad)?;
        if phentsize != 32 {
            return Err(bad());
        }
        let mut elf = Elf { dynamic, entry, phoff, phnum, phdr: None, segs: Vec::new(), interp: None };
        for i in 0..phnum as usize {
            let at = (phoff as usize).checked_add(32 * i).ok_or_else(bad)?;
            let f = |k: usize| u32_at(bytes, at + 4 * k).ok_or_else(bad);
            let (ty, offset, vaddr, filesz, memsz, flags) = (f(0)?, f(1)?, f(2)?, f(4)?, f(5)?, f(6)?);
            let data = || bytes.get(offset as usize..offset as usize + filesz as usize).ok_or_else(bad);
            match ty {
                PT_LOAD => {
                    data()?;
                    if filesz > memsz || vaddr.checked_add(memsz).is_none() {
                        return Err(bad());
                    }
                    // PF_X 1, PF_W 2, PF_R 4: the reverse of PROT_*.
                    let prot = (flags & 4) >> 2 | (flags & 2) | (flags & 1) << 2;
                    elf.segs.push(Segment { offset, vaddr, filesz, memsz, prot });
                }
                PT_INTERP => {
                    let path = data()?;
                    let path = path.split(|&b| b == 0).next().unwrap_or_default();
                    if path.is_empty() {
                        return Err(bad());
                    }
                    elf.interp = Some(path.to_vec());
                }
                PT_PHDR => elf.phdr = Some(vaddr),
                _ => {}
            }
        }
        if elf.segs.is_empty() {
            return Err("no loadable segments".into());
        }
        Ok(elf)
    }

    /// The page-aligned span `[lo, hi)` the segments cover, as linked.
    fn span(&self) -> (u64, u64) {
        let lo = self.segs.iter().map(|s| s.vaddr & !(PAGE - 1)).min().unwrap_or(0);
        let hi = self.segs.iter().map(|s| (s.vaddr as u64 + s.memsz as u64).next_multiple_of(PAGE as u64)).max();
        (lo as u64, hi.unwrap_or(0))
    }
}

impl Process {
    /// Starts the program `exe` (whose file is `bytes`) in this process,
    /// whose memory must be empty: loads it and its interpreter, builds the
    /// stack, and points pc at the first instruction to run.
    pub(super) fn exec(&mut self, exe: &Elf, bytes: &[u8], argv: &[Vec<u8>], env: &[Vec<u8>]) -> Result<(), String> {
        self.maps.insert(STACK_TOP - STACK_SIZE, STACK_TOP);
        self.set_pages(STACK_TOP - STACK_SIZE, STACK_TOP, mm::DATA_PAGE);
        let image = self.load_elf(exe, bytes, false)?;
        self.brk_start = image.end.next_multiple_of(PAGE);
        self.brk = self.brk_start;
        let interp = match &exe.interp {
            None => None,
            Some(path) => {
                let host = self.host_path(path);
                let shown = String::from_utf8_lossy(path);
                let bytes = std::fs::read(&host).map_err(|e| {
                    let at = if host.as_os_str().as_bytes() == &path[..] {
                        String::new()
                    } else {
                        format!(" ({})", host.display())
                    };
                    format!("cannot read the program interpreter {shown}{at}: {e}")
                })?;
                let elf = Elf::parse(&bytes).map_err(|e| format!("the program interpreter {shown}: {e}"))?;
                if elf.interp.is_some() {
                    return Err(format!("the program interpreter {shown} wants an interpreter itself"));
                }
                Some(self.load_elf(&elf, &bytes, true)?)
            }
        };
        let sp = self
            .setup_stack(argv, env, &image, interp.map_or(0, |i| i.base))
            .ok_or("the arguments do not fit on the stack")?;
        let entry = interp.unwrap_or(image).entry;
        let cpu = &mut *self.machine.cpu;
        cpu.s.gpr[29] = sp;
        cpu.s.pc = entry;
        cpu.s.gpr[25] = entry;
        Ok(())
    }

    /// Loads `elf` (whose file is `bytes`). An ET_EXEC goes where it was
    /// linked; an ET_DYN goes at [`PIE_BASE`] if it is the program, or
    /// into free mmap space if it is the interpreter.
    pub(super) fn load_elf(&mut self, elf: &Elf, bytes: &[u8], interp: bool) -> Result<Image, String> {
        let (lo, hi) = elf.span();
        let size = u32::try_from(hi - lo).map_err(|_| "segments span more than 4 GiB".to_string())?;
        let base = match (elf.dynamic, interp) {
            (false, _) => 0,
            (true, false) => PIE_BASE.wrapping_sub(lo as u32),
            (true, true) => {
                let at = self.maps.find_free(size, self.mmap_floor(), MMAP_TOP).ok_or("no room for the interpreter")?;
                at.wrapping_sub(lo as u32)
            }
        };
        if base as u64 + hi > MMAP_TOP as u64 || (base as u64 + lo) < PAGE as u64 {
            return Err(format!(
                "segments at {:#x}..{:#x} are outside user memory",
                base as u64 + lo,
                base as u64 + hi
            ));
        }
        let mut end = 0;
        for s in &elf.segs {
            let at = base + s.vaddr;
            let data = &bytes[s.offset as usize..s.offset as usize + s.filesz as usize];
            self.fill_mem(at, data).map_err(|_| format!("segment at {at:#x} is outside user memory"))?;
            let top = at + s.memsz;
            self.maps.insert(at & !(PAGE - 1), top.next_multiple_of(PAGE));
            self.set_pages(at & !(PAGE - 1), top.next_multiple_of(PAGE), mm::perm_of(s.prot));
            end = end.max(top);
        }
        let phdr = match elf.phdr {
            Some(v) => base.wrapping_add(v),
            None => {
                let inside = |s: &&Segment| elf.phoff.checked_sub(s.offset).is_some_and(|d| d < s.filesz);
                let s = elf.segs.iter().find(inside);
                s.map_or(0, |s| base + s.vaddr + (elf.phoff - s.offset))
            }
        };
        Ok(Image { base, entry: base.wrapping_add(elf.entry), phdr, phnum: elf.phnum, end })
    }

    /// Builds argc, argv, envp and the auxiliary vector below
    /// [`STACK_TOP`]; returns the initial sp. `interp_base` is where the
    /// interpreter went (0 without one); `execfn` the program's name.
    pub(super) fn setup_stack(
        &mut self,
        argv: &[Vec<u8>],
        env: &[Vec<u8>],
        image: &Image,
        interp_base: u32,
    ) -> Option<u32> {
        let mut top = STACK_TOP;
        let mut push_str = |p: &mut Self, s: &[u8]| -> Option<u32> {
            top = top.checked_sub(s.len() as u32 + 1)?;
            let mut v = s.to_vec();
            v.push(0);
            p.write_mem(top, &v).ok()?;
            Some(top)
        };
        let execfn = push_str(self, argv.first()?)?;
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
        // In the order Linux's create_elf_tables writes them.
        let auxv = [
            (AT_HWCAP, 0),
            (AT_PAGESZ, PAGE),
            (AT_CLKTCK, 100),
            (AT_PHDR, image.phdr),
            (AT_PHENT, 32),
            (AT_PHNUM, image.phnum),
            (AT_BASE, interp_base),
            (AT_FLAGS, 0),
            (AT_ENTRY, image.entry),
            (AT_UID, uid),
            (AT_EUID, euid),
            (AT_GID, gid),
            (AT_EGID, egid),
            (AT_SECURE, 0),
            (AT_RANDOM, random_at),
            (AT_EXECFN, execfn),
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
