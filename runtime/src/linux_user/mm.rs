//! Memory system calls: `brk`, `mmap`, `munmap`, `mprotect`, `mremap`.
//!
//! Guest memory is always backed, so these keep [`Mappings`], the
//! contents and the permissions right: a new mapping reads as zero (or as
//! its file, copied in; `shared.rs` makes `MAP_SHARED` ones shared), and
//! `munmap` zeroes what it unmaps, so freed space can be handed out again.
//! Each page's permissions are in [`Cpu::user_pages`], which the
//! interpreter and the emulator's own accesses check; the host protects
//! the guest's memory the same way ([`Process::set_pages`]), which is how
//! translated code, going straight to memory, faults where the guest's
//! access would. Contents change through [`Process::fill_mem`], which
//! drops translated code of the pages it writes.

use super::*;

const MAP_TYPE: u32 = 0xf;
/// MAP_SHARED and MAP_SHARED_VALIDATE (which checks the flags; all those
/// mipsjit knows are fine).
const MAP_SHARED: u32 = 0x1;
const MAP_SHARED_VALIDATE: u32 = 0x3;
const MAP_FIXED: u32 = 0x10;
const MAP_ANONYMOUS: u32 = 0x800;
const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;
const MREMAP_MAYMOVE: u32 = 1;
const MREMAP_FIXED: u32 = 2;
const PROT_ALL: u32 = 0x7 | 0x0100_0000 | 0x0200_0000; // rwx, GROWSDOWN, GROWSUP
const EEXIST: i32 = 17;

/// The page-aligned size of `len` bytes, or ENOMEM when that wraps.
fn page_size_of(len: u32) -> Result<u32, i32> {
    len.checked_next_multiple_of(PAGE).ok_or(ENOMEM)
}

/// `[addr, addr + len)` rounded out to pages, if it is inside user memory
/// and `addr` is page-aligned.
fn user_range(addr: u32, len: u32) -> Result<(u32, u32), i32> {
    let size = page_size_of(len)?;
    if !addr.is_multiple_of(PAGE) || addr as u64 + size as u64 > MEM_SIZE {
        return Err(EINVAL);
    }
    Ok((addr, addr + size))
}

/// The [`page_perm`] bits of a mapping with protection `prot` (MIPS32
/// without RI/XI: any access right includes reading).
pub(super) const fn perm_of(prot: u32) -> u8 {
    let read = if prot & 7 != 0 { page_perm::READ } else { 0 };
    let write = if prot & 2 != 0 { page_perm::WRITE } else { 0 };
    page_perm::MAPPED | read | write
}

/// A data page's permissions (`PROT_READ | PROT_WRITE`): stack, heap.
pub(super) const DATA_PAGE: u8 = perm_of(3);
/// A code page's (`PROT_READ | PROT_EXEC`): the signal trampoline.
pub(super) const CODE_PAGE: u8 = perm_of(5);

/// The runs of equal bytes in `perms`: (first index, end index, byte).
fn runs(perms: &[u8]) -> impl Iterator<Item = (usize, usize, u8)> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        let &p = perms.get(start)?;
        let end = perms[start..].iter().position(|&q| q != p).map_or(perms.len(), |n| start + n);
        let run = (start, end, p);
        start = end;
        Some(run)
    })
}

/// The host protection for pages of [`page_perm`] bits `p`.
fn host_prot(p: u8) -> i32 {
    match (p & page_perm::READ != 0, p & page_perm::WRITE != 0) {
        (_, true) => libc::PROT_READ | libc::PROT_WRITE,
        (true, false) => libc::PROT_READ,
        (false, false) => libc::PROT_NONE,
    }
}

impl Process {
    /// Sets the permissions of the pages of `[start, end)` (page-aligned)
    /// to `p`, for the guest and in the host. Code on pages the guest can
    /// no longer read is dropped; so are soft-TLB entries (which may allow
    /// what is now forbidden).
    pub(super) fn set_pages(&mut self, start: u32, end: u32, p: u8) {
        let (first, last) = (start as usize >> 12, end as usize >> 12);
        let pages = &mut self.machine.cpu.user_pages;
        if start >= end || last > pages.len() {
            return;
        }
        pages[first..last].fill(p);
        self.host_protect(start, end, p);
        self.machine.cpu.flush_mapped();
        if p & page_perm::READ == 0 {
            self.machine.cpu.code_written(start >> 12, (end - 1) >> 12);
        }
    }

    /// [`set_pages`](Self::set_pages) for the pages from `start` on, one
    /// permission byte each, a run of equal ones at a time.
    fn set_page_runs(&mut self, start: u32, perms: &[u8]) {
        for (s, e, p) in runs(perms) {
            self.set_pages(start + s as u32 * PAGE, start + e as u32 * PAGE, p);
        }
    }

    /// Gives the host protection `p` to the guest pages `[start, end)`,
    /// when the host protects guest memory at all.
    pub(super) fn host_protect(&self, start: u32, end: u32, p: u8) {
        let Some(base) = self.host_base else { return };
        // SAFETY: `[base + start, base + end)` is inside the guest memory
        // mapping (end <= MEM_SIZE, page-aligned); changing its protection
        // affects only guest accesses, which all check `user_pages` first
        // except translated code, whose faults the JIT catches.
        unsafe { libc::mprotect((base + start as usize) as *mut libc::c_void, (end - start) as usize, host_prot(p)) };
    }

    /// Lets the host (the emulator itself) read and write the pages of
    /// `[addr, addr + len)` whatever the guest may do there, until
    /// [`close_host`](Self::close_host).
    pub(super) fn open_host(&self, addr: u32, len: usize) {
        if len > 0 {
            let (start, end) = (addr & !(PAGE - 1), (addr as u64 + len as u64).next_multiple_of(PAGE as u64) as u32);
            self.host_protect(start, end, page_perm::READ | page_perm::WRITE);
        }
    }

    /// Gives the pages [`open_host`](Self::open_host) opened back their
    /// guest permissions.
    pub(super) fn close_host(&self, addr: u32, len: usize) {
        if self.host_base.is_none() || len == 0 {
            return;
        }
        let (first, end) = (addr as usize >> 12, ((addr as usize + len - 1) >> 12) + 1);
        for (s, e, p) in runs(&self.machine.cpu.user_pages[first..end]) {
            self.host_protect(((first + s) << 12) as u32, ((first + e) << 12) as u32, p);
        }
    }

    /// The lowest address `mmap` hands out without a hint: 1 MiB above the
    /// break, so the heap has room to grow.
    pub(super) fn mmap_floor(&self) -> u32 {
        self.brk.next_multiple_of(PAGE).saturating_add(1 << 20).max(1 << 16)
    }

    pub(super) fn brk(&mut self, want: u32) -> u32 {
        let (old_end, new_end) = (self.brk.next_multiple_of(PAGE), want.checked_next_multiple_of(PAGE));
        let Some(new_end) = new_end.filter(|_| want >= self.brk_start) else { return self.brk };
        if new_end > old_end {
            if new_end > MMAP_TOP || !self.maps.is_free(old_end, new_end) {
                return self.brk;
            }
            self.maps.insert(old_end, new_end);
            self.set_pages(old_end, new_end, DATA_PAGE);
        } else if new_end < old_end && self.unmap(new_end, old_end).is_err() {
            return self.brk;
        }
        self.brk = want;
        self.brk
    }

    pub(super) fn mmap(&mut self, addr: u32, len: u32, prot: u32, flags: u32, fd: i32, off: u64) -> SysResult {
        if len == 0 || flags & MAP_TYPE == 0 || prot & !PROT_ALL != 0 || !off.is_multiple_of(PAGE as u64) {
            return Err(EINVAL);
        }
        let size = page_size_of(len)?;
        let at = if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
            let (start, end) = user_range(addr, size)?;
            if flags & MAP_FIXED == 0 && !self.maps.is_free(start, end) {
                return Err(EEXIST);
            }
            start
        } else {
            let hint_ok = addr != 0
                && user_range(addr, size).is_ok_and(|(s, e)| e <= MMAP_TOP && s >= PAGE && self.maps.is_free(s, e));
            if hint_ok { addr } else { self.maps.find_free(size, self.mmap_floor(), MMAP_TOP).ok_or(ENOMEM)? }
        };
        let shared = matches!(flags & MAP_TYPE, MAP_SHARED | MAP_SHARED_VALIDATE);
        if flags & MAP_ANONYMOUS == 0 {
            // SAFETY: a host call with integer arguments only.
            let read_only = unsafe { libc::fcntl(fd, libc::F_GETFL) } & libc::O_ACCMODE == libc::O_RDONLY;
            if shared && prot & 2 != 0 && read_only {
                return Err(syscalls::mips_errno(libc::EACCES));
            }
            // A file open for writing is mapped for real (see `shared.rs`),
            // where the host maps it so: a regular file, checked first so
            // that a bad descriptor leaves memory as it was.
            // SAFETY: an all-zero stat is valid; fstat fills it.
            let mut st: libc::stat = unsafe { std::mem::zeroed() };
            // SAFETY: `st` is a valid stat to fill.
            let regular = unsafe { libc::fstat(fd, &mut st) } == 0 && st.st_mode & libc::S_IFMT == libc::S_IFREG;
            let mapped = shared && !read_only && regular && {
                self.unmap(at, at + size)?;
                self.share_file_mapped(at, at + size, fd, off).is_ok()
            };
            if !mapped {
                // Read the file first: a bad descriptor must leave memory as it was.
                let data = self.read_file(fd, off, len)?;
                self.unmap(at, at + size)?;
                self.fill_mem(at, &data)?;
                // A file open only for reading is never written through its
                // mapping (refused above), so nothing goes back to it and no
                // descriptor is kept (which the guest would see in
                // /proc/self/fd): glibc maps its gconv cache so.
                if shared && !read_only {
                    self.share_file(at, at + size, fd, off, data)?;
                }
            }
        } else {
            self.unmap(at, at + size)?;
            if shared {
                self.share_anonymous(at, at + size)?;
            }
        }
        self.maps.insert(at, at + size);
        self.set_pages(at, at + size, perm_of(prot));
        Ok(at)
    }

    /// Up to `len` bytes of the file `fd` from `off` (fewer at its end).
    fn read_file(&self, fd: i32, off: u64, len: u32) -> Result<Vec<u8>, i32> {
        let off = i64::try_from(off).map_err(|_| EINVAL)?;
        let mut data = vec![0u8; len as usize];
        let mut done = 0usize;
        while done < data.len() {
            let want = (data.len() - done).min(CHUNK);
            // SAFETY: `data[done..]` is a writable buffer of at least `want` bytes.
            let n = unsafe { libc::pread(fd, data[done..].as_mut_ptr().cast(), want, off + done as i64) };
            match n {
                n if n < 0 => {
                    let e = std::io::Error::last_os_error().raw_os_error();
                    return Err(if e == Some(libc::EISDIR) { 19 } else { mips_errno(e.unwrap_or(libc::EIO)) });
                }
                0 => break,
                n => done += n as usize,
            }
        }
        data.truncate(done);
        Ok(data)
    }

    pub(super) fn munmap(&mut self, addr: u32, len: u32) -> SysResult {
        if len == 0 {
            return Err(EINVAL);
        }
        let (start, end) = user_range(addr, len)?;
        self.unmap(start, end)?;
        Ok(0)
    }

    /// Zeroes the mapped pages of `[start, end)` and forgets them (shared
    /// file pages are written back first).
    pub(super) fn unmap(&mut self, start: u32, end: u32) -> Result<(), i32> {
        self.unshare(start, end)?;
        for (s, e) in self.maps.overlapping(start, end) {
            self.zero_mem(s, e - s)?;
        }
        self.maps.remove(start, end);
        self.set_pages(start, end, 0);
        Ok(())
    }

    /// The host address of guest RAM's page-aligned range `[start, end)`,
    /// if every page of it is mapped (else ENOMEM, as Linux says for
    /// `mlock` and `mincore`).
    fn mapped_host_range(&mut self, start: u32, end: u64) -> Result<*mut libc::c_void, i32> {
        if end > MEM_SIZE {
            return Err(ENOMEM);
        }
        let end = end as u32;
        let covered: u64 =
            self.maps.overlapping(start, end).iter().map(|&(s, e)| (e.min(end) - s.max(start)) as u64).sum();
        if covered != (end - start) as u64 {
            return Err(ENOMEM);
        }
        let (base, _, _) = self.phys().ram_region(0).ok_or(ENOMEM)?;
        Ok(base.wrapping_add(start as usize).cast())
    }

    /// `mlock` (`lock`: `Some(0)`), `mlock2` (`Some(flags)`; MLOCK_ONFAULT,
    /// the only flag, goes on to the host so that untouched pages stay
    /// out) and `munlock` (`None`) of the guest pages `[addr, addr + len)`.
    pub(super) fn mlock(&mut self, addr: u32, len: u32, lock: Option<u32>) -> SysResult {
        if lock.is_some_and(|flags| flags & !1 != 0) {
            return Err(libc::EINVAL);
        }
        let start = addr & !(PAGE - 1);
        let end = (addr as u64 + len as u64).next_multiple_of(PAGE as u64);
        let p = self.mapped_host_range(start, end)?;
        let n = (end - start as u64) as usize;
        // SAFETY: `[p, p + n)` is guest RAM, mapped in the host; locking
        // changes no contents.
        syscalls::check(unsafe {
            match lock {
                Some(flags) => libc::syscall(libc::SYS_mlock2, p, n, flags),
                None => libc::munlock(p, n) as i64,
            }
        })
    }

    /// `mlockall(flags)`: Linux's checks of the flags and of the right to
    /// lock (EPERM with a zero RLIMIT_MEMLOCK, unless root), then nothing:
    /// locking all of mipsjit's mappings would pin its reservations and
    /// code, as qemu-mipsel's pass-through does. `munlockall` is then 0.
    pub(super) fn mlockall(&mut self, flags: u32) -> SysResult {
        const MCL_CURRENT: u32 = 1;
        const MCL_FUTURE: u32 = 2;
        const MCL_ONFAULT: u32 = 4;
        if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT {
            return Err(EINVAL);
        }
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: a valid rlimit to fill; geteuid has no arguments.
        let may = unsafe {
            libc::getrlimit(libc::RLIMIT_MEMLOCK, &mut lim) == 0 && lim.rlim_cur != 0 || libc::geteuid() == 0
        };
        if !may {
            return Err(libc::EPERM);
        }
        Ok(0)
    }

    /// `mincore(addr, len, vec)`: one byte per page, whether the host has
    /// it in memory.
    pub(super) fn mincore(&mut self, addr: u32, len: u32, vec: u32) -> SysResult {
        if addr & (PAGE - 1) != 0 {
            return Err(EINVAL);
        }
        let end = (addr as u64 + len as u64).next_multiple_of(PAGE as u64);
        let p = self.mapped_host_range(addr, end)?;
        let pages = ((end - addr as u64) / PAGE as u64) as usize;
        let mut out = vec![0u8; pages];
        // SAFETY: `[p, p + pages pages)` is mapped guest RAM; `out` has
        // room for one byte per page.
        syscalls::check(unsafe { libc::mincore(p, pages * PAGE as usize, out.as_mut_ptr()) } as i64)?;
        self.write_mem(vec, &out)?;
        Ok(0)
    }

    pub(super) fn mprotect(&mut self, addr: u32, len: u32, prot: u32) -> SysResult {
        if prot & !PROT_ALL != 0 || prot & 0x0300_0000 == 0x0300_0000 {
            return Err(EINVAL);
        }
        let (start, end) = user_range(addr, len).map_err(|e| if addr.is_multiple_of(PAGE) { ENOMEM } else { e })?;
        // Linux fails on a hole.
        if self.maps.overlapping(start, end).iter().map(|(s, e)| e - s).sum::<u32>() != end - start {
            return Err(ENOMEM);
        }
        self.set_pages(start, end, perm_of(prot));
        Ok(0)
    }

    pub(super) fn mremap(&mut self, old: u32, old_len: u32, new_len: u32, flags: u32, new_addr: u32) -> SysResult {
        if flags & !(MREMAP_MAYMOVE | MREMAP_FIXED) != 0
            || (flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0)
            || new_len == 0
        {
            return Err(EINVAL);
        }
        let (old_start, old_end) = user_range(old, old_len)?;
        let new_size = page_size_of(new_len)?;
        let old_size = old_end - old_start;
        if self.maps.end_of(old_start).is_none_or(|e| e < old_end) {
            return Err(EFAULT);
        }
        // The pages keep their permissions; new ones get the last page's.
        let perms =
            self.machine.cpu.user_pages.get(old_start as usize >> 12..old_end as usize >> 12).map(<[u8]>::to_vec);
        let last_perm = perms.as_ref().and_then(|p| p.last().copied()).unwrap_or(DATA_PAGE);
        // Memory shared with other processes moves as the host's mapping,
        // and stays shared; the rest is copied.
        let shared = self.host_shared_whole(old_start, old_end);
        let move_to = |p: &mut Self, to: u32| -> SysResult {
            if shared && to == old_start {
                // Grown in place: the old range stays inside the new one.
                p.move_shared(old_start, old_size, to, new_size)?;
            } else if shared {
                p.unmap(to, to + new_size)?;
                // The vacated pages are private and zero already (not
                // `unmap`, which would zero them again, page by page).
                p.move_shared(old_start, old_size, to, new_size)?;
                p.maps.remove(old_start, old_end);
                p.set_pages(old_start, old_end, 0);
            } else {
                let keep = old_size.min(new_size);
                let data = p.peek_mem(old_start, keep as usize)?;
                p.unmap(to, to + new_size)?;
                p.unmap(old_start, old_end)?;
                p.fill_mem(to, &data)?;
            }
            p.maps.insert(to, to + new_size);
            let kept = perms.as_deref().unwrap_or_default();
            let kept = &kept[..kept.len().min((new_size / PAGE) as usize)];
            p.set_page_runs(to, kept);
            p.set_pages(to + kept.len() as u32 * PAGE, to + new_size, last_perm);
            Ok(to)
        };
        if flags & MREMAP_FIXED != 0 {
            let (to, to_end) = user_range(new_addr, new_size)?;
            if to < old_end && old_start < to_end {
                return Err(EINVAL);
            }
            return move_to(self, to);
        }
        if new_size <= old_size {
            self.unmap(old_start + new_size, old_end)?;
            return Ok(old_start);
        }
        let grown = old_start as u64 + new_size as u64;
        if grown <= MMAP_TOP as u64 && self.maps.is_free(old_end, grown as u32) {
            if shared {
                return move_to(self, old_start);
            }
            self.maps.insert(old_end, grown as u32);
            self.set_pages(old_end, grown as u32, last_perm);
            return Ok(old_start);
        }
        if flags & MREMAP_MAYMOVE == 0 {
            return Err(ENOMEM);
        }
        let to = self.maps.find_free(new_size, self.mmap_floor(), MMAP_TOP).ok_or(ENOMEM)?;
        move_to(self, to)
    }

    /// Zeroes `len` bytes of guest memory at `addr`.
    pub(super) fn zero_mem(&mut self, addr: u32, len: u32) -> Result<(), i32> {
        if !Self::in_user(addr, len as usize) {
            return Err(EFAULT);
        }
        let zeros = vec![0u8; CHUNK.min(len as usize)];
        let mut done = 0u32;
        while done < len {
            let n = ((len - done) as usize).min(CHUNK);
            self.fill_mem(addr + done, &zeros[..n])?;
            done += n as u32;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_permissions_where_they_change() {
        let got: Vec<_> = runs(&[7, 7, 5, 0, 0, 0, 7]).collect();
        assert_eq!(got, [(0, 2, 7), (2, 3, 5), (3, 6, 0), (6, 7, 7)]);
        assert_eq!(runs(&[]).count(), 0);
        assert_eq!(perm_of(0), page_perm::MAPPED, "PROT_NONE: mapped, no access");
        assert_eq!(perm_of(4), page_perm::MAPPED | page_perm::READ, "PROT_EXEC reads on MIPS32");
        assert_eq!(DATA_PAGE, page_perm::MAPPED | page_perm::READ | page_perm::WRITE);
    }
}
